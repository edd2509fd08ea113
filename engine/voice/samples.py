"""Checks on an uploaded voice sample: readable, long enough, with speech in it."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import frame_levels_db, read_wav
from engine.errors import AudioTooShort, SilentAudio

SPEECH_FLOOR_DBFS = -45.0  # quieter than this is not speech, whatever the recording level
MIN_SPEECH_SECONDS = 0.3


@dataclass
class VoiceSampleReport:
    seconds: float  # whole recording
    sample_rate: int
    channels: int  # channels in the file (the engine works on a mono mix)
    speech_seconds: float  # time with speech energy
    peak: float  # largest absolute sample, 0..1
    rms_dbfs: float  # level of the speech parts, dB below full scale


def inspect_voice_sample(path: str | Path, min_seconds: float = 1.0) -> VoiceSampleReport:
    """Measure a recording. Raises CorruptAudio, SilentAudio or AudioTooShort."""
    samples, rate = read_wav(path)
    channels = _channel_count(Path(path))
    seconds = len(samples) / rate
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    levels = frame_levels_db(samples, rate, 0.02)
    # Speech: above an absolute floor and within 30 dB of the loud parts of this recording.
    loud = float(np.percentile(levels, 95)) if len(levels) else -120.0
    speaking = levels > max(SPEECH_FLOOR_DBFS, loud - 30.0)
    speech_seconds = float(speaking.sum() * 0.02)
    if peak < 1e-3:
        raise SilentAudio()
    if seconds < min_seconds:
        raise AudioTooShort(
            f"The recording lasts {seconds:.1f} s; record at least {min_seconds:g} s of speech."
        )
    if speech_seconds < MIN_SPEECH_SECONDS:
        raise SilentAudio()
    speech_energy = 10 ** (levels[speaking] / 10.0)
    rms_dbfs = float(10 * np.log10(speech_energy.mean()))
    return VoiceSampleReport(
        seconds=round(seconds, 3),
        sample_rate=rate,
        channels=channels,
        speech_seconds=round(speech_seconds, 3),
        peak=round(peak, 4),
        rms_dbfs=round(rms_dbfs, 2),
    )


def _channel_count(path: Path) -> int:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnchannels()
    except (wave.Error, EOFError):
        return 1  # decoded by ffmpeg to mono
