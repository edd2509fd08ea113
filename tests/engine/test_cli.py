"""The command line: JSON on stdout, or exit status 2 and one line on stderr."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_speak_prints_json_and_writes_timings_beside_the_wav(tmp_path):
    out = tmp_path / "hello.wav"
    proc = run("speak", "--text", "Hello from the command line.", "--out", out,
               "--engine", "festival")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["engine"] == "festival" and summary["duration"] > 1.0
    timings = json.loads(Path(summary["timings"]).read_text())
    assert [w[0] for w in timings["words"]][:2] == ["Hello", "from"]


def test_speak_without_words_exits_with_one_line(tmp_path):
    proc = run("speak", "--text", " ;; ", "--out", tmp_path / "x.wav", "--engine", "festival")
    assert proc.returncode == 2
    assert "no words" in error_line(proc) and proc.stdout == ""


def test_speak_uses_the_sites_default_voice_engine_world(tmp_path):
    proc = run("speak", "--text", "Hello.", "--out", tmp_path / "x.wav")
    assert proc.returncode == 2
    assert "world voice engine needs the subject's voice samples" in error_line(proc)


@pytest.mark.parametrize(
    ("command", "engine", "option"),
    [
        ("speak", "festival", "--voice-sample"),
        ("speak", "festival", "--voice-profile"),
        ("speak", "xtts", "--voice-profile"),
        ("speak", "world", "--weights-dir"),
        ("speak", "world", "--device"),
        ("animate", "warp", "--weights-dir"),
    ],
)
def test_an_option_the_chosen_engine_ignores_is_an_error_naming_both(
    tmp_path, silence_wav, astronaut_png, command, engine, option
):
    out = tmp_path / "out"
    if command == "speak":
        args = ["speak", "--text", "Hello.", "--out", out, "--engine", engine]
    else:
        args = ["animate", "--portrait", astronaut_png, "--audio", silence_wav, "--out", out]
    proc = run(*args, option, silence_wav if option != "--device" else "cpu")
    assert proc.returncode == 2 and proc.stdout == "" and not out.exists()
    assert f"the {engine} engine does not use {option}" in proc.stderr


def test_xtts_without_weights_names_the_option_and_the_setting(tmp_path, silence_wav):
    proc = run("speak", "--text", "Hello.", "--out", tmp_path / "x.wav", "--engine", "xtts",
               "--voice-sample", silence_wav)  # fmt: skip
    assert proc.returncode == 2
    assert "needs XTTS_WEIGHTS_DIR" in error_line(proc) and "--weights-dir DIR" in proc.stderr


def test_animate_without_a_face_exits_with_one_line(tmp_path, blank_png, silence_wav):
    proc = run("animate", "--portrait", blank_png, "--audio", silence_wav, "--out",
               tmp_path / "x.mp4")  # fmt: skip
    assert proc.returncode == 2
    assert "No face was found" in error_line(proc)
    assert not (tmp_path / "x.mp4").exists()


def test_animate_prints_frames_and_seconds(tmp_path, astronaut_png, speech):
    out = tmp_path / "talk.mp4"
    proc = run("animate", "--portrait", astronaut_png, "--audio", speech.wav_path, "--out", out,
               "--size", 128)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["frames"] == round(25 * speech.seconds) and out.is_file()


def test_animate_from_footage_prints_frames_and_seconds(tmp_path, speech):
    footage = Path(__file__).parent.parent / "data" / "footage" / "weekly-address-held-out.mp4"
    out = tmp_path / "footage.mp4"
    proc = run("animate", "--footage", footage, "--audio", speech.wav_path, "--out", out,
               "--size", 128)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["frames"] == round(25 * speech.seconds) and out.is_file()


def test_animate_needs_a_portrait_or_footage(tmp_path, speech):
    proc = run("animate", "--audio", speech.wav_path, "--out", tmp_path / "x.mp4")
    assert proc.returncode == 2 and "--portrait (a photo) or --footage" in error_line(proc)


def test_animate_from_a_photo_given_as_footage_says_it_is_not_a_video(
    tmp_path, astronaut_png, speech
):
    proc = run("animate", "--footage", astronaut_png, "--audio", speech.wav_path, "--out",
               tmp_path / "x.mp4")  # fmt: skip
    assert proc.returncode == 2 and "not a video" in error_line(proc)


def test_probe_of_a_missing_file_exits_with_one_line(tmp_path):
    proc = run("probe", tmp_path / "missing.mp4")
    assert proc.returncode == 2 and "does not exist" in error_line(proc)


def test_probe_of_garbage_exits_with_one_line(garbage_file):
    proc = run("probe", garbage_file)
    assert proc.returncode == 2 and "not a video or audio file" in error_line(proc)


def test_render_with_a_bad_spec_exits_with_one_line(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"script_text": "hi"}')
    proc = run("render", spec, tmp_path / "out.mp4")
    assert proc.returncode == 2 and "not a valid render spec" in error_line(proc)


# -- check-clip ----------------------------------------------------------------------------------

SENTENCE = "The purple lantern carries five green farms and nine silver bridges."


@pytest.fixture(scope="module")
def consent_clip(tmp_path_factory):
    """A live clip of the astronaut reading SENTENCE, blinking at 2.6 s (tests/liveness_media)."""
    from skimage import data

    from tests.liveness_media import live_clip, say

    folder = tmp_path_factory.mktemp("check-clip")
    said = say(SENTENCE, folder / "sentence.wav")
    return live_clip(folder / "clip.webm", said, data.astronaut(), blink_at=2.6)


def test_check_clip_prints_scores_and_checks_the_blink_at_the_given_moment(
    consent_clip, astronaut_png, speech
):
    proc = run("check-clip", consent_clip, "--sentence", SENTENCE,
               "--reference-photo", astronaut_png, "--voice-sample", speech.wav_path,
               "--challenge-kind", "blink", "--challenge-at", "2.2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["passed"] is True and result["reasons"] == []
    assert result["face_distance"] < 0.6 and result["voice_similarity"] > 0.75
    assert result["word_error_rate"] <= 0.35
    assert result["liveness"]["lip_sync_correlation"] > 0.45
    assert result["liveness"]["challenge"]["window"] == [2.35, 4.2]
    assert result["liveness"]["challenge_passed"] is True


def test_check_clip_of_a_still_photo_fails_and_says_the_challenge_was_skipped(
    tmp_path, astronaut_png, speech, consent_clip
):
    from tests.media import write_webm

    said = consent_clip.with_name("sentence.wav")  # written beside the clip by the fixture
    still = write_webm(tmp_path / "still.webm", image=astronaut_png, audio=said, seconds=5.4)
    proc = run("check-clip", still, "--sentence", SENTENCE, "--reference-photo", astronaut_png,
               "--voice-sample", speech.wav_path)  # fmt: skip
    assert proc.returncode == 0  # a clip that was checked and failed is no bad input
    result = json.loads(proc.stdout)
    assert result["passed"] is False
    assert any("a still photo cannot give consent" in r for r in result["reasons"])
    assert result["liveness"]["challenge"] == "skipped: no challenge timing given"
    assert result["liveness"]["challenge_passed"] is None


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("missing", "The consent clip"),
        ("garbage", "The consent clip cannot be played"),
        ("hour", "lasts more than 20 min; the limit is 30 s"),
        ("half-challenge", "Give both --challenge-kind and --challenge-at"),
    ],
)
def test_check_clip_exits_with_one_line_on_bad_input(
    tmp_path, problem, message, garbage_file, astronaut_png, speech
):
    clip, extra = tmp_path / "missing.webm", []
    if problem == "garbage":
        clip = garbage_file
    elif problem == "hour":  # four frames 20 minutes apart, written to a pipe: no duration
        clip = tmp_path / "hour.webm"
        with open(clip, "wb") as handle:
            subprocess.run(
                ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=64x48:r=1",
                 "-f", "lavfi", "-i", "sine=r=48000:d=3", "-vf", "setpts=N*1200/TB",
                 "-frames:v", "4", "-c:v", "libvpx", "-c:a", "libopus", "-f", "webm", "pipe:1"],
                stdout=handle,
                check=True,
            )  # fmt: skip
    elif problem == "half-challenge":
        clip, extra = astronaut_png, ["--challenge-at", "2"]
    proc = run("check-clip", clip, "--sentence", SENTENCE, "--reference-photo", astronaut_png,
               "--voice-sample", speech.wav_path, *extra)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in error_line(proc)
