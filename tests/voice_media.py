"""Speech the voice tests make themselves: festival's slt (the engine's own voice) and flite's
built-in voices (awb, rms: CMU ARCTIC male speakers) standing in for enrolled subjects.

Held-out voices: the conversion's settings were chosen on flite awb, rms and kal16 (see
``engine.voice.conversion``) and the audio mark's on festival slt, so tests that judge them
measure on voices neither ever saw: festival's ``ked`` (US English male diphones, Debian
``festvox-kdlpc16k``) and espeak-ng's ``en-us+f3`` (a formant-synthesis female voice)."""

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

# Harvard list 3 (IEEE 1969), public domain: enrollments of the held-out voices, text that no
# development enrollment used.
HELD_OUT_ENROLL_SENTENCES = [
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.",
    "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.",
    "The colt reared and threw the tall rider.",
]
FESTIVAL_VOICES = {"slt": "voice_cmu_us_slt_arctic_hts", "ked": "voice_ked_diphone"}
ESPEAK_VOICES = {"espeak-f3": "en-us+f3"}
HELD_OUT_VOICES = ["ked", "espeak-f3"]

_folder = Path(tempfile.mkdtemp(prefix="likeness-voice-media-"))


def _resampled(samples: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate == RATE:
        return samples
    divisor = np.gcd(rate, RATE)
    return resample_poly(samples, RATE // divisor, rate // divisor).astype(np.float32)


@functools.cache
def spoken(voice: str, text: str) -> np.ndarray:
    """``text`` spoken by ``voice`` (festival's slt or ked, espeak-ng's espeak-f3, else a flite
    voice), 16 kHz float32."""
    out = _folder / f"{voice}-{abs(hash(text))}.wav"
    if voice in FESTIVAL_VOICES:
        command = ["text2wave", "-eval", f"({FESTIVAL_VOICES[voice]})", "-o", str(out)]
        subprocess.run(command, input=text.encode(), check=True, capture_output=True)
    elif voice in ESPEAK_VOICES:
        espeak = shutil.which("espeak-ng")
        assert espeak, "espeak-ng is needed for the held-out voice tests (scripts/setup.sh)"
        subprocess.run([espeak, "-v", ESPEAK_VOICES[voice], "-w", str(out), text], check=True)
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
