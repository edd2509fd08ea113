"""A timeline of scenes rendered for real: decoded, measured, and rendered again from the cache."""

import subprocess

import numpy as np
import pytest
from PIL import Image

from engine.audio import read_wav
from engine.face import get_face_engine
from engine.pipeline import render
from engine.segment_cache import LocalSegmentCache
from engine.segments import FaceFrames, Presenter, Speaker, speak_segment
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
from engine.voice import get_voice_engine

WIDTH, HEIGHT, FPS = 320, 180, 20


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    path = tmp_path_factory.mktemp("slides") / "slide.png"
    Image.new("RGB", (WIDTH, HEIGHT), (30, 120, 200)).save(path)
    return str(path)


def lesson(slide: str, second_sentence: str = "It has two scenes.") -> Timeline:
    return Timeline(
        format=OutputFormat(WIDTH, HEIGHT, FPS),
        lead_in_seconds=0.3,
        tail_seconds=0.4,
        scenes=[
            Scene(
                segments=[Segment("Welcome to the lesson."), Segment(second_sentence)],
                layout=Layout("corner", position="bottom-right", size=0.5),
                background=Background("image", path=slide),
                text=OnScreenText(title="Welcome"),
                transition=Transition("crossfade", 0.3),
            ),
            Scene(
                duration=1.5,
                layout=Layout("voice_over"),
                background=Background("color", color="#204060"),
                text=OnScreenText(title="Summary", bullets=["Short", "Clear"]),
            ),
        ],
    )


def spec_of(timeline: Timeline, portrait, landmarks) -> RenderSpec:
    return RenderSpec(
        script_text="",
        portrait_path=str(portrait),
        portrait_landmarks=landmarks,
        voice_engine="festival",
        timeline=timeline.to_dict(),
        provenance_id="0123456789abcdef",
    )


def frames_of(path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, HEIGHT, WIDTH, 3)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, astronaut_png, landmarks, slide):
    folder = tmp_path_factory.mktemp("timeline")
    cache = LocalSegmentCache(folder / "cache")
    calls = []
    first = render(
        spec_of(lesson(slide), astronaut_png, landmarks),
        folder / "a.mp4",
        cache=cache,
        progress=lambda stage, fraction: calls.append((stage, fraction)),
    )
    second = render(
        spec_of(lesson(slide, "It has two short scenes."), astronaut_png, landmarks),
        folder / "b.mp4",
        cache=cache,
    )
    return folder, first, second, calls


