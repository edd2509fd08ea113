"""Verifying a video of a lineage (renders sharing a frame mark: a campaign's variants): the
manifest or the sound names the exact render, even after re-encoding; the frames alone name only
the lineage, and the report says so without guessing which video it is."""

import subprocess
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from provenance.models import ProvenanceRecord
from provenance.receivers import link_published_video
from provenance.services import public_report, verify_path
from tests.factories import (
    AvatarFactory,
    ProvenanceRecordFactory,
    RenderJobFactory,
    finished_video,
)

pytestmark = pytest.mark.django_db

LINEAGE = "5a5a5a5a11112222"
ANA, BRUNO = "a11ce00000000a01", "b0b00000000000b2"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture(scope="session")
def variants(tmp_path_factory, keys_dir):
    """Two signed variants of one lineage: the first sentence names the recipient, the rest is
    shared (and copied from the first render's chunks by the second)."""
    from engine.demo import write_demo_assets
    from engine.pipeline import render
    from engine.segment_cache import LocalSegmentCache
    from engine.spec import RenderSpec
    from engine.timeline import Segment, one_scene

    folder = tmp_path_factory.mktemp("lineage")
    assets = write_demo_assets(folder / "demo")
    chunks = LocalSegmentCache(folder / "cache")
    results = {}
    for name, payload in (("Ana", ANA), ("Bruno", BRUNO)):
        timeline = one_scene("", width=512, height=512, fps=25)
        timeline.scenes[0].segments = [
            Segment(f"Hello {name}, this message was recorded for you."),
            Segment("It is a synthetic video, made with the consent of the person it shows."),
        ]
        spec = RenderSpec(
            script_text="",
            portrait_path=assets.portrait_path,
            voice_engine="festival",
            voice_sample_paths=[assets.voice_sample_path],
            timeline=timeline.to_dict(),
            provenance_id=payload,
            frame_mark_id=LINEAGE,
            provenance={"provenance_id": payload},
            signing_keys_dir=str(keys_dir),
        )
        results[payload] = render(spec, folder / f"{name}.mp4", cache=chunks)
    assert results[BRUNO].chunks_reused == 1  # the shared sentence was copied, not encoded
    return {payload: folder / f"{name}.mp4" for name, payload in (("Ana", ANA), ("Bruno", BRUNO))}


@pytest.fixture
def records():
    return {
        payload: ProvenanceRecordFactory(
            payload_id=payload, audio_prefix=payload[:8], frame_mark_id=LINEAGE
        )
        for payload in (ANA, BRUNO)
    }


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-nostdin", *args], check=True)


@pytest.mark.parametrize("payload", [ANA, BRUNO])
def test_an_untouched_variant_is_matched_to_its_own_record_by_its_manifest(
    records, variants, payload
):
    report = verify_path(variants[payload]).report
    assert report["matched_by"] == "c2pa"
    assert report["record"]["provenance_id"] == payload
    assert report["watermark"]["video"]["payload"] == LINEAGE


@pytest.mark.parametrize("payload", [ANA, BRUNO])
def test_a_reencoded_variant_is_matched_to_its_own_record_not_its_sibling(
    records, variants, payload, tmp_path
):
    copy = tmp_path / "copy.mp4"
    ffmpeg(
        "-i", str(variants[payload]), "-map_metadata", "-1", "-vf", "scale=iw/2:-2",
        "-c:v", "libx264", "-crf", "28", "-c:a", "aac", "-b:a", "64k", str(copy),
    )  # fmt: skip
    report = verify_path(copy).report
    assert report["c2pa"]["present"] is False
    assert report["matched_by"] == "audio watermark"
    assert report["record"]["provenance_id"] == payload
    assert report["lineage"] is None


def test_a_variant_without_its_sound_is_traced_to_its_lineage_only(
    records, variants, tmp_path, client
):
    silent = tmp_path / "silent.mp4"
    ffmpeg("-i", str(variants[ANA]), "-map_metadata", "-1", "-an", "-c:v", "copy", str(silent))
    report = verify_path(silent).report
    assert report["record"] is None  # two videos share these frames: no guess between them
    assert report["matched_by"] == "video watermark (lineage)"
    assert report["lineage"] == {"frame_mark_id": LINEAGE, "videos": 2}
    assert report["marked"]
    # The page says so in words: one of a series, and why it cannot say which.
    with silent.open("rb") as handle:
        page = client.post(reverse("provenance:verify"), {"file": handle}).content.decode()
    assert "one of 2 videos of one series" in page and 'id="lineage"' in page


def probed(*, video=None, audio=None) -> dict:
    """What ``engine.probe`` says of a file with no manifest and these watermark payloads."""
    return {
        "path": "x.mp4",
        "format": "mp4",
        "duration": 2.0,
        "size_bytes": 1,
        "streams": [],
        "c2pa": {
            "store": "none",
            "present": False,
            "valid": False,
            "trusted": False,
            "state": None,
            "signer": None,
            "issuer": None,
            "signed_at": None,
            "generator": None,
            "digital_source_type": None,
            "errors": [],
            "provenance": None,
        },
        "watermark": {
            "video": {"found": True, "payload": video, "confidence": 1.0} if video else None,
            "audio": {"found": True, "payload": audio, "confidence": 1.0} if audio else None,
            "provenance_id": video,
        },
        "visible_label": None,
        "synthetic": {},
    }


def test_a_lineage_of_one_video_is_that_video():
    record = ProvenanceRecordFactory(payload_id=ANA, audio_prefix=ANA[:8], frame_mark_id=LINEAGE)
    report = public_report(probed(video=LINEAGE))
    assert report["matched_by"] == "video watermark"
    assert report["record"]["provenance_id"] == record.payload_id


def test_a_sound_mark_from_outside_the_lineage_does_not_pick_a_video(records):
    report = public_report(probed(video=LINEAGE, audio="0123abcd"))
    assert report["record"] is None and report["lineage"]["videos"] == 2


def test_an_ordinary_record_is_marked_with_its_own_id():
    record = ProvenanceRecordFactory(payload_id=ANA, audio_prefix=ANA[:8])
    assert ProvenanceRecord.objects.get(pk=record.pk).frame_mark_id == ANA
    assert public_report(probed(video=ANA))["record"]["provenance_id"] == ANA


def test_publishing_keeps_the_mark_the_frames_carry():
    video = finished_video(AvatarFactory())
    record = ProvenanceRecordFactory(job=video.job, payload_id=ANA, audio_prefix=ANA[:8])
    result = SimpleNamespace(frame_mark_id=LINEAGE, c2pa_signed=True, voice_engine="festival")
    link_published_video(sender=None, video=video, result=result)
    record.refresh_from_db()
    assert (record.video, record.frame_mark_id, record.payload_id) == (video, LINEAGE, ANA)


def test_a_job_of_a_lineage_gets_a_record_marked_with_the_lineage():
    record = ProvenanceRecord.for_job(RenderJobFactory(frame_mark_id=LINEAGE))
    assert record.frame_mark_id == LINEAGE and record.payload_id != LINEAGE
    ordinary = ProvenanceRecord.for_job(RenderJobFactory())
    assert ordinary.frame_mark_id == ordinary.payload_id
