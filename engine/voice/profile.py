"""A voice profile: what the conversion needs to know of a voice, measured once from samples.

Statistics of the WORLD vocoder analysis (pyworld, MIT) of the speech in the samples:
- pitch: mean and standard deviation of log F0 over voiced frames;
- timbre: the mel-cepstral spectral envelopes of the speech frames (a subsampled bank, used for
  nearest-neighbour matching) with their per-coefficient mean and standard deviation;
- long-term spectrum: the mean log power spectrum (dB per FFT bin) of the voiced speech frames,
  measured on the waveform as a listener hears it;
- breathiness: the mean aperiodicity (dB, per frequency bin) of the voiced speech frames;
- speaking rate: syllable nuclei (peaks of the loudness envelope) per second of speech;
- phones: the phone (``engine.voice.phones``) each frame of the bank belongs to, found by
  recognising and force-aligning the samples once, so the conversion matches like with like;
- a resemblyzer speaker embedding (for verification and reports, never as a tuning objective).

Saved as a compressed ``.npz`` so a render reads it in milliseconds. Older profiles still load:
version 1 (before breathiness and the long-term spectrum were measured; the conversion then
keeps the TTS's breathiness and spectral balance) and version 2 (before phone labels; the
conversion then matches frames by their spectra alone).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks

from engine.audio import read_wav, resampled
from engine.errors import SilentAudio
from engine.voice.bandwidth import band_edge_hz
from engine.voice.phones import align_phones, frame_phones

PROFILE_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
RATE = 16000  # analysis and conversion rate
FRAME_MS = 5.0
CEPSTRUM_DIMS = 40
MAX_FRAMES = 16000  # 80 s of speech frames is plenty for matching; keeps a profile < 3 MB
SPECTRUM_BINS = 513  # long-term spectrum resolution: 1024-sample windows at RATE
SPECTRUM_STEP = 2  # every 2nd voiced frame (10 ms apart) is plenty for a mean spectrum
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
    # (bins,) mean aperiodicity in dB (20 log10, 0 = all noise) of voiced speech frames per
    # WORLD frequency bin; None in a version 1 profile
    aperiodicity_db: np.ndarray | None = None
    # (SPECTRUM_BINS,) mean power spectrum in dB of the voiced speech frames
    # (``frame_spectra_db``); None in a version 1 profile
    spectrum_db: np.ndarray | None = None
    # (frames,) int8 index in ``phones.PHONES`` of each bank frame's phone, ``phones.UNLABELLED``
    # where none was aligned; None in profiles before version 3 or made without alignment
    phones: np.ndarray | None = None
    version: int = PROFILE_VERSION

    @property
    def cepstrum_mean(self) -> np.ndarray:
        return self.cepstra.mean(axis=0)

    @property
    def cepstrum_std(self) -> np.ndarray:
        return self.cepstra.std(axis=0) + 1e-6

    @property
    def bandwidth_hz(self) -> float:
        """The recording's band edge (Hz) as its long-term spectrum shows it (``band_edge_hz``);
        RATE / 2 when the profile holds no spectrum."""
        return RATE / 2 if self.spectrum_db is None else band_edge_hz(self.spectrum_db)

    @property
    def f0_hz(self) -> float:
        return float(np.exp(self.f0_log_mean))

    def summary(self) -> dict:
        """Plain numbers for pages and reports."""
        return {
            "f0_hz": round(self.f0_hz, 1),
            "f0_log_std": round(self.f0_log_std, 3),
            "speaking_rate": round(self.speaking_rate, 2),
            "bandwidth_hz": round(self.bandwidth_hz),
            "speech_seconds": round(self.speech_seconds, 1),
            "frames": len(self.cepstra),
        }

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        extra = {
            name: values.astype(np.float32)
            for name, values in (
                ("aperiodicity_db", self.aperiodicity_db),
                ("spectrum_db", self.spectrum_db),
            )
            if values is not None
        }
        if self.phones is not None:
            extra["phones"] = self.phones.astype(np.int8)
        np.savez_compressed(
            buffer,
            version=self.version,
            scalars=np.array(
                [self.f0_log_mean, self.f0_log_std, self.speaking_rate, self.speech_seconds]
            ),
            cepstra=self.cepstra.astype(np.float32),
            voiced=self.voiced.astype(bool),
            embedding=self.embedding.astype(np.float32),
            **extra,
        )
        return buffer.getvalue()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceProfile:
        with np.load(io.BytesIO(data)) as npz:
            version = int(npz["version"])
            if version not in READABLE_VERSIONS:
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
                aperiodicity_db=_optional(npz, "aperiodicity_db"),
                spectrum_db=_optional(npz, "spectrum_db"),
                phones=npz["phones"].astype(np.int8) if "phones" in npz else None,
                version=version,
            )

    @classmethod
    def load(cls, path: str | Path) -> VoiceProfile:
        return cls.from_bytes(Path(path).read_bytes())


def _optional(npz, name: str) -> np.ndarray | None:
    return npz[name].astype(np.float64) if name in npz else None


@dataclass
class WorldFrames:
    """WORLD analysis of one recording at RATE: F0 (Hz, 0 unvoiced), envelope, aperiodicity."""

    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray


def to_analysis_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float64 samples resampled to RATE (WORLD wants float64)."""
    return resampled(samples, rate, RATE)


