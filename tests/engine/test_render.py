"""A real render of a short script, decoded and measured."""

import subprocess

import numpy as np
import pytest

from engine.encode import VideoEncoder, synthetic_metadata
from engine.errors import FaceWeightsMissing, RenderCancelled
from engine.face import topology
from engine.face.framing import frame_portrait
from engine.pipeline import render
from engine.probe import probe
from engine.spec import RenderResult, RenderSpec
from engine.voice.xtts import XttsWeightsMissing

SIZE, FPS, LEAD_IN, TAIL = 256, 25, 0.6, 0.8


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, astronaut_png, landmarks):
    spec = RenderSpec(
        script_text="Hello there. Watch my mouth move while I speak.",
        portrait_path=str(astronaut_png),
        voice_engine="festival",
        portrait_landmarks=landmarks,
        width=SIZE,
        height=SIZE,
        fps=FPS,
        lead_in_seconds=LEAD_IN,
        tail_seconds=TAIL,
        metadata={"provenance_id": "prov-123", "workspace": "Acme Training"},
    )
    out = tmp_path_factory.mktemp("render") / "video.mp4"
    calls = []
    result = render(spec, out, progress=lambda stage, fraction: calls.append((stage, fraction)))
    return spec, result, out, calls


def decode_frames(path, size):
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, np.uint8).reshape(-1, size, size, 3)


def test_the_frame_count_matches_fps_times_duration(rendered):
    _, result, out, _ = rendered
    info = probe(out)
    video = next(s for s in info["streams"] if s["type"] == "video")
    assert (video["width"], video["height"], video["fps"]) == (SIZE, SIZE, FPS)
    assert abs(video["frames"] - round(FPS * info["duration"])) <= 1
    assert video["frames"] == result.frames == round(FPS * result.audio_seconds)
    assert len(decode_frames(out, SIZE)) == result.frames


def test_the_audio_is_the_speech_with_lead_in_and_tail(rendered):
    _, result, out, _ = rendered
    audio = next(s for s in probe(out)["streams"] if s["type"] == "audio")
    assert audio["codec"] == "aac"
    assert abs(audio["duration"] - result.audio_seconds) < 0.1
    speech_seconds = result.audio_seconds - LEAD_IN - TAIL
    assert speech_seconds > 1.5
    first_word = result.words[0]
    assert first_word[0] == "Hello" and first_word[1] >= LEAD_IN


def test_the_sound_is_at_the_renders_rate_and_claims_only_the_voices_band(rendered):
    _, _, out, _ = rendered
    audio = next(s for s in probe(out)["streams"] if s["type"] == "audio")
    assert (audio["sample_rate"], audio["channels"]) == (48000, 2)
    # festival's HTS voice speaks at 32 kHz: its band ends by 16 kHz, and so does the file's.
    assert 12000 < audio["bandwidth_hz"] <= 17000


def test_the_mouth_moves_during_speech_and_rests_in_silence(rendered, landmarks):
    _, result, out, _ = rendered
    frames = decode_frames(out, SIZE).astype(np.int16)
    framing = frame_portrait(landmarks, 512, 512, SIZE, SIZE)
    lips = framing.map_points(
        np.array(landmarks)[topology.LIPS_UPPER_OUTER + topology.LIPS_LOWER_OUTER]
    )
    (x0, y0), (x1, y1) = lips.min(axis=0) - 3, lips.max(axis=0) + 6
    mouth = frames[:, int(y0) : int(y1), int(x0) : int(x1)]
    change = np.abs(np.diff(mouth, axis=0)).mean(axis=(1, 2, 3))
    times = (np.arange(1, len(frames)) + 0.5) / FPS
    speaking = (times > result.words[0][1]) & (times < result.words[-1][2])
    silent = (times < LEAD_IN - 0.1) | (times > result.audio_seconds - TAIL + 0.1)
    assert speaking.sum() > 20 and silent.sum() > 15
    assert change[speaking].mean() > 4 * change[silent].mean()
    assert change[speaking].mean() > 1.0


def test_the_render_reports_progress_through_every_stage(rendered):
    _, result, _, calls = rendered
    assert calls[0][0] == "voice" and calls[-1] == ("captions", 1.0)
    assert {"voice", "face", "encode", "captions"} <= {s for s, _ in calls}
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and len(calls) > 10
    assert set(result.stage_seconds) == {
        "voice",
        "face",
        "compose",
        "label",
        "watermark",
        "encode",
        "c2pa",
        "captions",
    }
    assert all(seconds > 0 for stage, seconds in result.stage_seconds.items() if stage != "c2pa")


