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


# How each phoneme shapes the lips sideways: -1 rounded and narrow (oo, w) .. +1 spread (ee, s).
PHONEME_SPREAD = {
    "w": -1.0, "uw": -0.9, "uh": -0.5, "ow": -0.8, "oy": -0.6, "ao": -0.4, "r": -0.5, "aw": -0.3,
    "sh": -0.4, "zh": -0.4, "ch": -0.4, "jh": -0.4,
    "iy": 0.9, "ih": 0.6, "ey": 0.7, "eh": 0.5, "ae": 0.5, "y": 0.6,
    "s": 0.6, "z": 0.6, "t": 0.3, "d": 0.3, "n": 0.3, "th": 0.3, "dh": 0.3, "k": 0.2, "g": 0.2,
    "p": 0.1, "b": 0.1, "m": 0.1,
}  # fmt: skip


def _smooth(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``values`` convolved with ``kernel``, same length even when the kernel is longer."""
    values = np.asarray(values, dtype=np.float64)
    pad = len(kernel) // 2
    padded = np.pad(values, (pad, len(kernel) - 1 - pad), mode="edge")
    return np.convolve(padded, kernel[::-1], mode="valid")[: len(values)]


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


def _phoneme_track(
    phonemes: Sequence[tuple[str, float, float]], table: dict[str, float], frames: int, fps: int
) -> np.ndarray:
    """Per frame, the table's value of the phoneme sounding at the frame's centre (NaN: none)."""
    track = np.full(frames, np.nan)
    times = (np.arange(frames) + 0.5) / fps
    ends = np.array([e for _, _, e in phonemes])
    index = np.searchsorted(ends, times, side="right")
    for i, t in enumerate(times):
        j = index[i]
        if j < len(phonemes) and phonemes[j][1] <= t:
            track[i] = table.get(phonemes[j][0], np.nan)
    return track


def lip_spread(
    samples: np.ndarray,
    rate: int,
    fps: int,
    frames: int,
    phonemes: Sequence[tuple[str, float, float]] | None = None,
) -> np.ndarray:
    """Lip shape per frame, -1 rounded .. +1 spread: from phonemes when given, else from the
    sound's brightness (share of energy above 2.5 kHz: "ee" and "s" are bright, "oo" is dark)."""
    hop = max(1, round(rate / fps))
    spread = np.zeros(frames, dtype=np.float64)
    if phonemes:
        track = _phoneme_track(phonemes, PHONEME_SPREAD, frames, fps)
        spread = np.nan_to_num(track, nan=0.0)
    elif len(samples) >= 2 * hop:
        window = 2 * hop
        count = min(frames, max(1, (len(samples) - window) // hop + 1))
        freqs = np.fft.rfftfreq(window, 1.0 / rate)
        high = freqs >= 2500
        taper = np.hanning(window).astype(np.float32)
        for i in range(count):
            chunk = samples[i * hop : i * hop + window] * taper
            power = np.abs(np.fft.rfft(chunk)) ** 2
            total = power.sum()
            if total > 1e-6:
                share = power[high].sum() / total
                spread[i] = np.clip((share - 0.08) / 0.2, -1.0, 1.0)
        levels = frame_levels_db(samples, rate, 1.0 / fps)[:frames]
        quiet = np.zeros(frames, bool)
        quiet[: len(levels)] = levels <= SILENCE_DBFS
        spread[quiet] = 0.0
    # Lips move a little slower than the sound changes.
    return _smooth(spread, np.array([0.2, 0.6, 0.2])).astype(np.float32)


def blink_schedule(frames: int, fps: int, seed: int = 7) -> np.ndarray:
    """Eyelid closure per frame, 0 open .. 1 closed: a blink every 2-6 s, 200-320 ms long,
    sometimes a double blink; the lid closes fast and opens slower, as eyes do."""
    rng = np.random.default_rng(seed)
    closure = np.zeros(frames, dtype=np.float32)
    shape = np.array([0.0, 0.55, 0.95, 1.0, 0.8, 0.5, 0.25, 0.08, 0.0])
    t = rng.uniform(0.8, 2.2)
    while True:
        start = round(t * fps)
        # The eyes are open at the end: a video made of segments joins them unseen.
        if start + round(0.32 * fps) >= frames - round(REST_SECONDS * fps):
            break
        seconds = rng.uniform(0.2, 0.32)
        length = max(3, round(seconds * fps))
        profile = np.interp(np.linspace(0, 1, length), np.linspace(0, 1, len(shape)), shape)
        profile[np.argmax(profile)] = 1.0  # every blink fully closes on at least one frame
        end = min(frames, start + length)
        closure[start:end] = np.maximum(closure[start:end], profile[: end - start])
        if rng.uniform() < 0.15:  # a double blink now and then
            t += seconds + 0.1
            continue
        t += rng.uniform(2.0, 6.0)
    return closure


# Motion settings (per avatar or render): how far the head moves and how wide the mouth opens.
# Blinks stay in every one: a face that never blinks looks dead.
MOTION_STYLES = {"still": (0.0, 0.85), "natural": (1.0, 1.0), "lively": (1.6, 1.15)}
DEFAULT_MOTION = "natural"


def motion_style(name: str) -> tuple[float, float]:
    """(head motion scale, expression scale) of a motion setting; ValueError if unknown."""
    try:
        return MOTION_STYLES[name]
    except KeyError:
        raise ValueError(
            f"Unknown motion setting {name!r}: use one of {', '.join(MOTION_STYLES)}."
        ) from None


def head_motion(frames: int, fps: int, opening: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per frame (dx, dy, degrees): slow sway, breathing and a drift in pauses (idle motion),
    and slight nods that follow the stresses of speech. ``scale``: pixels per 512-px frame."""
    t = np.arange(frames) / fps
    second = max(1, fps)
    talk = _smooth(opening, np.ones(second) / second)  # ~1 s average
    # Stresses: where the opening rises above its local average, the head dips a little.
    third = max(1, fps // 3)
    local = _smooth(opening, np.ones(third) / third)
    stress = np.clip(local - talk, 0.0, None)
    stress = _smooth(stress, np.hanning(max(3, fps // 2))) / max(1, fps // 4)
    pause = np.clip(1.0 - 4.0 * talk, 0.0, 1.0)  # 1 in a pause, 0 while talking
    dx = 1.4 * np.sin(2 * np.pi * t / 5.3 + 0.4) + 0.6 * pause * np.sin(2 * np.pi * t / 7.9)
    dy = (
        0.7 * np.sin(2 * np.pi * t / 4.1 + 1.1)
        + 0.35 * np.sin(2 * np.pi * t / 3.6)  # breathing
        + 1.0 * talk
        + 2.0 * np.clip(stress, 0.0, 1.0)
    )
    angle = (
        0.6 * np.sin(2 * np.pi * t / 6.7)
        + 0.25 * np.sin(2 * np.pi * t / 3.3 + 2.0)
        + 0.4 * pause * np.sin(2 * np.pi * t / 9.1 + 0.7)
    )
    # The head starts and ends at rest, so segments rendered apart join without a jump.
    rest = _rest_envelope(frames, fps)
    return np.stack([dx * rest * scale, dy * rest * scale, angle * rest], axis=1).astype(np.float32)


REST_SECONDS = 0.4  # the head eases from and back to its rest pose over this long


def _rest_envelope(frames: int, fps: int) -> np.ndarray:
    """0 at the first and last frame, 1 in between, with smooth ramps of REST_SECONDS."""
    t = np.arange(frames, dtype=np.float64)
    ramp = max(1.0, REST_SECONDS * fps)
    edge = np.clip(np.minimum(t, frames - 1 - t) / ramp, 0.0, 1.0)
    return edge * edge * (3 - 2 * edge)
