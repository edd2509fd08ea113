"""Speech the voice tests make themselves: festival's slt (the engine's own voice) and flite's
built-in voices (awb, rms: CMU ARCTIC male speakers) standing in for enrolled subjects."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bench.sentences import HARVARD_1
from engine.audio import read_wav, write_wav

RATE = 16000
# Harvard sentences (IEEE 1969), public domain: list 1 but its 8th and 10th.
ENROLL_SENTENCES = [*HARVARD_1[:7], HARVARD_1[8]]
HELD_OUT_SENTENCES = [
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "Kick the ball straight and follow through.",
]

_folder = Path(tempfile.mkdtemp(prefix="likeness-voice-media-"))


def _resampled(samples: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate == RATE:
        return samples
    divisor = np.gcd(rate, RATE)
    return resample_poly(samples, RATE // divisor, rate // divisor).astype(np.float32)


@functools.cache
def spoken(voice: str, text: str) -> np.ndarray:
    """``text`` spoken by ``voice`` ("slt": festival; else a flite voice), 16 kHz float32."""
    out = _folder / f"{voice}-{abs(hash(text))}.wav"
    if voice == "slt":
        subprocess.run(
            ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(out)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
    else:
        flite = shutil.which("flite")
        assert flite, "flite is needed for the voice tests (scripts/setup.sh installs it)"
        subprocess.run([flite, "-voice", voice, "-t", text, "-o", str(out)], check=True)
    samples, rate = read_wav(out)
    return _resampled(samples, rate)


def sentences(voice: str, texts: list[str], gap: float = 0.3) -> np.ndarray:
    silence = np.zeros(round(gap * RATE), dtype=np.float32)
    return np.concatenate([part for text in texts for part in (spoken(voice, text), silence)])


def wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    write_wav(path, samples, rate)
    return path
