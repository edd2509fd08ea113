"""Enrollment checks on a voice sample: enough speech, no clipping, quiet room, little echo, one
speaker, and what its bandwidth means for the clone.

A voice is cloned from these recordings, so each failure says what to record differently.
Speech is found with silero-vad (ONNX model inside the pip package, MIT); "one speaker" is
checked with the shared resemblyzer speaker embeddings of consecutive stretches of speech.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from engine.audio import frame_levels_db, read_wav, recorded_sample_rate
from engine.errors import CorruptAudio, EngineError, SilentAudio
from engine.voice.bandwidth import band_edge_hz

VAD_RATE = 16000
MIN_SPEECH_SECONDS = 5.0  # a profile needs a few sentences
# A phone call or a voice message (8 kHz) is enough to clone from: the profile measures its pitch
# from the harmonics and the conversion keeps the starting voice above the recording's band edge;
# below 8 kHz too few of a voice's formants are left.
MIN_SAMPLE_RATE = 8000
NARROW_BAND_HZ = 7000.0  # a recording whose speech ends below this is narrow-band
# Reverberation (RT60, seconds) of the room as the ends of phrases show it. Speech from close to
# the microphone in a furnished room dies away in well under 0.3 s; a bare room or a hall
# smears every sound into the next, and the clone would copy the room.
MAX_REVERBERATION_SECONDS = 0.5
DECAY_DB = 20.0  # reverberation is measured as the time to fall this far, times 60 / DECAY_DB
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


class EchoingRoom(VoiceSampleRejected):
    pass


@dataclass
class EnrollmentReport:
    seconds: float  # whole recording
    sample_rate: int
    speech_seconds: float  # voice activity (silero-vad)
    clipped_fraction: float  # samples at or beyond 99.9 % of full scale
    snr_db: float  # speech level minus the background level between words
    speaker_consistency: float  # lowest similarity between two 3 s stretches of speech
    reverberation_seconds: float = 0.0  # the room's RT60 as the ends of phrases show it
    bandwidth_hz: float = 0.0  # where the speech's long-term spectrum ends
    notes: list[str] = field(default_factory=list)  # accepted, but worth knowing

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

    Checks in order: sample rate, clipping, speech seconds, noise, echo, one speaker. A
    narrow-band sample (a phone call, a voice message) passes with a note saying so.
    """
    try:
        samples, rate = read_wav(path)
    except CorruptAudio:
        if Path(path).is_file() and Path(path).stat().st_size:
            recorded_sample_rate(path)  # a video without sound (footage, a clip) says so instead
        raise
    # A consent clip or footage is a video, decoded at 16 kHz: its rate is the one it recorded.
    recorded_rate = recorded_sample_rate(path)
    if not len(samples) or float(np.max(np.abs(samples))) < 1e-3:
        raise SilentAudio()
    if recorded_rate < min_sample_rate:
        raise LowSampleRate(
            f"The recording was made at {recorded_rate} Hz; record at"
            f" {min_sample_rate / 1000:g} kHz or more (a computer or phone microphone records"
            " at 16-48 kHz)."
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
    reverberation = reverberation_seconds(samples, rate, segments)
    if reverberation > MAX_REVERBERATION_SECONDS:
        raise EchoingRoom(
            f"The room echoes: speech takes about {reverberation:.1f} s to die away (we need "
            f"under {MAX_REVERBERATION_SECONDS:g} s); record in a smaller room with soft "
            "furnishings, close to the microphone."
        )
    bandwidth = speech_bandwidth_hz(samples, rate, segments)
    notes = []
    if bandwidth < NARROW_BAND_HZ:
        notes.append(
            f"The recording carries the voice up to {bandwidth / 1000:.1f} kHz only (a phone line "
            "or a voice message): the clone takes its pitch and timbre from it, and the sound "
            "above that from the starting voice. A recording at 16 kHz or more clones closer."
        )
    consistency = _speaker_consistency(samples, rate, segments)
    if consistency < MIN_SAME_SPEAKER_SIMILARITY:
        raise SeveralSpeakers(
            "More than one voice seems to speak in the recording; record the subject alone."
        )
    return EnrollmentReport(
        seconds=round(len(samples) / rate, 3),
        sample_rate=recorded_rate,
        speech_seconds=round(speech_seconds, 3),
        clipped_fraction=round(clipped, 5),
        snr_db=round(snr_db, 1),
        speaker_consistency=round(consistency, 3),
        reverberation_seconds=round(reverberation, 2),
        bandwidth_hz=round(bandwidth),
        notes=notes,
    )


def reverberation_seconds(
    samples: np.ndarray, rate: int, segments: list[tuple[float, float]]
) -> float:
    """The room's reverberation time (RT60, seconds) as the ends of phrases show it: the median,
    over stretches of speech followed by at least 0.2 s of pause, of the time the level (10 ms
    frames) takes to fall from 5 to 5 + DECAY_DB dB below the last 0.3 s's loudest frame,
    scaled to 60 dB. A decay the pause cuts short counts as the pause's length (a lower bound).
    On speech made reverberant with a room of known RT60: 0.09-0.34 s dry, 0.33-0.45 at 0.3 s,
    0.68-0.69 at 0.6 s, 1.04-1.05 at 1.0 s. 0 without pauses."""
    hop = 0.01
    levels = frame_levels_db(samples, rate, hop)
    times = []
    ends = [end for _, end in segments]
    starts = [start for start, _ in segments[1:]] + [len(samples) / rate]
    for end, next_start in zip(ends, starts, strict=True):
        if next_start - end < 0.2:
            continue
        window = levels[round((end - 0.3) / hop) : round(next_start / hop)]
        if len(window) < 5:
            continue
        peak = int(np.argmax(window[: round(0.3 / hop) + 1]))
        tail = window[peak:] - window[peak]
        # From 5 dB down (the sound's own end) to 5 + DECAY_DB down: the room's decay (T20-like)
        first = np.flatnonzero(tail < -5.0)
        if not len(first):
            continue
        below = np.flatnonzero(tail < -5.0 - DECAY_DB)
        frames = (below[0] if len(below) else len(tail)) - first[0]
        times.append(frames * hop * 60.0 / DECAY_DB)
    return float(np.median(times)) if times else 0.0


def speech_bandwidth_hz(
    samples: np.ndarray, rate: int, segments: list[tuple[float, float]]
) -> float:
    """Where the long-term spectrum of the speech ends (Hz): a 16 kHz file of a phone call is
    still narrow-band (``engine.voice.profile.band_edge_hz``, on a 1024-point Welch spectrum)."""
    from scipy.signal import welch

    speech = samples[speech_mask(len(samples), rate, segments)]
    if len(speech) < 1024:
        return rate / 2
    hz, power = welch(speech, rate, nperseg=1024)
    return band_edge_hz(10.0 * np.log10(power + 1e-20), nyquist_hz=hz[-1])


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
