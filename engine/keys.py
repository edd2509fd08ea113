"""The site's signing identity: a root CA and an ES256 (P-256) end-entity certificate under it.

One identity signs C2PA manifests and consent certificates (PDF). It is created once, on first use
or by a management command, in a directory outside the repository and the database; the private
key file is readable by its owner only. Verifiers use the root as their trust anchor.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_CERT = "root.pem"
ROOT_KEY = "root.key"
SIGNER_CERT = "signer.pem"
SIGNER_KEY = "signer.key"
SIGNER_CHAIN = "signer-chain.pem"  # signer first, then root: what C2PA and pyHanko embed

_lock = threading.Lock()


@dataclass(frozen=True)
class SiteIdentity:
    directory: Path
    root_cert_path: Path
    signer_cert_path: Path
    signer_key_path: Path
    chain_path: Path

    def root_pem(self) -> bytes:
        return self.root_cert_path.read_bytes()

    def chain_pem(self) -> bytes:
        return self.chain_path.read_bytes()

    def signer_key_pem(self) -> bytes:
        return self.signer_key_path.read_bytes()


def _identity(directory: Path) -> SiteIdentity:
    return SiteIdentity(
        directory=directory,
        root_cert_path=directory / ROOT_CERT,
        signer_cert_path=directory / SIGNER_CERT,
        signer_key_path=directory / SIGNER_KEY,
        chain_path=directory / SIGNER_CHAIN,
    )


def load_site_identity(directory: str | Path) -> SiteIdentity | None:
    identity = _identity(Path(directory))
    paths = (
        identity.root_cert_path,
        identity.signer_cert_path,
        identity.signer_key_path,
        identity.chain_path,
    )
    return identity if all(p.exists() for p in paths) else None


def ensure_site_identity(directory: str | Path, *, site_name: str = "Likeness") -> SiteIdentity:
    """Load the identity from `directory`, creating it the first time."""
    directory = Path(directory)
    with _lock:
        existing = load_site_identity(directory)
        if existing is not None:
            return existing
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        return _create(directory, site_name)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def _create(directory: Path, site_name: str) -> SiteIdentity:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, site_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{site_name} provenance root"),
        ]
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, site_name),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{site_name} signer"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # C2PA readers require an EKU on the signer; emailProtection is one they accept.
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    identity = _identity(directory)
    _write_key(directory / ROOT_KEY, root_key)
    _write_key(identity.signer_key_path, signer_key)
    root_pem = root.public_bytes(serialization.Encoding.PEM)
    signer_pem = signer.public_bytes(serialization.Encoding.PEM)
    identity.root_cert_path.write_bytes(root_pem)
    identity.signer_cert_path.write_bytes(signer_pem)
    identity.chain_path.write_bytes(signer_pem + root_pem)  # written last: its presence means done
    return identity
