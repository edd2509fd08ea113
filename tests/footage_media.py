"""Footage for footage-avatar tests, made by the tests: minutes of a face speaking to the camera.

The face is the engine's warp rig (engine/face/warp.py) on a portrait: the mouth opens with the
loudness of each syllable of festival reading Harvard sentences (public domain), the head sways,
the eyes blink every few seconds, and the camera adds sensor noise. ``kind`` makes the footage
that must be refused: ``two_faces`` (a second person beside), ``leaves`` (the face leaves the
picture after its first quarter), ``cut`` (an edit to a closer shot halfway), ``dark``.

Keep it small (128-192 px, 12-25 fps): a minute at 160 px and 15 fps is made in a few seconds.
Use from a session fixture; ``FootageMaker`` makes each distinct footage once per session::

    @pytest.fixture(scope="session")
    def footage(tmp_path_factory):
        return FootageMaker(tmp_path_factory.mktemp("footage"))

    path = footage.make(astronaut_rgb, seconds=8, kind="cut")
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

KINDS = ("good", "two_faces", "leaves", "cut", "dark")
SENSOR_NOISE = 2.0
BLINK_EVERY = 3.7  # seconds between blinks
BLINK_PROFILE = np.array([0.0, 0.6, 1.0, 0.85, 0.5, 0.2, 0.0])  # lid closure over a blink

_speech: dict[str, tuple[np.ndarray, int]] = {}


def reading(folder: Path, seconds: float, rate: int = 16000) -> Path:
    """``seconds`` of festival reading Harvard sentences at ``rate`` Hz (the sentences repeat
    when the footage is longer than them), as a WAV in ``folder``."""
    from bench.sentences import HARVARD_1
    from engine.audio import read_wav, write_wav
    from tests.liveness_media import say

    key = str(rate)
    if key not in _speech:
        raw = say(" ".join(HARVARD_1), folder / f"harvard-{rate}.wav", rate=rate)
        _speech[key] = read_wav(raw)
    samples, rate = _speech[key]
    need = round(seconds * rate)
    looped = np.tile(samples, need // len(samples) + 1)[:need]
    out = folder / f"reading-{seconds:g}s-{rate}.wav"
    write_wav(out, looped, rate)
    return out


def _blinks(frames: int, fps: int) -> np.ndarray:
    t = np.arange(frames) / fps
    since = (t - 1.1) % BLINK_EVERY
    curve = np.interp(since / 0.3, np.linspace(0, 1, len(BLINK_PROFILE)), BLINK_PROFILE, 0, 0)
    return curve.astype(np.float32)


def _sway(frames: int, fps: int, size: int) -> np.ndarray:
    """Per frame (dx, dy, degrees) of a head that moves as a speaker's does, never at rest."""
    t = np.arange(frames) / fps
    dx = 0.012 * size * np.sin(2 * np.pi * t / 5.3 + 0.4)
    dy = 0.008 * size * np.sin(2 * np.pi * t / 4.1 + 1.1)
    angle = 1.2 * np.sin(2 * np.pi * t / 6.7)
    return np.stack([dx, dy, angle], axis=1).astype(np.float32)


def make_footage(
    portrait_rgb: np.ndarray,
    out_path: str | Path,
    seconds: float = 60.0,
    size: int = 160,
    fps: int = 15,
    *,
    kind: str = "good",
    sound: bool = True,
) -> Path:
    """Write footage of ``portrait_rgb`` speaking for ``seconds`` at ``size`` x ``size`` and
    ``fps``: H.264/AAC for a .mp4 ``out_path``, VP8/Opus (as MediaRecorder) for .webm. ``kind``:
    one of KINDS (see the module's docstring); ``sound``: False leaves out the sound track."""
    import cv2

    from engine.audio import read_wav
    from engine.face.drive import frame_count, lip_spread
    from engine.face.warp import FaceRig
    from tests.liveness_media import face_landmarks, syllabic_opening

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    out_path = Path(out_path)
    wav = reading(out_path.parent, seconds)
    samples, rate = read_wav(wav)
    frames = frame_count(seconds, fps)
    opening = syllabic_opening(samples, rate, fps, frames)
    spread = lip_spread(samples, rate, fps, frames)
    blink = _blinks(frames, fps)
    face = np.ascontiguousarray(portrait_rgb[..., :3])
    rig = FaceRig(face, face_landmarks(face), (size, size))
    sway = _sway(frames, fps, size)
    rng = np.random.default_rng(3)
    other = None
    if kind == "two_faces":
        other = cv2.resize(rig.base, (size // 2, size // 2), interpolation=cv2.INTER_AREA)

    command = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{size}x{size}", "-r", str(fps), "-i", "pipe:0"]
    if sound:
        command += ["-i", str(wav)]
    if out_path.suffix == ".webm":
        command += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k"]
        command += ["-c:a", "libopus", "-ar", "48000"] if sound else []
    else:
        command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"]
        command += ["-c:a", "aac", "-b:a", "64k"] if sound else []
    command += ["-pix_fmt", "yuv420p", "-shortest", str(out_path)]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        for i in range(frames):
            frame = rig.render(float(opening[i]), float(blink[i]), tuple(sway[i]), float(spread[i]))
            if other is not None:  # a second person in the lower right corner
                frame = frame.copy()
                frame[size // 2 :, size // 2 :] = other
            elif kind == "leaves" and i > frames // 4:
                shift = min(size, (i - frames // 4) * size / fps)  # walks out within a second
                matrix = np.float32([[1, 0, shift], [0, 1, 0]])
                frame = cv2.warpAffine(frame, matrix, (size, size), borderValue=(90, 90, 90))
            elif kind == "cut" and i >= frames // 2:  # a closer shot of the same scene
                matrix = cv2.getRotationMatrix2D((size / 2, size * 0.6), 0.0, 1.8)
                frame = cv2.warpAffine(frame, matrix, (size, size), borderMode=cv2.BORDER_REFLECT)
            elif kind == "dark":
                frame = (frame.astype(np.float32) * 0.2).astype(np.uint8)
            noisy = frame.astype(np.float32) + rng.normal(0, SENSOR_NOISE, frame.shape)
            proc.stdin.write(np.clip(noisy, 0, 255).astype(np.uint8).tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError("ffmpeg could not encode the footage")
    return out_path


class FootageMaker:
    """``make_footage`` with a cache: each distinct footage is made once per session."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._made: dict[tuple, Path] = {}

    def make(self, portrait_rgb: np.ndarray, suffix: str = ".mp4", **options) -> Path:
        face = hashlib.sha256(np.ascontiguousarray(portrait_rgb).tobytes()).hexdigest()[:12]
        key = (face, suffix, tuple(sorted(options.items())))
        if key not in self._made:
            out = self.folder / f"footage-{len(self._made)}-{options.get('kind', 'good')}{suffix}"
            self._made[key] = make_footage(portrait_rgb, out, **options)
        return self._made[key]
