"""Consent clips for liveness tests, made by the tests: a face that is live, and the ways of
faking one.

The face is the engine's own warp rig (engine/face/warp.py) on a portrait, its mouth opening with
the loudness of each syllable (``syllabic_opening``), blinking when asked, encoded VP8/Opus like
Chromium's MediaRecorder. Modes:

- ``live``: the mouth follows the clip's own sound, the head sways a little, one blink at
  ``blink_at`` (none when None).
- ``still``: the photo held still in front of the camera (only sensor noise changes).
- ``hand_moved``: the photo moved by hand: drift, shake, tilt and a zoom that even pulses with the
  voice; the mouth never changes shape.
- ``hand_tilted``: the photo tilted towards the camera and back with each syllable (a
  perspective turn about its horizontal axis, up to TILT_DEGREES, seen through a wide-angle
  webcam lens): the landmarks move, but not the way a mouth does.
- ``wrong_audio``: a live-looking face whose mouth follows other sound: ``other_audio`` when
  given, else the clip's own sound ``shift_seconds`` later (a dub, or a replay out of step).

Use from a session fixture::

    @pytest.fixture(scope="session")
    def live_clips(tmp_path_factory):
        return LiveClips(tmp_path_factory.mktemp("live"))

    clip = live_clips.make(sentence_wav, astronaut_rgb, blink_at=2.7)
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

MODES = ("live", "still", "hand_moved", "hand_tilted", "wrong_audio")
BLINK_PROFILE = np.array([0.6, 1.0, 0.85, 0.5, 0.2])  # lid closure over a blink: fast down, slow up
TILT_DEGREES = 12.0
SENSOR_NOISE = 2.0  # grey levels of Gaussian noise on every frame, as a webcam adds

_landmarks: dict[str, np.ndarray] = {}


def say(text: str, out: Path, *, pad_seconds: float = 0.5, rate: int = 48000) -> Path:
    """Festival's slt voice reading ``text``, with ``pad_seconds`` of silence before and after
    (as a person pauses before and after reading), at ``rate`` Hz."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(raw)],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    pad = f"adelay={int(pad_seconds * 1000)},apad=pad_dur={pad_seconds}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af", pad, "-ar", str(rate), "-ac", "1",
         str(out)],
        check=True,
    )  # fmt: skip
    return out


def face_landmarks(face_rgb: np.ndarray) -> np.ndarray:
    """The portrait's 478 mediapipe landmarks (what the warp rig needs), cached per image."""
    from engine.face.landmarks import find_faces

    key = hashlib.sha256(face_rgb.tobytes()).hexdigest()
    if key not in _landmarks:
        count, found = find_faces(np.ascontiguousarray(face_rgb[..., :3]))
        assert count == 1 and found, "the portrait must show exactly one face"
        _landmarks[key] = found[0]
    return _landmarks[key]


def syllabic_opening(samples: np.ndarray, rate: int, fps: int, frames: int) -> np.ndarray:
    """Mouth opening per frame, 0..1, that opens on the loud (vowel) part of each syllable and
    nearly closes between them, as a reading mouth does: the amplitude envelope of the 300-3000 Hz
    band (rectified, low-passed at 8 Hz), averaged over each frame, in dB mapped over 20 dB below
    its loud level, with a little jaw inertia. The engine's own ``drive.mouth_openness`` keeps the
    mouth almost fully open through a festival sentence (its full-band loudness range is narrow):
    smooth on screen but a poor model of a real mouth."""
    from scipy.signal import butter, sosfiltfilt

    band = sosfiltfilt(butter(4, [300, 3000], "bandpass", fs=rate, output="sos"), samples)
    envelope = sosfiltfilt(butter(2, 8, "lowpass", fs=rate, output="sos"), np.abs(band))
    hop = rate / fps
    edges = np.round(np.arange(frames + 1) * hop).astype(int)
    means = np.array(
        [envelope[a:b].mean() if b > a and a < len(envelope) else 0.0 for a, b in
         zip(edges[:-1], np.minimum(edges[1:], len(envelope)), strict=True)]
    )  # fmt: skip
    level = 20 * np.log10(np.maximum(means, 1e-6))
    loud = float(np.percentile(level, 90))
    opening = np.clip((level - (loud - 20.0)) / 20.0, 0.0, 1.0)
    return np.convolve(opening, [0.2, 0.6, 0.2], mode="same").astype(np.float32)


def _hand_motion(frames: int, fps: int, envelope: np.ndarray, size: int) -> list[np.ndarray]:
    """2x3 affine matrices of a photo held in a hand: slow drift, shake, tilt, and a zoom that
    pulses with the voice (to fool a check that measures the mouth in pixels)."""
    rng = np.random.default_rng(5)
    t = np.arange(frames) / fps
    shake = np.cumsum(rng.normal(0, 0.8, (frames, 2)), axis=0)
    shake -= np.linspace(0, 1, frames)[:, None] * shake[-1]  # wanders and comes back
    dx = 0.04 * size * np.sin(2 * np.pi * t / 3.1) + shake[:, 0]
    dy = 0.03 * size * np.sin(2 * np.pi * t / 2.3 + 1.0) + shake[:, 1]
    angle = 4.0 * np.sin(2 * np.pi * t / 2.7)
    zoom = 1.0 + 0.05 * np.sin(2 * np.pi * t / 4.0) + 0.06 * envelope
    centre = (size / 2, size / 2)
    import cv2

    matrices = []
    for i in range(frames):
        matrix = cv2.getRotationMatrix2D(centre, float(angle[i]), float(zoom[i]))
        matrix[:, 2] += (dx[i], dy[i])
        matrices.append(matrix)
    return matrices


