from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from consent import services


class Command(BaseCommand):
    help = (
        "Record expired consents in the ledger, then delete the biometric data (clips, reference "
        "and avatar photos and voices, landmarks) of consents revoked, rejected or expired longer "
        "ago than CONSENT_BIOMETRIC_RETENTION_DAYS. Run it daily."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        expired = services.record_expiries(now)
        erased = services.erase_biometrics(now)
        self.stdout.write(
            f"{expired} consent(s) newly expired; biometric data erased for {len(erased)} "
            f"consent(s) (retention {settings.CONSENT_BIOMETRIC_RETENTION_DAYS} days)"
            + (f": {', '.join(map(str, erased))}" if erased else "")
        )
