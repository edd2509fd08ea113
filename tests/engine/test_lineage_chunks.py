"""Renders of one lineage (a shared frame mark) share encoded chunks: a variant with one sentence of
its own encodes that sentence's frames alone and copies the rest, and is still a whole video with
its own provenance id in its sound and its manifest."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.pipeline import render
from engine.probe import probe
from engine.segment_cache import LocalSegmentCache
from engine.spec import RenderSpec
from engine.timeline import (
    Background,
    Layout,
    OnScreenText,
    OutputFormat,
    Scene,
    Segment,
    Timeline,
    Transition,
)

WIDTH, HEIGHT, FPS = 320, 180, 20
LINEAGE = "1111222233334444"
ANA, BRUNO = "a0a0a0a0a0a0a0a1", "b0b0b0b0b0b0b0b2"
COUNT_FRAMES = [
    "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
    "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
]  # fmt: skip


def variant(slide: str, name: str) -> Timeline:
    return Timeline(
        format=OutputFormat(WIDTH, HEIGHT, FPS, audio_rate=44100),  # music's rate, chosen
        lead_in_seconds=0.3,
        tail_seconds=0.4,
        scenes=[
            Scene(
                segments=[
                    Segment(f"Hello {name}."),
                    Segment("This video was made for you."),
                    Segment("Goodbye for now."),
                ],
                layout=Layout("corner", position="bottom-right", size=0.5),
                background=Background("image", path=slide),
                text=OnScreenText(title="For you"),
            )
        ],
    )


@pytest.fixture(scope="module")
def variants(tmp_path_factory, astronaut_png, landmarks):
    folder = tmp_path_factory.mktemp("lineage")
    slide = folder / "slide.png"
    Image.new("RGB", (WIDTH, HEIGHT), (40, 110, 190)).save(slide)
    cache = LocalSegmentCache(folder / "cache")
    results = {}
    for name, provenance_id in (("Ana", ANA), ("Bruno", BRUNO)):
        spec = RenderSpec(
            script_text="",
            portrait_path=str(astronaut_png),
            portrait_landmarks=landmarks,
            voice_engine="festival",
            timeline=variant(str(slide), name).to_dict(),
            provenance_id=provenance_id,
            frame_mark_id=LINEAGE,
            provenance={"provenance_id": provenance_id},
            signing_keys_dir=str(folder / "keys"),
        )
        results[name] = render(spec, folder / f"{name}.mp4", cache=cache)
    return folder, results


def test_a_variant_copies_the_chunks_of_the_segments_it_shares(variants):
    _, results = variants
    first, second = results["Ana"], results["Bruno"]
    assert (first.chunks, first.chunks_reused) == (3, 0)
    assert (second.chunks, second.chunks_reused) == (3, 2)  # only "Hello Bruno." is encoded


def test_every_variant_decodes_cleanly_end_to_end(variants):
    folder, results = variants
    for name, result in results.items():
        path = str(folder / f"{name}.mp4")
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"],
            capture_output=True,
            text=True,
        )
        assert decoded.returncode == 0 and decoded.stderr == ""
        counted = subprocess.run(
            [*COUNT_FRAMES, path],
            capture_output=True,
            text=True,
        )
        assert counted.stderr == "" and int(counted.stdout) == result.frames
        assert abs(result.audio_seconds - result.video_seconds) < 1 / FPS


def test_each_variant_carries_its_own_id_in_its_sound_and_manifest(variants):
    folder, results = variants
    anchor = (folder / "keys/root.pem").read_bytes()
    for name, provenance_id in (("Ana", ANA), ("Bruno", BRUNO)):
        info = probe(folder / f"{name}.mp4", trust_anchor_pem=anchor)
        assert info["c2pa"]["valid"] and info["c2pa"]["trusted"]
        assert info["c2pa"]["provenance"]["provenance_id"] == provenance_id
        assert info["watermark"]["audio"]["payload"] == provenance_id[:8]
        assert info["watermark"]["video"]["payload"] == LINEAGE  # the frames: the lineage's
        sound = next(s for s in info["streams"] if s["type"] == "audio")
        assert (sound["sample_rate"], sound["channels"]) == (44100, 2)
        assert results[name].provenance_id == provenance_id
        assert results[name].frame_mark_id == LINEAGE


def test_a_frame_mark_must_be_sixteen_hex_digits():
    spec = RenderSpec(script_text="Hi.", portrait_path="p.png", frame_mark_id="not-hex")
    with pytest.raises(ValueError, match="frame_mark_id"):
        spec.validate()


class CacheMissingOneChunk(LocalSegmentCache):
    """A cache that has lost one chunk: the first of the second scene."""

    def fetch(self, key: str, folder: Path) -> bool:
        return Path(folder).name != "chunk-1-0" and super().fetch(key, folder)


def frames_of(path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, HEIGHT, WIDTH, 3)


def test_a_chunk_made_again_beside_copied_ones_is_the_same_chunk(
    tmp_path, astronaut_png, landmarks
):
    """The second scene fades in from the first one's last frame, which was copied as part of
    an encoded chunk: it is composed again, and the video is the one made the first time."""
    slide = tmp_path / "slide.png"
    Image.new("RGB", (WIDTH, HEIGHT), (40, 110, 190)).save(slide)
    timeline = variant(str(slide), "Ana")
    timeline.scenes[0].segments = timeline.scenes[0].segments[:2]
    timeline.scenes[0].transition = Transition("crossfade", 0.4)
    timeline.scenes.append(
        Scene(duration=1.0, layout=Layout("voice_over"), text=OnScreenText(title="Thanks"))
    )
    results = []
    for provenance_id, cache in (
        (ANA, LocalSegmentCache(tmp_path / "cache")),
        (BRUNO, CacheMissingOneChunk(tmp_path / "cache")),
    ):
        spec = RenderSpec(
            script_text="",
            portrait_path=str(astronaut_png),
            portrait_landmarks=landmarks,
            voice_engine="festival",
            timeline=timeline.to_dict(),
            provenance_id=provenance_id,
            frame_mark_id=LINEAGE,
        )
        results.append(render(spec, tmp_path / f"{provenance_id}.mp4", cache=cache))
    assert [(r.chunks, r.chunks_reused) for r in results] == [(3, 0), (3, 2)]
    assert np.array_equal(frames_of(tmp_path / f"{ANA}.mp4"), frames_of(tmp_path / f"{BRUNO}.mp4"))
