"""Invisible audio watermark: 32 bits (the top half of the provenance id) in the speech band.

Design: time-domain spread spectrum at 16 kHz in 700-3500 Hz (kept by AAC 64k, MP3 128k and a
16 kHz resample). A block of CHIPS chips repeats for the whole track; each chip is a keyed noise
burst whose sign carries one coded bit (32 bits + CRC-16, K=7 rate-1/2 code: 108 chips), and a
keyed sync noise runs under it. The mark follows the speech envelope, so it hides under the voice
and is silent in silence. The detector whitens the band, weights each frame by its speech share over
the background noise (the mark is weak where the noise dominates), folds modulo the block length,
finds the block start from the sync noise (works after trims and codec delays), reads the chips
and decodes; a payload is reported only with a strong sync peak *and* a valid CRC.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage, signal

from engine.watermark.coding import coded_length, decode_payload_raw, encode_payload

PAYLOAD_BITS = 32
RATE = 16000
CHIP = 224  # samples per chip at 16 kHz (14 ms)
CHIPS = coded_length(PAYLOAD_BITS) + 4  # 108 coded + 4 repeated: 112 chips, 1.57 s a block
BLOCK = CHIP * CHIPS
BAND = (700.0, 3500.0)
STRENGTH = 0.1  # mark RMS relative to the speech's in-band RMS envelope (about -20 dB)
KEY = 0x4C494B454E455353
SYNC_SHARE = 0.25  # the sync noise's share of the mark's power: enough for z > 10 on 4 s clips
NOISE_PERCENTILE = 20  # the detector's noise-floor estimate: this percentile of frame levels
SILENCE_LEVEL = 1e-5  # frames this far below the loudest are digital silence, not the noise floor
CANCEL = 0.5  # informed embedding: the share of the host's own chip values the mark cancels
MAX_AMPLITUDE = 2.0  # no chip louder than twice the plain mark's (6 dB): it must stay inaudible
SYNC_THRESHOLD = 6.5  # z-score of the sync peak over all block offsets; noise stays below ~5


@dataclass(frozen=True)
class AudioMark:
    payload: int | None
    confidence: float
    sync_score: float
    bit_agreement: float
    raw_bits: int | None = None  # decoded bits before the CRC check: for benchmarks only

    def to_dict(self) -> dict:
        return {
            "found": self.payload is not None,
            "payload": f"{self.payload:08x}" if self.payload is not None else None,
            "confidence": round(self.confidence, 3),
            "sync_score": round(self.sync_score, 2),
        }


def _rng(purpose: int, key: int) -> np.random.Generator:
    return np.random.default_rng([key & 0xFFFFFFFF, key >> 32, 100 + purpose])


@lru_cache(maxsize=1)
def _bandpass() -> np.ndarray:
    return signal.butter(6, BAND, btype="bandpass", fs=RATE, output="sos")


def _band_noise(rng: np.random.Generator) -> np.ndarray:
    """One block of periodic noise limited to BAND, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(BLOCK))
    freqs = np.fft.rfftfreq(BLOCK, 1.0 / RATE)
    spectrum[(freqs < BAND[0]) | (freqs > BAND[1])] = 0.0
    noise = np.fft.irfft(spectrum, BLOCK)
    return noise / noise.std()


@lru_cache(maxsize=4)
def _patterns(key: int = KEY) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sync noise, data noise, chip window), each one block long."""
    taper = 24
    edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, taper))
    window = np.ones(CHIP)
    window[:taper], window[-taper:] = edge, edge[::-1]
    return _band_noise(_rng(1, key)), _band_noise(_rng(2, key)), np.tile(window, CHIPS)


@lru_cache(maxsize=4)
def _interleaver(key: int = KEY) -> np.ndarray:
    """Chip slot -> coded bit. Shuffled, so a pause in the speech (where the mark is silent too)
    erases scattered bits, which the code corrects, rather than a burst, which it cannot."""
    return _rng(4, key).permutation(CHIPS) % coded_length(PAYLOAD_BITS)


def _chip_signs(payload: int, key: int) -> np.ndarray:
    coded = 2.0 * encode_payload(payload, PAYLOAD_BITS) - 1.0
    scrambler = _rng(3, key).choice([-1.0, 1.0], size=CHIPS)
    return coded[_interleaver(key)] * scrambler


def _band(samples: np.ndarray) -> np.ndarray:
    """The mark's band of ``samples`` (zero phase)."""
    return signal.sosfiltfilt(_bandpass(), samples)