def test_probe_finds_the_visible_label_and_the_synthetic_tags(rendered):
    _, result, out, _ = rendered
    info = probe(out)
    assert info["visible_label"]["found"] is True
    assert info["visible_label"]["fraction"] == 1.0
    assert info["visible_label"]["corner"] == "top-right"
    assert info["synthetic"] is True
    assert info["tags"]["generator"].startswith("Likeness engine/")
    assert info["tags"]["provenance_id"] == "prov-123"
    assert info["tags"]["workspace"] == "Acme Training"
    assert info["c2pa"]["present"] is False  # no signing keys in this spec
    assert info["watermark"]["audio"]["payload"] == result.provenance_id[:8]


def test_probe_does_not_find_a_label_in_an_unlabeled_video(tmp_path, astronaut_png, landmarks):
    from engine.face.landmarks import load_rgb
    from engine.face.warp import FaceRig

    rig = FaceRig(load_rgb(astronaut_png), landmarks, (SIZE, SIZE))
    out = tmp_path / "plain.mp4"
    encoder = VideoEncoder(out, SIZE, SIZE, FPS, None, {})
    for i in range(25):
        encoder.write(rig.render(0.5 * (i % 5) / 4))
    encoder.finish()
    info = probe(out)
    assert info["visible_label"]["found"] is False
    assert info["visible_label"]["fraction"] == 0.0
    assert info["synthetic"] is False


def test_a_cancelled_render_leaves_no_file(tmp_path, astronaut_png, landmarks):
    spec = RenderSpec(
        script_text="This render will be cancelled halfway through the frames.",
        portrait_path=str(astronaut_png),
        voice_engine="festival",
        portrait_landmarks=landmarks,
        width=128,
        height=128,
    )

    def cancel(stage, fraction):
        if stage == "face" and fraction > 0.4:
            raise RenderCancelled()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(RenderCancelled):
        render(spec, out, progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_render_spec_round_trips_through_json(landmarks):
    spec = RenderSpec(
        script_text="Hi",
        portrait_path="/p.png",
        voice_sample_paths=["/a.wav"],
        portrait_landmarks=landmarks,
        metadata={"provenance_id": "x"},
    )
    assert RenderSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match="colour"):
        RenderSpec.from_dict({"script_text": "x", "portrait_path": "p", "colour": 1})


def test_render_result_is_json_ready(rendered):
    _, result, _, _ = rendered
    assert isinstance(result, RenderResult)
    data = result.to_dict()
    assert data["voice_engine"] == "festival" and data["face_engine"] == "warp"
    assert data["words"][0][0] == "Hello"


def test_synthetic_tags_cannot_be_overridden_by_spec_metadata():
    tags = synthetic_metadata("AI-generated", {"synthetic": "false", "Work Space!": "a\nb"})
    assert tags["synthetic"] == "true" and tags["work_space_"] == "a b"


def test_a_spec_defaults_to_the_sites_engines():
    spec = RenderSpec(script_text="Hi", portrait_path="/p.png")
    assert (spec.voice_engine, spec.face_engine) == ("world", "warp")


def test_the_neural_engines_get_their_weights_from_the_spec(tmp_path, astronaut_png, landmarks):
    spec = RenderSpec(
        script_text="Hi.",
        portrait_path=str(astronaut_png),
        portrait_landmarks=landmarks,
        voice_engine="xtts",
        width=SIZE,
        height=SIZE,
    )
    with pytest.raises(XttsWeightsMissing, match="needs XTTS_WEIGHTS_DIR"):
        render(spec, tmp_path / "x.mp4")
    spec.voice_weights_dir = str(tmp_path / "voice-weights")
    with pytest.raises(XttsWeightsMissing, match="voice-weights is not a directory"):
        render(spec, tmp_path / "x.mp4")
    spec.voice_engine, spec.face_engine = "festival", "neural"
    spec.face_weights_dir = str(tmp_path / "face-weights")
    with pytest.raises(FaceWeightsMissing, match="face-weights does not exist"):
        render(spec, tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_odd_sizes_are_refused_before_any_work(tmp_path):
    spec = RenderSpec(script_text="Hi", portrait_path="/nowhere.png", width=511)
    with pytest.raises(ValueError, match="even"):
        render(spec, tmp_path / "x.mp4")


def test_the_poster_is_a_frame_of_the_finished_video_with_its_label(rendered):
    """The poster is taken just into the speech from the encoded file: the same picture as the
    frame a viewer sees there, the visible label included."""
    from PIL import Image

    from engine.label import detect_label
    from engine.poster import poster_path, poster_seconds
    from engine.probe import read_frame

    _, result, out, _ = rendered
    poster = np.asarray(Image.open(poster_path(out)).convert("RGB"))
    assert poster.shape == (SIZE, SIZE, 3)
    at = poster_seconds(result.video_seconds, result.words[0][1])
    assert LEAD_IN < at < result.video_seconds - TAIL  # while the presenter speaks
    frame = read_frame(out, at, SIZE, SIZE).astype(np.float64)
    psnr = 10 * np.log10(255**2 / np.mean((poster - frame) ** 2))
    assert psnr > 30
    assert detect_label(poster)[0]
