"""Announce consents that run out within CONSENT_EXPIRING_DAYS (webhook + email), once each.
Run it daily, next to erase_biometrics."""

from django.core.management.base import BaseCommand

from api import events


class Command(BaseCommand):
    help = "Send consent.expiring for active consents that run out soon (once per consent)."

    def handle(self, *args, **options):
        sent = events.announce_expiring()
        self.stdout.write(f"Announced {sent} expiring consent(s).")