def _envelope(band: np.ndarray) -> np.ndarray:
    """In-band RMS envelope of the host (20 ms smoothing), from its band (``_band``)."""
    smooth = signal.windows.hann(321)
    smooth /= smooth.sum()
    return np.sqrt(np.maximum(np.convolve(band * band, smooth, mode="same"), 0.0))


def _to_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples
    g = np.gcd(rate, target)
    return signal.resample_poly(samples, target // g, rate // g)


def embed_audio(
    samples: np.ndarray,
    rate: int,
    payload: int,
    strength: float = STRENGTH,
    key: int = KEY,
    *,
    informed: bool = True,
) -> np.ndarray:
    """``samples`` (mono float, any rate >= 8 kHz) with the mark added; same length and rate.

    ``informed``: read the host as the detector will and shape each chip's amplitude to cancel
    part of the host's own correlation with it (improved spread spectrum), at the same energy.
    """
    if not 0 <= payload < 1 << PAYLOAD_BITS:
        raise ValueError("the audio watermark payload is a 32-bit unsigned integer")
    samples = np.asarray(samples, np.float64)
    if len(samples) == 0:
        return samples.astype(np.float32)
    host = _to_rate(samples, rate, RATE)
    sync, data, window = _patterns(key)
    signs = _chip_signs(payload, key)
    host_band = _band(host)
    envelope = _envelope(host_band) * strength
    sync_mark = np.resize(sync, len(host)) * envelope * np.sqrt(SYNC_SHARE)
    chips = np.resize(data * window, len(host)) * envelope * np.sqrt(1.0 - SYNC_SHARE)
    amplitudes = np.ones(CHIPS)
    if informed and len(host) >= BLOCK:  # shorter: the detector reads nothing anyway
        amplitudes = _informed_amplitudes(host_band, sync_mark, chips, signs, key)
    mark = sync_mark + chips * np.resize(np.repeat(signs * amplitudes, CHIP), len(host))
    mark = _to_rate(mark, RATE, rate)[: len(samples)]
    mark = np.pad(mark, (0, len(samples) - len(mark)))
    return np.clip(samples + mark, -1.0, 1.0).astype(np.float32)


def _informed_amplitudes(
    host_band: np.ndarray, sync_mark: np.ndarray, chips: np.ndarray, signs: np.ndarray, key: int
) -> np.ndarray:
    """Per chip slot, the amplitude that cancels CANCEL of what the host (and the sync noise)
    adds to that slot's detector value against its sign, scaled to the plain mark's energy.

    The detector is linear in a mark this small once the host fixes the whitening, so the
    chips' response is the whitened chips, read with the data pattern like the host.
    """
    # The band filter is linear: the host's band (filtered once, for the envelope too) plus the
    # sync noise's is the band of their sum.
    scale = _whitening_scale(_spectrum(host_band))
    mixed = _from_spectrum(_spectrum(host_band + _band(sync_mark)) * scale, len(host_band))
    interference = _slot_values(_fold(mixed), key) * signs
    gain = _slot_values(_fold(_apply_whitening(chips, scale)), key)
    usable = gain > 1e-6 * (np.abs(gain).max() + 1e-12)
    amplitudes = np.ones(CHIPS)
    amplitudes[usable] = 1.0 - CANCEL * interference[usable] / gain[usable]
    amplitudes = np.clip(amplitudes, 0.0, MAX_AMPLITUDE)
    # The same energy as the plain mark: each slot weighted by the energy its chips carry.
    energy = _fold(chips**2).reshape(CHIPS, CHIP).sum(axis=1)
    return amplitudes * np.sqrt(energy.sum() / ((amplitudes**2 * energy).sum() + 1e-30))


def _fold(flat: np.ndarray) -> np.ndarray:
    """The blocks of a signal summed into one block."""
    blocks = -(-len(flat) // BLOCK)
    return np.pad(flat, (0, blocks * BLOCK - len(flat))).reshape(blocks, BLOCK).sum(axis=0)


def _slot_values(folded: np.ndarray, key: int) -> np.ndarray:
    """Correlation of a folded, block-aligned signal with each chip slot's data noise."""
    _, data, window = _patterns(key)
    return (folded * data * window).reshape(CHIPS, CHIP).sum(axis=1)


def _band_spectrum(samples: np.ndarray) -> np.ndarray:
    """STFT of the mark's band of ``samples`` (the whitening works on it)."""
    return _spectrum(_band(samples))


def _spectrum(band: np.ndarray) -> np.ndarray:
    return signal.stft(band, fs=RATE, nperseg=512, noverlap=384)[2]


def _from_spectrum(spec: np.ndarray, length: int) -> np.ndarray:
    flat = signal.istft(spec, fs=RATE, nperseg=512, noverlap=384)[1][:length]
    return np.pad(flat, (0, length - len(flat)))


def _whitening_scale(spec: np.ndarray) -> np.ndarray:
    """Per STFT cell, the factor that flattens the band in frequency and weights each frame."""
    magnitude = np.abs(spec)
    # Smooth the magnitude across frequency: the harmonics of the voice are flattened away.
    kernel = np.ones(9) / 9.0
    smooth = ndimage.convolve1d(magnitude, kernel, axis=0, mode="constant")
    floor = np.median(smooth) * 0.05 + 1e-9
    # Weight each frame by its share of speech over the background noise: the mark follows the
    # speech, so in frames the noise dominates it is weak and the frame mostly adds noise. The
    # noise floor is the quietest frames' level (minimum statistics); in clean audio it is ~0.
    level = np.sqrt(np.mean(magnitude**2, axis=0)) + 1e-12
    audible = level[level > level.max() * SILENCE_LEVEL]
    noise = np.percentile(audible if len(audible) else level, NOISE_PERCENTILE)
    return np.clip(1.0 - (noise / level) ** 2, 0.0, 1.0) / (smooth + floor)  # a Wiener gain


def _apply_whitening(samples: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _from_spectrum(_band_spectrum(samples) * scale, len(samples))


def _whiten(samples: np.ndarray) -> np.ndarray:
    """The band flattened in frequency per short frame, each frame weighted by its speech share."""
    spec = _band_spectrum(samples)
    return _from_spectrum(spec * _whitening_scale(spec), len(samples))


def detect_audio(samples: np.ndarray, rate: int, key: int = KEY) -> AudioMark:
    """Look for the mark in mono float ``samples`` at ``rate``."""
    samples = np.asarray(samples, np.float64)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    host = _to_rate(samples, rate, RATE)
    if len(host) < BLOCK or not np.any(host):
        return AudioMark(None, 0.0, 0.0, 0.0)
    folded = _fold(_whiten(host))
    sync = _patterns(key)[0]
    corr = np.fft.irfft(np.fft.rfft(folded) * np.conj(np.fft.rfft(sync)), BLOCK)
    offset = int(np.argmax(corr))
    z = float((corr[offset] - corr.mean()) / (corr.std() + 1e-12))
    values = _slot_values(np.roll(folded, -offset), key)
    values *= _rng(3, key).choice([-1.0, 1.0], size=CHIPS)
    n = coded_length(PAYLOAD_BITS)
    soft = np.zeros(n)
    np.add.at(soft, _interleaver(key), values)
    soft /= np.abs(soft).mean() + 1e-12
    payload, agreement, raw = decode_payload_raw(soft, PAYLOAD_BITS)
    if z < SYNC_THRESHOLD:
        payload = None
    confidence = float(np.clip((z - 4.5) / 6.0, 0.0, 1.0)) * (1.0 if payload is not None else 0.5)
    return AudioMark(payload, confidence, z, agreement, raw)
