"""A recording's bandwidth, read from its long-term spectrum: where the speech's spectrum ends.

A phone call or a voice message (8 kHz) ends near 4 kHz, a microphone at 16 kHz near 8 kHz; the
enrollment checks say so, and the conversion keeps the starting voice above a subject's band.
"""

from __future__ import annotations

import numpy as np

# Past a recording's band edge its long-term spectrum (smoothed over 500 Hz) stays this far below
# the speech band's level: 8 kHz phone-band speech falls to -37 dB at 4.5 kHz and -61 dB at 5 kHz;
# full-band voices stay above -36 dB up to 7.5 kHz.
BAND_EDGE_BELOW_DB = 45.0
BAND_EDGE_SMOOTH_HZ = 500.0


def band_edge_hz(spectrum_db: np.ndarray, nyquist_hz: float = 8000.0) -> float:
    """The highest frequency (Hz) of a long-term spectrum (``VoiceProfile.spectrum_db``: bins
    from 0 to ``nyquist_hz``) still within BAND_EDGE_BELOW_DB of the speech band (300-3000 Hz):
    a recording's bandwidth."""
    hz = np.linspace(0, nyquist_hz, len(spectrum_db))
    speech_level = float(np.median(spectrum_db[(hz >= 300) & (hz <= 3000)]))
    width = round(BAND_EDGE_SMOOTH_HZ / hz[1])  # a single bin (a hum, the Nyquist bin) is no edge
    smooth = np.convolve(np.pad(spectrum_db, width, mode="edge"), np.ones(width) / width, "same")
    inside = np.flatnonzero(smooth[width:-width] > speech_level - BAND_EDGE_BELOW_DB)
    return float(hz[inside[-1]]) if len(inside) else nyquist_hz


def sound_bandwidth_hz(samples: np.ndarray, rate: int) -> float | None:
    """Where a recording's sound ends (Hz), from the long-term spectrum of all of it (no speech
    detection: a file's track as a listener gets it); None for silence or under 0.1 s. Speech at
    16 kHz resampled to 48 kHz ends near 8 kHz, whatever its sample rate says."""
    from scipy.signal import welch  # slow to import; only the readers of a file's sound need it

    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < rate // 10 or not np.any(samples):
        return None
    # Bins of about 23 Hz at 48 kHz: BAND_EDGE_SMOOTH_HZ spans many.
    segment = min(len(samples), 1 << max(8, round(np.log2(rate / 23.4))))
    hz, power = welch(samples, rate, nperseg=segment)
    return band_edge_hz(10.0 * np.log10(power + 1e-20), nyquist_hz=float(hz[-1]))
