"""A timeline's chapters inside the MP4 (what ``ffprobe -show_chapters`` lists, still there once
signed) and its captions burned into the picture by choice: rendered for real, decoded, measured."""

import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from engine.captions import Cue
from engine.compose import BurnedCaptions
from engine.encode import VideoEncoder, ffmetadata_escape
from engine.errors import TimelineError
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
)

WIDTH, HEIGHT, FPS = 320, 180, 20
PROVENANCE = "0123456789abcdef"
LINEAGE = "1111222233334444"
ODD_TITLE = 'Intro = "one"; #1 \\ done'
# Where a burned caption sits (its box is centred at the bottom) and a band clear of it.
CAPTION_BAND = (slice(HEIGHT * 5 // 6, HEIGHT - 4), slice(WIDTH * 3 // 10, WIDTH * 7 // 10))
TOP_BAND = (slice(0, HEIGHT // 2), slice(0, WIDTH))


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    path = tmp_path_factory.mktemp("slides") / "slide.png"
    Image.new("RGB", (WIDTH, HEIGHT), (30, 120, 200)).save(path)
    return str(path)


def two_scenes(slide: str, *, burn: bool = False) -> Timeline:
    return Timeline(
        format=OutputFormat(WIDTH, HEIGHT, FPS),
        lead_in_seconds=0.3,
        tail_seconds=0.4,
        burn_captions=burn,
        scenes=[
            Scene(
                segments=[Segment("Welcome to the lesson.")],
                layout=Layout("corner", position="top-left", size=0.4),
                background=Background("image", path=slide),
                title=ODD_TITLE,
            ),
            Scene(
                segments=[Segment("That is all for today.")],
                layout=Layout("voice_over"),
                background=Background("color", color="#204060"),
                text=OnScreenText(title="Summary"),
            ),
        ],
    )


def spec_of(timeline: Timeline, portrait, landmarks, keys, **extra) -> RenderSpec:
    return RenderSpec(
        script_text="",
        portrait_path=str(portrait),
        portrait_landmarks=landmarks,
        voice_engine="festival",
        timeline=timeline.to_dict(),
        provenance_id=PROVENANCE,
        provenance={"provenance_id": PROVENANCE},
        signing_keys_dir=str(keys),
        **extra,
    )


def chapters_of(path) -> list[dict]:
    listed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(listed.stdout)["chapters"]


def frames_of(path, width=WIDTH, height=HEIGHT) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def speech_cues(video_path) -> list[tuple[float, float, str]]:
    """The SRT's cues after the disclosure cue: (start, end seconds, text)."""
    blocks = video_path.with_suffix(".srt").read_text().strip().split("\n\n")[1:]
    cues = []
    for block in blocks:
        _, times, *lines = block.split("\n")
        start, end = (_seconds(t.strip()) for t in times.split("-->"))
        cues.append((start, end, " ".join(lines)))
    return cues


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def mean_difference(a: np.ndarray, b: np.ndarray, band) -> float:
    return float(np.abs(a[band].astype(np.int16) - b[band].astype(np.int16)).mean())


@pytest.fixture(scope="module")
def renders(tmp_path_factory, astronaut_png, landmarks, slide):
    """The two-scene lesson rendered and signed without captions in the picture, then with."""
    folder = tmp_path_factory.mktemp("chapters")
    cache = LocalSegmentCache(folder / "cache")
    keys = folder / "keys"
    plain = render(
        spec_of(two_scenes(slide), astronaut_png, landmarks, keys),
        folder / "plain.mp4",
        cache=cache,
    )
    burned = render(
        spec_of(two_scenes(slide, burn=True), astronaut_png, landmarks, keys),
        folder / "burned.mp4",
        cache=cache,
    )
    return folder, plain, burned


def test_the_mp4_lists_one_chapter_per_titled_scene_from_where_the_scene_starts(renders):
    folder, plain, _ = renders
    chapters = chapters_of(folder / "plain.mp4")
    assert [c["tags"]["title"] for c in chapters] == [ODD_TITLE, "Summary"]
    first, second = chapters
    assert float(first["start_time"]) == pytest.approx(0.0, abs=1 / FPS)
    assert float(second["start_time"]) == pytest.approx(plain.scenes[0]["seconds"], abs=1 / FPS)
    assert float(first["end_time"]) == pytest.approx(float(second["start_time"]), abs=1e-3)
    assert float(second["end_time"]) == pytest.approx(plain.video_seconds, abs=1 / FPS)


def test_the_signed_file_with_chapters_still_verifies(renders):
    folder, plain, _ = renders
    assert plain.c2pa_signed
    info = probe(folder / "plain.mp4", trust_anchor_pem=(folder / "keys/root.pem").read_bytes())
    assert info["c2pa"]["valid"] and info["c2pa"]["trusted"]
    assert info["c2pa"]["provenance"]["provenance_id"] == PROVENANCE
    assert info["watermark"]["video"]["payload"] == PROVENANCE
    assert info["watermark"]["audio"]["payload"] == PROVENANCE[:8]
    assert info["visible_label"]["found"]


def test_a_one_scene_render_lists_no_chapters(tmp_path, astronaut_png, landmarks):
    spec = RenderSpec(
        script_text="Hello there.",
        portrait_path=str(astronaut_png),
        portrait_landmarks=landmarks,
        voice_engine="festival",
        width=256,
        height=144,
        provenance_id=PROVENANCE,
    )
    render(spec, tmp_path / "one.mp4")
    assert chapters_of(tmp_path / "one.mp4") == []
    assert not (tmp_path / "one.chapters.vtt").exists()


def test_a_title_with_every_special_character_and_a_newline_round_trips(tmp_path):
    titles = ["a=b;c#d\\e", "two\nlines", "plain"]
    encoder = VideoEncoder(
        tmp_path / "c.mp4",
        64,
        64,
        10,
        None,
        {},
        [(0.0, 0.5, titles[0]), (0.5, 1.0, titles[1]), (1.0, 1.5, titles[2])],
    )
    for value in range(15):
        encoder.write(np.full((64, 64, 3), value * 10, np.uint8))
    encoder.finish()
    chapters = chapters_of(tmp_path / "c.mp4")
    assert [c["tags"]["title"] for c in chapters] == titles
    assert [float(c["start_time"]) for c in chapters] == [0.0, 0.5, 1.0]
    assert not list(tmp_path.glob(".*chapters*"))  # the metadata file is cleaned up


def test_ffmetadata_specials_are_escaped_with_a_backslash():
    assert ffmetadata_escape("a=b;c#d\\e\nf\rg\x00h") == "a\\=b\\;c\\#d\\\\e\\\nf\\\ngh"


def test_burned_captions_show_in_the_bottom_band_while_a_cue_is_up(renders):
    folder, _, _ = renders
    unburned, captioned = frames_of(folder / "plain.mp4"), frames_of(folder / "burned.mp4")
    assert captioned.shape == unburned.shape
    start, end, _ = speech_cues(folder / "burned.mp4")[0]
    inside = round((start + end) / 2 * FPS)
    bottom = mean_difference(captioned[inside], unburned[inside], CAPTION_BAND)
    top = mean_difference(captioned[inside], unburned[inside], TOP_BAND)
    before = mean_difference(captioned[1], unburned[1], CAPTION_BAND)  # the lead-in: no cue yet
    # Measured at 320x180: about 60 in the band (white letters, dark box), 0.3 at most above.
    assert bottom > 20 and bottom > 15 * max(top, before, 0.5)
    assert top < 1.5 and before < 1.5


def test_a_burned_render_still_carries_its_marks_label_and_signature(renders):
    folder, _, burned = renders
    assert burned.c2pa_signed
    info = probe(folder / "burned.mp4", trust_anchor_pem=(folder / "keys/root.pem").read_bytes())
    assert info["c2pa"]["valid"] and info["c2pa"]["trusted"]
    assert info["watermark"]["video"]["payload"] == PROVENANCE
    assert info["watermark"]["audio"]["payload"] == PROVENANCE[:8]
    assert info["visible_label"]["found"]
    titles = [c["tags"]["title"] for c in chapters_of(folder / "burned.mp4")]
    assert titles == [ODD_TITLE, "Summary"]


def test_a_cached_chunk_without_captions_is_not_used_for_a_burned_render(
    tmp_path, astronaut_png, landmarks, slide
):
    cache = LocalSegmentCache(tmp_path / "cache")
    keys = tmp_path / "keys"
    made = {}
    for name, burn in (("plain", False), ("burned", True), ("again", True)):
        spec = spec_of(
            two_scenes(slide, burn=burn), astronaut_png, landmarks, keys, frame_mark_id=LINEAGE
        )
        made[name] = render(spec, tmp_path / f"{name}.mp4", cache=cache)
    assert made["plain"].chunks == made["burned"].chunks > 0
    assert made["burned"].chunks_reused == 0
    assert made["again"].chunks_reused == made["again"].chunks  # burned chunks are kept too
    unburned, captioned = frames_of(tmp_path / "plain.mp4"), frames_of(tmp_path / "burned.mp4")
    for start, end, _ in speech_cues(tmp_path / "burned.mp4"):
        inside = round((start + end) / 2 * FPS)
        bottom = mean_difference(captioned[inside], unburned[inside], CAPTION_BAND)
        top = mean_difference(captioned[inside], unburned[inside], TOP_BAND)
        assert bottom > 20 and top < 1.5  # measured: about 60 and 39, and 0.01
    info = probe(tmp_path / "burned.mp4", trust_anchor_pem=(keys / "root.pem").read_bytes())
    assert info["c2pa"]["valid"] and info["watermark"]["video"]["payload"] == LINEAGE
    assert len(chapters_of(tmp_path / "burned.mp4")) == 2


def test_a_caption_keeps_clear_of_a_label_at_the_bottom():
    badge = (120, 150, 200, 172)  # left, top, right, bottom
    captions = BurnedCaptions(
        [Cue(0.0, 1.0, ("Keep the label readable", "under every caption"))],
        OutputFormat(WIDTH, HEIGHT, FPS),
        keep_clear=badge,
    )
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    captions.draw(frame, 10)
    left, top, right, low = badge
    assert frame[top:low, left:right].max() == 0
    assert frame[:top, WIDTH // 4 : WIDTH * 3 // 4].max() > 200  # white letters above it
    untouched = np.zeros_like(frame)
    captions.draw(untouched, 20)  # after the cue's end: nothing drawn
    assert untouched.max() == 0


def test_burned_captions_wrap_a_long_cue_to_two_lines_inside_the_frame():
    words = "a caption much longer than one line of this narrow frame can hold at all"
    captions = BurnedCaptions([Cue(0.0, 1.0, (words,))], OutputFormat(160, 90, FPS))
    frame = np.zeros((90, 160, 3), np.uint8)
    captions.draw(frame, 0)
    rows = np.flatnonzero(frame.max(axis=(1, 2)) > 200)  # rows with white letters
    gaps = np.flatnonzero(np.diff(rows) > 1)
    assert rows.size and rows.min() > 90 // 2 and len(gaps) <= 1  # at the bottom, two lines


def test_a_timeline_written_before_burned_captions_loads_without_them():
    data = Timeline(scenes=[Scene(segments=[Segment("Hi.")])]).to_dict()
    assert data.pop("burn_captions") is False
    assert Timeline.from_dict(data).burn_captions is False
    assert Timeline.from_json(Timeline(scenes=[], burn_captions=True).to_json()).burn_captions
    data["burn_captions"] = "yes"
    with pytest.raises(TimelineError, match="burn_captions must be true or false"):
        Timeline.from_dict(data)
