"""Create the site's signing identity (root CA + ES256 signer) on first run; print where it is."""

import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.management.base import BaseCommand

from engine.keys import ensure_site_identity, load_site_identity


class Command(BaseCommand):
    help = (
        "Create the C2PA / PDF signing identity in SITE_KEYS_DIR if it is missing (outside the "
        "repository and the database), and print its certificates' fingerprints."
    )

    def handle(self, *args, **options):
        existed = load_site_identity(settings.SITE_KEYS_DIR) is not None
        identity = ensure_site_identity(settings.SITE_KEYS_DIR, site_name=settings.SITE_NAME)
        root = x509.load_pem_x509_certificate(identity.root_pem())
        self.stdout.write(
            json.dumps(
                {
                    "created": not existed,
                    "directory": str(identity.directory),
                    "trust_anchor": str(identity.root_cert_path),
                    "chain": str(identity.chain_path),
                    "root_sha256": root.fingerprint(hashes.SHA256()).hex(),
                    "root_subject": root.subject.rfc4514_string(),
                }
            )
        )
