"""Enrollment checks on a voice sample: enough speech, no clipping, quiet room, one speaker.

A voice is cloned from these recordings, so each failure says what to record differently.
Speech is found with silero-vad (ONNX model inside the pip package, MIT); "one speaker" is
checked with the shared resemblyzer speaker embeddings of consecutive stretches of speech.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from engine.audio import frame_levels_db, read_wav
from engine.errors import EngineError, SilentAudio

VAD_RATE = 16000
MIN_SPEECH_SECONDS = 5.0  # a profile needs a few sentences
MIN_SAMPLE_RATE = 16000  # telephone-band audio lacks the upper spectrum a voice profile needs
MAX_CLIPPED_FRACTION = 0.001  # share of samples pinned at full scale
MIN_SNR_DB = 20.0  # speech level above the background between words
SPEAKER_WINDOW_SECONDS = 3.0
MIN_SAME_SPEAKER_SIMILARITY = 0.6  # 3 s stretches: one voice 0.83+, two voices 0.40 (measured)


class VoiceSampleRejected(EngineError):
    """A voice sample that cannot be enrolled; the message says what to record differently."""


class TooLittleSpeech(VoiceSampleRejected):
    pass


class LowSampleRate(VoiceSampleRejected):
    pass


class ClippedAudio(VoiceSampleRejected):
    pass


class NoisyAudio(VoiceSampleRejected):
    pass


class SeveralSpeakers(VoiceSampleRejected):
    pass


@dataclass
class EnrollmentReport:
    seconds: float  # whole recording
    sample_rate: int
    speech_seconds: float  # voice activity (silero-vad)
    clipped_fraction: float  # samples at or beyond 99.9 % of full scale
    snr_db: float  # speech level minus the background level between words
    speaker_consistency: float  # lowest similarity between two 3 s stretches of speech

    def to_dict(self) -> dict:
        return asdict(self)


_vad_lock = threading.Lock()
_vad_model = None


def _vad():
    global _vad_model
    with _vad_lock:
        if _vad_model is None:
            from silero_vad import load_silero_vad

            _vad_model = load_silero_vad(onnx=True)
        return _vad_model


def speech_segments(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of speech found by silero-vad in mono float samples."""
    import torch
    from silero_vad import get_speech_timestamps

    audio = _at_rate(samples, rate, VAD_RATE)
    model = _vad()
    with _vad_lock:
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
            model,
            sampling_rate=VAD_RATE,
            return_seconds=False,
        )
        model.reset_states()
    return [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in stamps]


def check_enrollment_sample(
    path: str | Path,
    *,
    min_speech_seconds: float = MIN_SPEECH_SECONDS,
    min_sample_rate: int = MIN_SAMPLE_RATE,
    min_snr_db: float = MIN_SNR_DB,
) -> EnrollmentReport:
    """Measure a voice sample for enrollment; raise a VoiceSampleRejected subclass on failure.

    Checks in order: sample rate, clipping, speech seconds, noise, one speaker.
    """
    samples, rate = read_wav(path)
    if not len(samples) or float(np.max(np.abs(samples))) < 1e-3:
        raise SilentAudio()
    if rate < min_sample_rate:
        raise LowSampleRate(
            f"The recording was made at {rate} Hz; record at {min_sample_rate // 1000} kHz or "
            "more (a phone line or a voice message is not enough)."
        )
    clipped = float(np.mean(np.abs(samples) >= 0.999))
    if clipped > MAX_CLIPPED_FRACTION:
        raise ClippedAudio(
            f"{clipped:.1%} of the recording is clipped (too loud for the microphone); "
            "lower the input level or move away from the microphone and record again."
        )
    segments = speech_segments(samples, rate)
    speech_seconds = float(sum(e - s for s, e in segments))
    if speech_seconds < min_speech_seconds:
        raise TooLittleSpeech(
            f"The recording holds {speech_seconds:.1f} s of speech; record at least "
            f"{min_speech_seconds:g} s of speech (a few sentences, read at a normal pace)."
        )
    snr_db = _snr_db(samples, rate, segments)
    if snr_db < min_snr_db:
        raise NoisyAudio(
            f"The background is too loud: speech is only {snr_db:.0f} dB above the noise between "
            f"words (we need {min_snr_db:g} dB); record in a quieter room."
        )
    consistency = _speaker_consistency(samples, rate, segments)
    if consistency < MIN_SAME_SPEAKER_SIMILARITY:
        raise SeveralSpeakers(
            "More than one voice seems to speak in the recording; record the subject alone."
        )
    return EnrollmentReport(
        seconds=round(len(samples) / rate, 3),
        sample_rate=rate,
        speech_seconds=round(speech_seconds, 3),
        clipped_fraction=round(clipped, 5),
        snr_db=round(snr_db, 1),
        speaker_consistency=round(consistency, 3),
    )


def _at_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return np.asarray(samples, dtype=np.float32)
    divisor = np.gcd(rate, target)
    return resample_poly(samples, target // divisor, rate // divisor).astype(np.float32)


def speech_mask(count: int, rate: int, segments: list[tuple[float, float]]) -> np.ndarray:
    """A boolean mask over ``count`` samples: True inside the speech segments."""
    mask = np.zeros(count, dtype=bool)
    for start, end in segments:
        mask[round(start * rate) : round(end * rate)] = True
    return mask


def _snr_db(samples: np.ndarray, rate: int, segments: list[tuple[float, float]]) -> float:
    hop = 0.02
    levels = frame_levels_db(samples, rate, hop)
    mask = speech_mask(len(samples), rate, segments)
    frame_is_speech = np.array(
        [
            mask[round(i * hop * rate) : round((i + 1) * hop * rate)].any()
            for i in range(len(levels))
        ]
    )
    speech = levels[frame_is_speech]
    background = levels[~frame_is_speech]
    speech_db = float(np.percentile(speech, 90)) if len(speech) else -120.0
    # Short pauses between words are enough; a recording without any pause counts as quiet,
    # because the speech level then bounds the noise from below.
    noise_db = float(np.percentile(background, 50)) if len(background) > 10 else -120.0
    return min(120.0, speech_db - max(noise_db, -120.0))


def _speaker_consistency(
    samples: np.ndarray, rate: int, segments: list[tuple[float, float]]
) -> float:
    from engine.biometrics.speaker import speaker_embedding_of_samples

    speech = samples[speech_mask(len(samples), rate, segments)]
    window = round(SPEAKER_WINDOW_SECONDS * rate)
    count = len(speech) // window
    if count < 2:
        return 1.0  # too short to split: one stretch is one speaker
    embeddings = []
    for i in range(count):
        try:
            embeddings.append(
                speaker_embedding_of_samples(speech[i * window : (i + 1) * window], rate)
            )
        except SilentAudio:
            continue
    if len(embeddings) < 2:
        return 1.0
    vectors = np.array(embeddings)
    # The least similar pair of stretches: a second voice anywhere shows up here.
    return float(np.min(vectors @ vectors.T))
