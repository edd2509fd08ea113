from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing import receivers  # noqa: F401 (reserve, settle and release on render signals)
