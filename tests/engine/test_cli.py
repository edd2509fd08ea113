"""The command line: JSON on stdout, or exit status 2 and one line on stderr."""

import json
import subprocess
import sys
from pathlib import Path

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


def test_speak_prints_json_and_writes_timings_beside_the_wav(tmp_path, silence_wav):
    out = tmp_path / "hello.wav"
    proc = run("speak", "--text", "Hello from the command line.", "--out", out,
               "--voice-sample", silence_wav)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["engine"] == "festival" and summary["duration"] > 1.0
    timings = json.loads(Path(summary["timings"]).read_text())
    assert [w[0] for w in timings["words"]][:2] == ["Hello", "from"]


def test_speak_without_words_exits_with_one_line(tmp_path):
    proc = run("speak", "--text", " ;; ", "--out", tmp_path / "x.wav")
    assert proc.returncode == 2
    assert "no words" in error_line(proc) and proc.stdout == ""


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
