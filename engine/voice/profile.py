"""A voice profile: what the conversion needs to know of a voice, measured once from samples.

Statistics of the WORLD vocoder analysis (pyworld, MIT) of the speech in the samples:
- pitch: mean and standard deviation of log F0 over voiced frames;
- timbre: the mel-cepstral spectral envelopes of the speech frames (a subsampled bank, used for
  nearest-neighbour matching) with their per-coefficient mean and standard deviation;
- speaking rate: syllable nuclei (peaks of the loudness envelope) per second of speech;
- a resemblyzer speaker embedding (for verification and reports, never as a tuning objective).

Saved as a compressed ``.npz`` so a render reads it in milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks, resample_poly

from engine.audio import read_wav
from engine.errors import SilentAudio

PROFILE_VERSION = 1
RATE = 16000  # analysis and conversion rate
FRAME_MS = 5.0
CEPSTRUM_DIMS = 40
MAX_FRAMES = 16000  # 80 s of speech frames is plenty for matching; keeps a profile < 3 MB
SILENCE_BELOW_PEAK = 9.0  # frames this far (coded log energy) below the loudest are not speech


@dataclass
class VoiceProfile:
    f0_log_mean: float
    f0_log_std: float
    speaking_rate: float  # syllable nuclei per second of speech
    speech_seconds: float
    cepstra: np.ndarray  # (frames, CEPSTRUM_DIMS) coded spectral envelopes of speech frames
    voiced: np.ndarray  # (frames,) bool
    embedding: np.ndarray  # (256,) resemblyzer, unit length; zeros when not computed
    version: int = PROFILE_VERSION

    @property
    def cepstrum_mean(self) -> np.ndarray:
        return self.cepstra.mean(axis=0)

    @property
    def cepstrum_std(self) -> np.ndarray:
        return self.cepstra.std(axis=0) + 1e-6

    @property
    def f0_hz(self) -> float:
        return float(np.exp(self.f0_log_mean))

    def summary(self) -> dict:
        """Plain numbers for pages and reports."""
        return {
            "f0_hz": round(self.f0_hz, 1),
            "f0_log_std": round(self.f0_log_std, 3),
            "speaking_rate": round(self.speaking_rate, 2),
            "speech_seconds": round(self.speech_seconds, 1),
            "frames": len(self.cepstra),
        }

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            version=self.version,
            scalars=np.array(
                [self.f0_log_mean, self.f0_log_std, self.speaking_rate, self.speech_seconds]
            ),
            cepstra=self.cepstra.astype(np.float32),
            voiced=self.voiced.astype(bool),
            embedding=self.embedding.astype(np.float32),
        )
        return buffer.getvalue()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceProfile:
        with np.load(io.BytesIO(data)) as npz:
            if int(npz["version"]) != PROFILE_VERSION:
                raise ValueError("The voice profile was made by another engine version.")
            f0_mean, f0_std, rate, seconds = (float(v) for v in npz["scalars"])
            return cls(
                f0_log_mean=f0_mean,
                f0_log_std=f0_std,
                speaking_rate=rate,
                speech_seconds=seconds,
                cepstra=npz["cepstra"].astype(np.float64),
                voiced=npz["voiced"].astype(bool),
                embedding=npz["embedding"].astype(np.float32),
            )

    @classmethod
    def load(cls, path: str | Path) -> VoiceProfile:
        return cls.from_bytes(Path(path).read_bytes())


@dataclass
class WorldFrames:
    """WORLD analysis of one recording at RATE: F0 (Hz, 0 unvoiced), envelope, aperiodicity."""

    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray


def to_analysis_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float64 samples resampled to RATE (WORLD wants float64)."""
    samples = np.asarray(samples, dtype=np.float64)
    if rate != RATE:
        divisor = np.gcd(rate, RATE)
        samples = resample_poly(samples, RATE // divisor, rate // divisor)
    return np.ascontiguousarray(samples)


def analyze(samples: np.ndarray) -> WorldFrames:
    """WORLD analysis of float64 samples at RATE (dio + stonemask: fast, good enough for TTS)."""
    import pyworld

    f0, times = pyworld.dio(samples, RATE, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(samples, f0, times, RATE)
    envelope = pyworld.cheaptrick(samples, f0, times, RATE)
    aperiodicity = pyworld.d4c(samples, f0, times, RATE)
    return WorldFrames(f0=f0, envelope=envelope, aperiodicity=aperiodicity)


def encode_envelope(envelope: np.ndarray) -> np.ndarray:
    import pyworld

    return pyworld.code_spectral_envelope(envelope, RATE, CEPSTRUM_DIMS)


def decode_envelope(cepstra: np.ndarray) -> np.ndarray:
    import pyworld

    size = pyworld.get_cheaptrick_fft_size(RATE)
    return pyworld.decode_spectral_envelope(np.ascontiguousarray(cepstra), RATE, size)


def speaking_rate(samples: np.ndarray, rate: int, speech_seconds: float) -> float:
    """Syllable nuclei per second of speech: peaks of the 4-16 Hz smoothed loudness envelope."""
    hop = 0.01
    from engine.audio import frame_levels_db

    levels = frame_levels_db(samples, rate, hop)
    smooth = np.convolve(levels, np.hanning(7) / np.hanning(7).sum(), mode="same")
    loud = float(np.percentile(smooth, 95))
    peaks, _ = find_peaks(smooth, height=loud - 25.0, prominence=4.0, distance=round(0.1 / hop))
    return float(len(peaks) / max(speech_seconds, 1e-3))


def compute_voice_profile(
    sample_paths: Sequence[str | Path], *, with_embedding: bool = True
) -> VoiceProfile:
    """The profile of the voice in the samples (WAV or anything ffmpeg reads)."""
    recordings = [read_wav(path) for path in sample_paths]
    return voice_profile_of_samples(recordings, with_embedding=with_embedding)


def voice_profile_of_samples(
    recordings: Sequence[tuple[np.ndarray, int]], *, with_embedding: bool = True
) -> VoiceProfile:
    log_f0s, cepstra, voiced = [], [], []
    speech_seconds, nuclei = 0.0, 0.0
    for samples, rate in recordings:
        audio = to_analysis_rate(samples, rate)
        if len(audio) < RATE // 2:
            continue
        frames = analyze(audio)
        coded = encode_envelope(frames.envelope)
        energy = coded[:, 0]
        speech = energy > energy.max() - SILENCE_BELOW_PEAK
        seconds = float(speech.sum() * FRAME_MS / 1000.0)
        speech_seconds += seconds
        nuclei += speaking_rate(audio, RATE, seconds) * seconds
        cepstra.append(coded[speech])
        voiced.append(frames.f0[speech] > 0)
        log_f0s.append(np.log(frames.f0[frames.f0 > 0]))
    if not cepstra or speech_seconds < 0.5 or sum(len(f) for f in log_f0s) < 20:
        raise SilentAudio("The voice samples hold too little voiced speech to build a profile.")
    bank = np.concatenate(cepstra)
    is_voiced = np.concatenate(voiced)
    if len(bank) > MAX_FRAMES:
        keep = np.linspace(0, len(bank) - 1, MAX_FRAMES).round().astype(int)
        bank, is_voiced = bank[keep], is_voiced[keep]
    log_f0 = np.concatenate(log_f0s)
    embedding = np.zeros(256, dtype=np.float32)
    if with_embedding:
        from engine.biometrics.speaker import speaker_embedding_of_samples

        joined = np.concatenate([to_analysis_rate(s, r) for s, r in recordings])
        embedding = speaker_embedding_of_samples(joined.astype(np.float32), RATE)
    return VoiceProfile(
        f0_log_mean=float(log_f0.mean()),
        f0_log_std=float(log_f0.std()),
        speaking_rate=nuclei / max(speech_seconds, 1e-3),
        speech_seconds=speech_seconds,
        cepstra=bank,
        voiced=is_voiced,
        embedding=np.asarray(embedding, dtype=np.float32),
    )