def analyze(samples: np.ndarray, f0: np.ndarray | None = None) -> WorldFrames:
    """WORLD analysis of float64 samples at RATE (dio + stonemask: fast, good enough for TTS);
    ``f0``: the pitch (Hz per FRAME_MS frame) when it was measured otherwise."""
    import pyworld

    times = np.arange(len(samples) // round(RATE * FRAME_MS / 1000) + 1) * FRAME_MS / 1000.0
    if f0 is None:
        f0, times = pyworld.dio(samples, RATE, frame_period=FRAME_MS)
        f0 = pyworld.stonemask(samples, f0, times, RATE)
    else:
        f0 = np.ascontiguousarray(np.pad(f0, (0, max(0, len(times) - len(f0))))[: len(times)])
    envelope = pyworld.cheaptrick(samples, f0, times, RATE)
    aperiodicity = pyworld.d4c(samples, f0, times, RATE)
    return WorldFrames(f0=f0, envelope=envelope, aperiodicity=aperiodicity)


def narrow_band_f0(samples: np.ndarray, rate: int) -> np.ndarray:
    """F0 (Hz per FRAME_MS frame) of a recording made below RATE (a phone line: 8 kHz, nothing
    under 300 Hz), by WORLD's harvest at its own rate. dio needs the fundamental itself and
    loses a male voice's without it (on phone-band copies: 26 % of frames voiced instead of 52 %,
    log F0 spread 0.41 instead of 0.11); harvest finds it from the harmonics (0.49, 0.10), at
    about a sixth of a CPU second per second of speech, once per voice profile."""
    import pyworld

    f0, _ = pyworld.harvest(np.asarray(samples, dtype=np.float64), rate, frame_period=FRAME_MS)
    return f0


def encode_envelope(envelope: np.ndarray) -> np.ndarray:
    import pyworld

    return pyworld.code_spectral_envelope(envelope, RATE, CEPSTRUM_DIMS)


def decode_envelope(cepstra: np.ndarray) -> np.ndarray:
    import pyworld

    size = pyworld.get_cheaptrick_fft_size(RATE)
    return pyworld.decode_spectral_envelope(np.ascontiguousarray(cepstra), RATE, size)


def aperiodicity_db(aperiodicity: np.ndarray) -> np.ndarray:
    """WORLD aperiodicity (0..1) in dB, floored at -60 dB (a perfectly periodic band)."""
    return 20.0 * np.log10(np.maximum(aperiodicity, 1e-3))


def frame_spectra_db(samples: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Power spectra in dB (rows, SPECTRUM_BINS) of the analysis frames where ``frames`` (a bool
    per FRAME_MS frame, as WORLD numbers them) is set: Hann windows of 2 * SPECTRUM_BINS - 2
    samples centred on the frames, every SPECTRUM_STEP-th chosen frame."""
    size = 2 * SPECTRUM_BINS - 2
    hop = round(RATE * FRAME_MS / 1000)
    centres = np.flatnonzero(frames)[::SPECTRUM_STEP] * hop
    if len(centres) == 0:
        return np.zeros((0, SPECTRUM_BINS))
    padded = np.pad(samples, (size // 2, size // 2))
    windows = padded[centres[:, None] + np.arange(size)[None, :]] * np.hanning(size)
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2
    return 10.0 * np.log10(power + 1e-10)


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
    sample_paths: Sequence[str | Path], *, with_embedding: bool = True, with_phones: bool = True
) -> VoiceProfile:
    """The profile of the voice in the samples (WAV or anything ffmpeg reads)."""
    recordings = [read_wav(path) for path in sample_paths]
    return voice_profile_of_samples(
        recordings, with_embedding=with_embedding, with_phones=with_phones
    )


def voice_profile_of_samples(
    recordings: Sequence[tuple[np.ndarray, int]],
    *,
    with_embedding: bool = True,
    with_phones: bool = True,
) -> VoiceProfile:
    """The profile of the voice in the recordings (mono samples, rate). ``with_phones``:
    label the frames' phones (speech recognition and forced alignment: about a third of a
    CPU second per second of speech, once per voice)."""
    log_f0s, cepstra, voiced, aperiodicity, spectra, labels = [], [], [], [], [], []
    speech_seconds, nuclei = 0.0, 0.0
    for samples, rate in recordings:
        audio = to_analysis_rate(samples, rate)
        if len(audio) < RATE // 2:
            continue
        frames = analyze(audio, narrow_band_f0(samples, rate) if rate < RATE else None)
        coded = encode_envelope(frames.envelope)
        energy = coded[:, 0]
        speech = energy > energy.max() - SILENCE_BELOW_PEAK
        seconds = float(speech.sum() * FRAME_MS / 1000.0)
        speech_seconds += seconds
        nuclei += speaking_rate(audio, RATE, seconds) * seconds
        cepstra.append(coded[speech])
        voiced.append(frames.f0[speech] > 0)
        if with_phones:
            timings = align_phones(audio, RATE)
            labels.append(frame_phones(timings, len(coded), FRAME_MS / 1000.0)[speech])
        log_f0s.append(np.log(frames.f0[frames.f0 > 0]))
        voiced_speech = speech & (frames.f0 > 0)
        aperiodicity.append(aperiodicity_db(frames.aperiodicity[voiced_speech]))
        spectra.append(frame_spectra_db(audio, voiced_speech))
    if not cepstra or speech_seconds < 0.5 or sum(len(f) for f in log_f0s) < 20:
        raise SilentAudio("The voice samples hold too little voiced speech to build a profile.")
    bank = np.concatenate(cepstra)
    is_voiced = np.concatenate(voiced)
    phones = np.concatenate(labels) if with_phones else None
    if len(bank) > MAX_FRAMES:
        keep = np.linspace(0, len(bank) - 1, MAX_FRAMES).round().astype(int)
        bank, is_voiced = bank[keep], is_voiced[keep]
        phones = phones[keep] if phones is not None else None
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
        aperiodicity_db=_mean_rows(np.concatenate(aperiodicity)),
        spectrum_db=_mean_rows(np.concatenate(spectra)),
        phones=phones,
    )


def _mean_rows(rows: np.ndarray) -> np.ndarray | None:
    return rows.mean(axis=0) if len(rows) else None