def _tilts(envelope: np.ndarray, size: int) -> list[np.ndarray]:
    """3x3 homographies of the photo turned about its horizontal axis by TILT_DEGREES x envelope,
    its lower half towards the camera, seen by a lens of ~64 degrees (focal length 0.8 x size)."""
    focal = 0.8 * size
    camera = np.array([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]])
    homographies = []
    for amount in envelope:
        angle = np.radians(-TILT_DEGREES * float(amount))
        cos, sin = np.cos(angle), np.sin(angle)
        turn = np.array([[1, 0, 0], [0, cos, -sin], [0, sin, cos]])
        homographies.append(camera @ turn @ np.linalg.inv(camera))
    return homographies


def live_clip(
    out_path: str | Path,
    sentence_wav: str | Path,
    face_rgb: np.ndarray,
    *,
    blink_at: float | None = None,
    mode: str = "live",
    other_audio: str | Path | None = None,
    shift_seconds: float = 1.0,
    blink_seconds: float = 0.33,
    fps: int = 15,
    size: int = 320,
) -> Path:
    """Write a consent clip (WebM, VP8/Opus, ``size`` x ``size``, ``fps``) of ``face_rgb`` with
    the sound of ``sentence_wav``; see the module's docstring for ``mode``. ``blink_at``: seconds
    into the clip at which the eyes start closing (live and wrong_audio modes), closed and open
    again after ``blink_seconds``."""
    import cv2

    from engine.audio import read_wav
    from engine.face.drive import frame_count, head_motion, lip_spread
    from engine.face.warp import FaceRig

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    out_path = Path(out_path)
    samples, rate = read_wav(sentence_wav)
    frames = frame_count(len(samples) / rate, fps)
    drive = samples
    if mode == "wrong_audio":
        if other_audio is not None:
            drive, other_rate = read_wav(other_audio)
            assert other_rate == rate, "the other sound must have the clip's sample rate"
        else:
            drive = np.concatenate([np.zeros(round(shift_seconds * rate), np.float32), samples])
        drive = np.pad(drive, (0, max(0, len(samples) - len(drive))))[: len(samples)]
    opening = syllabic_opening(drive, rate, fps, frames)
    spread = lip_spread(drive, rate, fps, frames)
    blink = np.zeros(frames, np.float32)
    if blink_at is not None and mode in ("live", "wrong_audio"):
        # The lid's closure over time, seen by the camera only at its frame times.
        curve = np.concatenate([[0.0], BLINK_PROFILE, [0.0]])
        since = np.arange(frames) / fps - blink_at
        blink = np.interp(since / blink_seconds, np.linspace(0, 1, len(curve)), curve, 0, 0)
        blink = blink.astype(np.float32)

    rig = FaceRig(np.ascontiguousarray(face_rgb[..., :3]), face_landmarks(face_rgb), (size, size))
    motion = head_motion(frames, fps, opening, scale=size / 512)
    voice = syllabic_opening(samples, rate, fps, frames)
    hand = _hand_motion(frames, fps, voice, size) if mode == "hand_moved" else []
    tilts = _tilts(voice, size) if mode == "hand_tilted" else []
    rng = np.random.default_rng(11)

    command = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{size}x{size}", "-r", str(fps), "-i", "pipe:0", "-i", str(sentence_wav)]
    command += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k"]
    command += ["-pix_fmt", "yuv420p", "-c:a", "libopus", "-ar", "48000", "-shortest"]
    command += [str(out_path)]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        for i in range(frames):
            if mode == "still":
                frame = rig.base
            elif mode == "hand_moved":
                frame = cv2.warpAffine(
                    rig.base, hand[i], (size, size), borderMode=cv2.BORDER_REPLICATE
                )
            elif mode == "hand_tilted":
                frame = cv2.warpPerspective(
                    rig.base, tilts[i], (size, size), borderMode=cv2.BORDER_REPLICATE
                )
            else:
                frame = rig.render(
                    float(opening[i]), float(blink[i]), tuple(motion[i]), float(spread[i])
                )
            noisy = frame.astype(np.float32) + rng.normal(0, SENSOR_NOISE, frame.shape)
            proc.stdin.write(np.clip(noisy, 0, 255).astype(np.uint8).tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError("ffmpeg could not encode the clip")
    return out_path


class LiveClips:
    """``live_clip`` with a cache: each distinct clip is made once per session in ``folder``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._made: dict[tuple, Path] = {}

    def make(self, sentence_wav: str | Path, face_rgb: np.ndarray, **options) -> Path:
        face_key = hashlib.sha256(face_rgb.tobytes()).hexdigest()[:16]
        key = (str(sentence_wav), face_key, tuple(sorted(options.items())))
        if key not in self._made:
            out = self.folder / f"clip-{len(self._made)}-{options.get('mode', 'live')}.webm"
            self._made[key] = live_clip(out, sentence_wav, face_rgb, **options)
        return self._made[key]
