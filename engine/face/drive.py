"""What drives the face over time: mouth opening from speech, blinks, small head motion.

Each function returns one value per video frame, so the renderer only looks values up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.audio import frame_levels_db

SILENCE_DBFS = -55.0
# How far each phoneme (festival's radio phone set) lets the mouth open, 0 closed .. 1 wide.
PHONEME_OPENING = {
    "pau": 0.0, "h#": 0.0, "sil": 0.0,
    "p": 0.02, "b": 0.02, "m": 0.02,
    "f": 0.2, "v": 0.2,
    "w": 0.35, "uw": 0.55, "uh": 0.6, "ow": 0.7, "oy": 0.7, "r": 0.45,
    "s": 0.35, "z": 0.35, "sh": 0.4, "zh": 0.4, "ch": 0.4, "jh": 0.4, "th": 0.4, "dh": 0.4,
    "t": 0.45, "d": 0.45, "n": 0.45, "l": 0.5, "k": 0.5, "g": 0.5, "ng": 0.5, "hh": 0.6, "y": 0.45,
    "ih": 0.6, "iy": 0.55, "ax": 0.6, "er": 0.6, "eh": 0.8, "ey": 0.8,
    "ah": 0.9, "ae": 0.95, "aa": 1.0, "ao": 1.0, "aw": 1.0, "ay": 1.0,
}  # fmt: skip


def frame_count(seconds: float, fps: int) -> int:
    """Video frames for ``seconds`` of audio."""
    return max(1, round(seconds * fps))


def mouth_openness(
    samples: np.ndarray,
    rate: int,
    fps: int,
    frames: int,
    phonemes: Sequence[tuple[str, float, float]] | None = None,
) -> np.ndarray:
    """Mouth opening per frame, 0..1: loudness envelope, shaped by phonemes when given."""
    levels = frame_levels_db(samples, rate, 1.0 / fps)
    levels = np.pad(levels, (0, max(0, frames - len(levels))), constant_values=-120.0)[:frames]
    voiced = levels[levels > SILENCE_DBFS]
    if len(voiced) == 0:
        return np.zeros(frames, dtype=np.float32)
    loud = float(np.percentile(voiced, 90))
    opening = np.clip((levels - (loud - 26.0)) / 22.0, 0.0, 1.0)
    opening[levels <= SILENCE_DBFS] = 0.0
    if phonemes:
        shape = np.full(frames, 0.6)
        times = (np.arange(frames) + 0.5) / fps
        starts = np.array([s for _, s, _ in phonemes])
        ends = np.array([e for _, _, e in phonemes])
        index = np.searchsorted(ends, times, side="right")
        for i, t in enumerate(times):
            j = index[i]
            if j < len(phonemes) and starts[j] <= t:
                shape[i] = PHONEME_OPENING.get(phonemes[j][0], 0.6)
        opening = opening * (0.25 + 0.75 * shape)
        opening[shape == 0.0] = 0.0
    # Open quickly, close a little slower, like a jaw.
    smoothed = np.empty(frames, dtype=np.float32)
    value = 0.0
    for i, target in enumerate(opening):
        value += (0.75 if target > value else 0.55) * (target - value)
        smoothed[i] = value
    return np.clip(smoothed, 0.0, 1.0)


def blink_schedule(frames: int, fps: int, seed: int = 7) -> np.ndarray:
    """Eyelid closure per frame, 0 open .. 1 closed: a short blink every 2.5-5.5 s."""
    rng = np.random.default_rng(seed)
    closure = np.zeros(frames, dtype=np.float32)
    shape = np.array([0.45, 0.9, 1.0, 0.75, 0.4, 0.15])  # ~240 ms at 25 fps
    t = rng.uniform(1.0, 2.5)
    while True:
        start = round(t * fps)
        if start >= frames:
            break
        profile = np.interp(np.arange(round(0.24 * fps)), np.linspace(0, 0.24 * fps, 6), shape)
        end = min(frames, start + len(profile))
        closure[start:end] = profile[: end - start]
        t += rng.uniform(2.5, 5.5)
    return closure


def head_motion(frames: int, fps: int, opening: np.ndarray) -> np.ndarray:
    """Per frame (dx, dy, degrees): slow sway plus a slight nod that follows speech."""
    t = np.arange(frames) / fps
    talk = np.convolve(opening, np.ones(max(1, fps)) / max(1, fps), mode="same")  # ~1 s average
    dx = 1.6 * np.sin(2 * np.pi * t / 5.3 + 0.4)
    dy = 0.9 * np.sin(2 * np.pi * t / 4.1 + 1.1) + 1.2 * talk
    angle = 0.7 * np.sin(2 * np.pi * t / 6.7) + 0.3 * np.sin(2 * np.pi * t / 3.3 + 2.0)
    return np.stack([dx, dy, angle], axis=1).astype(np.float32)
