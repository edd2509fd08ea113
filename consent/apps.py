from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"

    def ready(self):
        from django.core import checks

        from consent.models import GrantKeyring
        from core import crypto

        crypto.set_keyring(GrantKeyring())
        checks.register(crypto.check_master_key, checks.Tags.security, deploy=True)
