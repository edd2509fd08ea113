"""C2PA manifests: signed with the site's identity, read back with the site root as trust anchor."""

import subprocess

import pytest

from engine.c2pa import TRAINED_ALGORITHMIC_MEDIA, read_manifest, sign_mp4
from engine.keys import ensure_site_identity

LINK = {"provenance_id": "0123456789abcdef", "grant_sha256": "ab" * 32, "site": "Likeness"}


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return ensure_site_identity(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signed(tmp_path_factory, identity):
    folder = tmp_path_factory.mktemp("c2pa")
    subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=25:d=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(folder / "plain.mp4"),
        ],
        check=True,
    )
    sign_mp4(
        folder / "plain.mp4",
        folder / "signed.mp4",
        chain_pem=identity.chain_pem(),
        key_pem=identity.signer_key_pem(),
        provenance=LINK,
    )
    return folder


def test_a_signed_file_reads_valid_and_trusted_with_the_site_root(signed, identity):
    manifest = read_manifest(signed / "signed.mp4", identity.root_pem())
    assert manifest["present"] and manifest["valid"] and manifest["trusted"]
    assert manifest["state"] == "Trusted" and manifest["errors"] == []
    assert manifest["signer"] == "Likeness signer"


def test_the_manifest_says_what_made_the_file_and_links_the_record(signed, identity):
    manifest = read_manifest(signed / "signed.mp4", identity.root_pem())
    assert manifest["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert manifest["generator"].startswith("Likeness engine")
    assert manifest["provenance"] == LINK


def test_without_a_trust_anchor_the_signature_is_valid_but_not_trusted(signed):
    manifest = read_manifest(signed / "signed.mp4")
    assert manifest["valid"] and not manifest["trusted"]


def test_another_sites_root_does_not_make_it_trusted(signed, tmp_path):
    stranger = ensure_site_identity(tmp_path / "other", site_name="Other")
    manifest = read_manifest(signed / "signed.mp4", stranger.root_pem())
    assert manifest["valid"] and not manifest["trusted"]


def test_a_tampered_file_reads_as_tampered(signed, identity, tmp_path):
    data = bytearray((signed / "signed.mp4").read_bytes())
    data[-300] ^= 0xFF  # one byte of the media data
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    manifest = read_manifest(tampered, identity.root_pem())
    assert manifest["present"] and not manifest["valid"] and not manifest["trusted"]
    assert any("mismatch" in code for code in manifest["errors"])


def test_an_unsigned_file_has_no_manifest(signed, identity):
    manifest = read_manifest(signed / "plain.mp4", identity.root_pem())
    assert manifest["present"] is False and manifest["valid"] is False
