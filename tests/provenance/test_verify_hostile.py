"""The public verify page and API under hostile input: every upload is answered within seconds,
what cannot be read is refused with a reason, and the report claims no more than it found."""

import os
import signal
import struct
import subprocess
import zlib
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine.c2pa import read_manifest
from tests.factories import ProvenanceRecordFactory
from tests.provenance.conftest import PAYLOAD

pytestmark = pytest.mark.django_db

# A refusal takes well under a second; the alarm ends a hang. Generous, so that a slow, busy
# machine never fails a test: what is tested is that an answer comes, not how fast.
ANSWER_SECONDS = 30
UNREADABLE = "not a video or audio file we can read"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@contextmanager
def answered_within(seconds: float):
    """Fail (rather than hang) when the block runs longer than ``seconds``: SIGALRM interrupts a
    busy loop as well as a wait on a subprocess."""

    def expired(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def png(width: int, height: int, rows: bytes) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose image data is ``rows``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    """The first 1,000 bytes of an ordinary 64x64 photo-like PNG."""
    whole = png(64, 64, b"".join(b"\0" + os.urandom(64 * 3) for _ in range(64)))
    assert len(whole) > 1000
    return whole[:1000]


def huge_png() -> bytes:
    """A PNG claiming 30000x30000 pixels with four rows of data: a few hundred bytes."""
    return png(30000, 30000, (b"\0" + b"\0" * 30000 * 3) * 4)


HOSTILE = {
    "truncated.png": truncated_png,
    "huge.png": huge_png,
    "random.bin": lambda: os.urandom(200_000),
    "random.mp4": lambda: os.urandom(200_000),
}


def ffmpeg(*args):
    cmd = ["ffmpeg", "-y", "-v", "error", "-nostdin", *map(str, args)]
    subprocess.run(cmd, check=True, timeout=60)


def post(client, url_name, name, content):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    with answered_within(ANSWER_SECONDS):
        return client.post(reverse(url_name), {"file": upload})


@pytest.mark.parametrize("name", HOSTILE)
def test_the_api_refuses_what_it_cannot_read_within_seconds(client, name):
    response = post(client, "provenance:verify_api", name, HOSTILE[name]())
    problem = response.json()
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400 and UNREADABLE in problem["detail"]
    assert name in problem["detail"] and "upload" not in problem["detail"]


@pytest.mark.parametrize("name", HOSTILE)
def test_the_page_refuses_what_it_cannot_read_within_seconds(client, name):
    response = post(client, "provenance:verify", name, HOSTILE[name]())
    body = response.content.decode()
    assert response.status_code == 400 and UNREADABLE in body and 'id="result"' not in body


def test_an_empty_file_is_refused_by_the_api(client):
    response = post(client, "provenance:verify_api", "empty.mp4", b"")
    assert response.status_code == 400 and UNREADABLE in response.json()["detail"]


def test_an_empty_file_is_refused_by_the_page(client):
    response = post(client, "provenance:verify", "empty.mp4", b"")
    assert response.status_code == 400 and UNREADABLE in response.content.decode()


def test_a_request_without_a_file_is_refused_by_the_api(client):
    with answered_within(ANSWER_SECONDS):
        response = client.post(reverse("provenance:verify_api"), {})
    assert response.status_code == 400
    assert response.json()["detail"] == "Choose a video or audio file to check."


def test_a_request_without_a_file_is_refused_by_the_page(client):
    with answered_within(ANSWER_SECONDS):
        response = client.post(reverse("provenance:verify"), {})
    assert response.status_code == 400
    assert "Choose a video or audio file to check." in response.content.decode()


def test_frames_larger_than_the_limit_are_refused_before_decoding(client, settings, tmp_path):
    settings.VERIFY_MAX_SIDE = 128
    video = tmp_path / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:d=1", "-pix_fmt", "yuv420p", video)
    response = post(client, "provenance:verify_api", "wide.mp4", video.read_bytes())
    assert response.status_code == 400 and "320x240" in response.json()["detail"]


def test_a_decode_that_never_ends_is_cut_by_its_timeout(tmp_path, monkeypatch):
    """ffmpeg writing frames forever (a stalled or endless stream) is killed after the timeout."""
    from engine import watermark

    endless = tmp_path / "endless.sh"
    endless.write_text("#!/bin/sh\nexec cat /dev/zero\n")
    endless.chmod(0o755)
    probe = tmp_path / "probe.sh"
    probe.write_text("#!/bin/sh\necho 64,64\n")
    probe.chmod(0o755)
    tools = {"ffmpeg": str(endless), "ffprobe": str(probe)}
    monkeypatch.setattr(watermark, "require_tool", tools.__getitem__)
    monkeypatch.setattr(watermark, "MAX_FRAMES", 10**9)
    with answered_within(ANSWER_SECONDS), pytest.raises(watermark.WatermarkReadTimeout):
        watermark.read_video_mark(tmp_path / "any.mp4", timeout=1)


# --- the report tells the truth -------------------------------------------------------------


@pytest.fixture
def plain_video(tmp_path):
    path = tmp_path / "plain.mp4"
    sources = "-f lavfi -i testsrc=size=160x120:rate=25:d=2 -f lavfi -i sine=frequency=300:d=2"
    ffmpeg(*sources.split(), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", path)
    return path


def test_an_unreadable_c2pa_store_is_not_a_manifest(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(200_000))
    manifest = read_manifest(junk)
    assert manifest["store"] in ("unreadable", "unsupported")
    assert manifest["present"] is False and manifest["valid"] is False and manifest["errors"]


def test_a_broken_manifest_store_is_reported_as_broken_never_as_a_mark(
    client, plain_video, monkeypatch, tmp_path
):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(200_000))
    broken = read_manifest(junk)
    monkeypatch.setattr("engine.probe.read_manifest", lambda path, anchor=None: broken)
    response = post(client, "provenance:verify", "clip.mp4", plain_video.read_bytes())
    body = response.content.decode()
    assert response.status_code == 200
    assert "No sign that this file is AI-generated" in body and "Marked as AI" not in body
    assert 'id="c2pa-unreadable"' in body or 'id="c2pa-unsupported"' in body


def test_an_unmarked_video_is_not_called_ai_generated(client, plain_video):
    response = post(client, "provenance:verify_api", "clip.mp4", plain_video.read_bytes())
    report = response.json()
    assert report["marked"] is False and report["evidence"] == []
    assert report["c2pa"]["store"] == "absent"


def test_the_report_names_the_upload_by_its_own_name_escaped(client, plain_video):
    name = "<i>holiday & co.mp4"
    api = post(client, "provenance:verify_api", name, plain_video.read_bytes())
    assert api.json()["file"]["name"] == name
    page = post(client, "provenance:verify", name, plain_video.read_bytes())
    body = page.content.decode()
    assert "&lt;i&gt;holiday &amp; co.mp4" in body and "<i>holiday" not in body
    assert "upload.mp4" not in body


def test_a_marked_video_names_its_evidence_with_confidence(client, signed_video):
    ProvenanceRecordFactory(payload_id=PAYLOAD, audio_prefix=PAYLOAD[:8])
    response = post(client, "provenance:verify_api", "mine.mp4", signed_video.read_bytes())
    evidence = {item["kind"]: item for item in response.json()["evidence"]}
    assert evidence["c2pa"]["trusted"] is True
    assert 0 < evidence["video watermark"]["confidence"] <= 1
    assert 0 < evidence["audio watermark"]["confidence"] <= 1


def test_the_record_page_prints_a_readable_date(client):
    record = ProvenanceRecordFactory(payload_id=PAYLOAD)
    response = client.get(reverse("provenance:record", args=[PAYLOAD]))
    made = record.created_at
    assert f"{made:%Y-%m-%d %H:%M} UTC" in response.content.decode()


def test_the_sites_root_certificate_is_offered_to_anyone(client):
    """What a consent certificate and a C2PA manifest say to check them against."""
    from cryptography import x509

    page = client.get(reverse("provenance:verify")).content.decode()
    url = reverse("provenance:site_root_certificate")
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    root = x509.load_pem_x509_certificate(response.content)
    assert root.subject == root.issuer  # the self-signed root, not the signer below it
    from provenance.services import trust_anchor

    assert response.content == trust_anchor()
