"""Encrypt the likeness files stored before encryption at rest (they still read meanwhile)."""

from django.core.management.base import BaseCommand

from consent.likeness_keys import encrypt_legacy_files


class Command(BaseCommand):
    help = "Encrypt every portrait, voice sample, reference and clip still stored in the clear."

    def handle(self, *args, **options):
        self.stdout.write(f"{encrypt_legacy_files()} files encrypted.")
