"""Re-wrap every data key under a new master key (and optionally re-encrypt every file).

Set LIKENESS_MASTER_KEY to the new key first, then give the old one:
    LIKENESS_OLD_MASTER_KEY=... python manage.py rotate_master_key [--reencrypt]
"""

import os

from django.core.management.base import BaseCommand, CommandError

from consent.likeness_keys import reencrypt_under_new_keys, rewrap_data_keys
from core.crypto import DecryptionError, master_key, parse_master_key


class Command(BaseCommand):
    help = "Re-wrap every data key under LIKENESS_MASTER_KEY (old key in LIKENESS_OLD_MASTER_KEY)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--old-key-file", help="a file holding the old master key (else the environment)"
        )
        parser.add_argument(
            "--reencrypt",
            action="store_true",
            help="also give every consent a new data key and rewrite its files under it",
        )

    def handle(self, *args, old_key_file=None, reencrypt=False, **options):
        if old_key_file:
            with open(old_key_file) as handle:
                old_text = handle.read().strip()
        else:
            old_text = os.environ.get("LIKENESS_OLD_MASTER_KEY", "")
        if not old_text:
            raise CommandError(
                "Give the old master key: LIKENESS_OLD_MASTER_KEY or --old-key-file."
            )
        try:
            old_master = parse_master_key(old_text)
            rewrapped = rewrap_data_keys(old_master=old_master, new_master=master_key())
        except (ValueError, DecryptionError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{rewrapped} data keys re-wrapped under the new master key.")
        if reencrypt:
            files = reencrypt_under_new_keys()
            self.stdout.write(f"{files} files re-encrypted under new data keys.")
