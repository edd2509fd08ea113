"""The public verification page and API: no login, rate-limited, size-limited, no personal data."""

import subprocess

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import ProvenanceRecordFactory
from tests.provenance.conftest import PAYLOAD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def record():
    return ProvenanceRecordFactory(payload_id=PAYLOAD, audio_prefix=PAYLOAD[:8])


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-nostdin", *args], check=True)


def upload(client, path, url="provenance:verify_api"):
    with open(path, "rb") as handle:
        return client.post(reverse(url), {"file": handle})


def test_the_verify_page_needs_no_login(client):
    response = client.get(reverse("provenance:verify"))
    assert response.status_code == 200 and b"Check the file" in response.content


def test_a_signed_render_is_matched_to_its_record(client, record, signed_video):
    report = upload(client, signed_video).json()
    assert report["c2pa"]["valid"] and report["c2pa"]["trusted"]
    assert report["c2pa"]["signer"] == "Likeness signer"
    assert report["matched_by"] == "c2pa"
    assert report["record"]["provenance_id"] == PAYLOAD
    assert report["record"]["workspace"] == record.workspace.name
    assert report["watermark"]["video"]["payload"] == PAYLOAD
    assert report["watermark"]["audio"]["payload"] == PAYLOAD[:8]


def test_the_report_says_how_far_the_sound_reaches_whatever_its_rate(client, signed_video):
    sound = next(
        s for s in upload(client, signed_video).json()["file"]["streams"] if s["type"] == "audio"
    )
    assert (sound["sample_rate"], sound["channels"]) == (48000, 2)
    assert sound["bandwidth_hz"] <= 17000  # festival's 32 kHz speech, not 24 kHz of band


def test_the_report_never_shows_the_subjects_personal_data(client, record, signed_video):
    response = upload(client, signed_video, url="provenance:verify")
    subject = record.grant.subject
    body = response.content.decode()
    assert response.status_code == 200 and PAYLOAD in body
    assert subject.full_name not in body and subject.email not in body
    assert record.job.script_text not in body


def test_a_stripped_reencoded_file_is_still_matched_by_its_watermark(
    client, record, signed_video, tmp_path
):
    stripped = tmp_path / "stripped.mp4"
    attack = [
        "-map_metadata",
        "-1",
        "-vf",
        "scale=-2:360",
        "-c:v",
        "libx264",
        "-crf",
        "28",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
    ]
    ffmpeg("-i", str(signed_video), *attack, str(stripped))
    report = upload(client, stripped).json()
    assert report["c2pa"]["present"] is False
    assert report["matched_by"] in ("video watermark", "audio watermark")
    assert report["record"]["provenance_id"] == PAYLOAD


def test_a_tampered_file_reads_as_tampered(client, record, signed_video, tmp_path):
    data = bytearray(signed_video.read_bytes())
    data[-500] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = upload(client, tampered).json()
    assert report["c2pa"]["present"] and not report["c2pa"]["valid"]
    assert report["matched_by"] != "c2pa"  # an invalid manifest is never trusted for the match


def test_an_unmarked_file_is_not_matched(client, record, tmp_path):
    plain = tmp_path / "plain.mp4"
    sources = "-f lavfi -i testsrc=size=320x240:rate=25:d=4 -f lavfi -i sine=frequency=300:d=4"
    ffmpeg(*sources.split(), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(plain))
    report = upload(client, plain).json()
    assert report["marked"] is False and report["record"] is None
    assert not report["watermark"]["video"]["found"] and not report["watermark"]["audio"]["found"]


def test_garbage_is_refused_with_a_reason(client, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 50)
    response = upload(client, junk)
    assert response.status_code == 400 and "error" in response.json()


def test_files_over_the_size_limit_are_refused(client, settings, tmp_path):
    settings.VERIFY_MAX_BYTES = 1000
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * 200_000)
    response = upload(client, big)
    assert response.status_code == 413


def test_checks_are_rate_limited_per_address(client, settings, tmp_path):
    settings.VERIFY_RATE_PER_MINUTE = 2
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"junk" * 10)
    statuses = [upload(client, junk).status_code for _ in range(3)]
    assert statuses[:2] == [400, 400] and statuses[2] == 429


def test_the_public_record_page_shows_a_revocation(client, record):
    from django.utils import timezone

    record.grant.revoke(reason="no longer", at=timezone.now())
    response = client.get(reverse("provenance:record", args=[PAYLOAD]))
    assert response.status_code == 200 and b"Revoked" in response.content
    assert record.grant.subject.full_name.encode() not in response.content


def test_a_manifest_signed_with_anyone_elses_key_never_matches_a_record(client, record, tmp_path):
    """An attacker signs an unmarked file with their own identity and writes a real record's
    provenance id into the manifest: the manifest is valid but not trusted, so it matches
    nothing, and the page does not call the file ours."""
    from engine.c2pa import sign_mp4
    from engine.keys import ensure_site_identity

    plain = tmp_path / "plain.mp4"
    sources = "-f lavfi -i testsrc=size=320x240:rate=25:d=3 -f lavfi -i sine=frequency=300:d=3"
    ffmpeg(*sources.split(), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(plain))
    attacker = ensure_site_identity(tmp_path / "attacker-keys", site_name="Likeness")
    forged = tmp_path / "forged.mp4"
    sign_mp4(
        plain,
        forged,
        chain_pem=attacker.chain_pem(),
        key_pem=attacker.signer_key_pem(),
        provenance={"provenance_id": PAYLOAD, "grant_sha256": "ab" * 32},
    )
    report = upload(client, forged).json()
    assert report["c2pa"]["present"] and report["c2pa"]["valid"]
    assert report["c2pa"]["trusted"] is False
    assert report["record"] is None and report["matched_by"] is None