def test_the_scenes_are_where_the_timeline_puts_them(rendered):
    folder, first, _, _ = rendered
    frames = frames_of(folder / "a.mp4")
    assert len(frames) == first.frames and first.frames == round(first.video_seconds * FPS)
    assert [s["chapter"] for s in first.scenes] == ["Welcome", "Summary"]
    assert first.scenes[1]["seconds"] == pytest.approx(1.5, abs=1 / FPS)
    lesson_frames = round(first.scenes[0]["seconds"] * FPS)
    # Scene 1: the slide's blue fills the left (the title above); the presenter sits bottom right.
    left = frames[5, HEIGHT // 2 : HEIGHT // 2 + 15, 5:20].reshape(-1, 3).mean(axis=0)
    assert abs(left - (30, 120, 200)).max() < 25
    title = frames[5, 8:24, 8:60].astype(np.int16)
    assert np.abs(title - (30, 120, 200)).mean() > 40  # the title's panel and letters
    # The presenter moves (speaks, sways): its corner changes over the scene far more than the
    # slide, which only the encoder's noise touches.
    corner = frames[: lesson_frames - 10, HEIGHT - 60 :, WIDTH - 60 :].astype(np.int16)
    slide = frames[: lesson_frames - 10, HEIGHT // 2 : HEIGHT // 2 + 60, 5:65].astype(np.int16)
    moved = np.abs(corner - corner[0]).mean(axis=(1, 2, 3)).max()
    assert moved > 2.0 and moved > 3 * np.abs(slide - slide[0]).mean(axis=(1, 2, 3)).max()
    # Scene 2, a voice-over: the colour background, no presenter, the title drawn on it.
    last = frames[-3].astype(np.int16)
    assert abs(last[HEIGHT - 8, 8] - (0x20, 0x40, 0x60)).max() < 25
    assert np.abs(np.diff(frames[-10:].astype(np.int16), axis=0)).max() < 30  # nothing moves


def test_captions_follow_every_segment_and_chapters_name_the_scenes(rendered):
    folder, first, _, _ = rendered
    captions = (folder / "a.vtt").read_text()
    assert "Welcome to the lesson." in captions and "It has two scenes." in captions
    chapters = (folder / "a.chapters.vtt").read_text()
    assert chapters.startswith("WEBVTT") and "Welcome" in chapters and "Summary" in chapters
    words = [w for w, _, _ in first.words]
    assert words[0].lower().startswith("welcome") and len(words) >= 7
    starts = first.scenes[0]["segment_starts"]
    assert len(starts) == 2 and starts[1] > starts[0]


def test_changing_one_sentence_renders_only_that_segment_again(rendered):
    _, first, second, _ = rendered
    assert (first.segments, first.segments_cached) == (2, 0)
    assert (second.segments, second.segments_cached) == (2, 1)


def test_without_a_frame_mark_the_frames_carry_the_render_and_are_encoded_at_once(rendered):
    _, first, _, _ = rendered
    assert (first.frame_mark_id, first.chunks, first.chunks_reused) == ("", 0, 0)


def test_progress_follows_the_stages_by_their_measured_costs(rendered):
    *_, calls = rendered
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and calls[-1] == ("captions", 1.0)
    stages = [stage for stage, _ in calls]
    first_face = stages.index("face")
    assert set(stages[:first_face]) == {"voice"}  # speech first, segment by segment
    spoken = [f for stage, f in calls[:first_face] if f > 0]
    assert len(spoken) >= 2 and 0 < spoken[-1] < 0.9
    assert {"face", "encode", "c2pa", "captions"} <= set(stages)


def test_a_cache_hit_gives_the_same_sound_and_the_same_frames(tmp_path, astronaut_png, landmarks):
    cache = LocalSegmentCache(tmp_path / "cache")
    voice = get_voice_engine("festival")
    speaker = Speaker("festival", ())
    presenter = Presenter("warp", str(astronaut_png), tuple(tuple(p) for p in landmarks))
    made = []
    for attempt in range(2):
        spoken = speak_segment(
            "Say it once, hear it twice.",
            voice=voice,
            speaker=speaker,
            speaker_key=speaker.fingerprint(),
            lexicon={},
            before=0.2,
            after=0.3,
            fps=FPS,
            folder=tmp_path / f"run{attempt}",
            name="seg",
            cache=cache,
            namespace="avatar-1",
        )
        faces = FaceFrames(
            spoken,
            face=get_face_engine("warp"),
            presenter=presenter,
            presenter_key=presenter.fingerprint(),
            size=(96, 96),
            fps=FPS,
            folder=tmp_path / f"run{attempt}",
            name="seg",
            cache=cache,
            namespace="avatar-1",
        )
        made.append((spoken, faces.cached, np.stack(list(faces))))
    (one, one_cached, one_frames), (two, two_cached, two_frames) = made
    assert (one.cached, one_cached, two.cached, two_cached) == (False, False, True, True)
    assert one.wav_path.read_bytes() == two.wav_path.read_bytes()
    assert one.words == two.words and one.phonemes == two.phonemes
    assert one_frames.shape == (one.frames, 96, 96, 3)
    assert np.array_equal(one_frames, two_frames)
    samples, rate = read_wav(one.wav_path)
    assert samples.size == round(one.frames * rate / FPS)  # whole frames: no drift
    assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-3  # faded edges: no click


def test_the_segments_of_another_namespace_are_not_reused(tmp_path, astronaut_png):
    cache = LocalSegmentCache(tmp_path / "cache")
    voice = get_voice_engine("festival")
    speaker = Speaker("festival", ())
    kwargs = dict(
        voice=voice,
        speaker=speaker,
        speaker_key=speaker.fingerprint(),
        lexicon={},
        before=0.0,
        after=0.0,
        fps=FPS,
        name="seg",
        cache=cache,
    )
    first = speak_segment("Hello.", folder=tmp_path / "a", namespace="avatar-1", **kwargs)
    other = speak_segment("Hello.", folder=tmp_path / "b", namespace="avatar-2", **kwargs)
    again = speak_segment("Hello.", folder=tmp_path / "c", namespace="avatar-1", **kwargs)
    assert (first.cached, other.cached, again.cached) == (False, False, True)
    assert cache.delete_namespace("avatar-1") == 1
    gone = speak_segment("Hello.", folder=tmp_path / "d", namespace="avatar-1", **kwargs)
    assert not gone.cached
