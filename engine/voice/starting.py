"""Starting voices: the installed TTS voice a conversion starts from, chosen nearest the subject.

A deep male voice pulled all the way from festival's female ``slt`` loses more of itself on the
way than one pulled from a male voice. The installed Debian voices (festival's HTS ``slt``;
flite's ``awb`` and ``rms``) each have a ``VoiceProfile`` measured once on a reference
passage; the subject's profile holds the same statistics, and the voice nearest in
- pitch: mean log F0 of the voiced frames, and
- long-term spectrum: the voiced frames' mean spectrum, level removed, in bands up to the
  subject's recording's own band edge (a phone-band sample says nothing above 4 kHz)
is where the conversion starts. Plain signal statistics, cheap and deterministic: never the
speaker-embedding model that measures the benchmark.

festival still speaks every script (its word and phone times drive captions, lip sync, pauses
and emphasis); a flite starting voice speaks the same text, and its WORLD frames are re-timed
phone by phone onto festival's timeline, so festival's timings stay true of the output.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import os
import shutil
import subprocess  # nosec B404: runs flite with argument lists, never through a shell
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import read_wav, resampled
from engine.errors import EngineError, ToolMissing
from engine.voice.festival import script_chunks, synthesize
from engine.voice.profile import (
    FRAME_MS,
    PROFILE_VERSION,
    RATE,
    VoiceProfile,
    WorldFrames,
    analyze,
    voice_profile_of_samples,
)

Timing = tuple[str, float, float]


@dataclass(frozen=True)
class StartingVoice:
    name: str  # how settings, tests and reports name it
    program: str  # "festival" or "flite"
    speaker: str  # the person recorded (one person can be several voices)
    sex: str
    accent: str


FESTIVAL_SLT = StartingVoice("slt", "festival", "slt", "female", "US English")
STARTING_VOICES = (
    FESTIVAL_SLT,
    StartingVoice("awb", "flite", "awb", "male", "Scottish English"),
    StartingVoice("rms", "flite", "rms", "male", "US English"),
)
# Not starting voices: festival's ked (Debian festvox-kdlpc16k) is held out for the held-out
# tests and the benchmark; flite's kal16 (and festival's kal, festvox-kallpc16k, the same
# diphones) prints phone times that do not match its wave (4.96 s of phones for 4.72 s of
# audio), so it cannot be re-timed phone by phone, and flite itself is misheard on it (word
# error rate 0.12 where awb and rms score 0); flite's slt is festival's slt. Debian packages no
# other English voice (its other festvox packages speak Czech, Finnish, Hindi, Italian, ...).

# Distance units: 0.1 in log F0 (about 1.7 semitones) weighs as much as 3 dB RMS of long-term
# spectrum. Male and female voices differ by about 0.6 in log F0, so pitch separates the sexes
# and the spectrum chooses within one.
PITCH_UNIT = 0.1
SPECTRUM_UNIT_DB = 3.0
SPECTRUM_LOW_HZ = 100.0
SPECTRUM_BANDS_PER_KHZ = 2  # 500 Hz bands: the broad shape, not one voice's harmonics


@functools.cache
def installed_starting_voices() -> tuple[StartingVoice, ...]:
    """The starting voices this machine can speak: festival's ``slt`` always (the engine needs
    it for the timeline), flite's when flite lists them."""
    voices = [FESTIVAL_SLT]
    flite = shutil.which("flite")
    if flite:
        listed = subprocess.run(  # nosec B603: the tool's absolute path, a fixed argument
            [flite, "-lv"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
        voices += [v for v in STARTING_VOICES if v.program == "flite" and v.name in listed]
    return tuple(voices)


def starting_voices_named(names: Sequence[str] | None) -> list[StartingVoice]:
    """The installed starting voices with these names (all when ``names`` is None)."""
    installed = installed_starting_voices()
    if names is None:
        return list(installed)
    chosen = [v for v in installed if v.name in set(names)]
    unknown = sorted(set(names) - {v.name for v in installed})
    if unknown or not chosen:
        known = ", ".join(v.name for v in installed)
        raise EngineError(f"Unknown starting voice {', '.join(unknown)}; installed: {known}.")
    return chosen


def band_spectrum(spectrum_db: np.ndarray, top_hz: float) -> np.ndarray:
    """Mean level (dB) of a long-term spectrum in 500 Hz bands from SPECTRUM_LOW_HZ to
    ``top_hz``, the mean level removed (a recording's gain says nothing of the voice)."""
    hz = np.linspace(0, RATE / 2, len(spectrum_db))
    count = max(1, round((top_hz - SPECTRUM_LOW_HZ) / 1000 * SPECTRUM_BANDS_PER_KHZ))
    edges = np.linspace(SPECTRUM_LOW_HZ, top_hz, count + 1)
    bands = np.array(
        [spectrum_db[(hz >= lo) & (hz < hi)].mean() for lo, hi in itertools.pairwise(edges)]
    )
    return bands - bands.mean()


def voice_distance(subject: VoiceProfile, voice: VoiceProfile) -> float:
    """How far ``voice`` is from ``subject`` in pitch and long-term spectrum (see the units)."""
    pitch = (subject.f0_log_mean - voice.f0_log_mean) / PITCH_UNIT
    if subject.spectrum_db is None or voice.spectrum_db is None:
        return abs(pitch)
    top = min(subject.bandwidth_hz, voice.bandwidth_hz)
    difference = band_spectrum(subject.spectrum_db, top) - band_spectrum(voice.spectrum_db, top)
    spectrum = float(np.sqrt(np.mean(difference**2))) / SPECTRUM_UNIT_DB
    return float(np.hypot(pitch, spectrum))


def nearest_starting_voice(subject: VoiceProfile, voices: Sequence[StartingVoice]) -> StartingVoice:
    """The voice (of ``voices``) nearest the subject; the first listed wins a tie."""
    distances = [voice_distance(subject, starting_voice_profile(v)) for v in voices]
    return voices[int(np.argmin(distances))]


# The starting voices' profiles are measured once on this passage ("The Rainbow Passage",
# Fairbanks 1960, public domain; none of it is in the benchmark's sentences).
REFERENCE_TEXT = (
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "The rainbow is a division of white light into many beautiful colors. These take the shape "
    "of a long round arch, with its path high above, and its two ends apparently beyond the "
    "horizon. There is, according to legend, a boiling pot of gold at one end. People look, but "
    "no one ever finds it. When a man looks for something beyond his reach, his friends say he "
    "is looking for the pot of gold at the end of the rainbow."
)


@functools.cache
def starting_voice_profile(voice: StartingVoice) -> VoiceProfile:
    """The voice's profile, measured once per machine and cached on disk beside temp files."""
    if voice.program == "festival":
        return festival_profile()
    cache = Path(tempfile.gettempdir()) / (
        f"likeness-{voice.program}-{voice.name}-profile-v{PROFILE_VERSION}.npz"
    )
    if cache.is_file():
        try:
            return VoiceProfile.load(cache)
        except (OSError, ValueError, KeyError):
            cache.unlink(missing_ok=True)
    samples, _ = flite_speech(REFERENCE_TEXT, voice.name)
    profile = voice_profile_of_samples([(samples, RATE)], with_embedding=False, with_phones=False)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
    profile.save(partial)
    os.replace(partial, cache)
    return profile


def flite_speech(text: str, voice: str) -> tuple[np.ndarray, list[Timing]]:
    """``text`` spoken by flite's ``voice``: samples at RATE and (phone, start, end seconds)."""
    flite = shutil.which("flite")
    if flite is None:
        raise ToolMissing("flite is not installed (Debian package flite).")
    with tempfile.TemporaryDirectory(prefix="likeness-flite-") as tmp:
        script, out = Path(tmp) / "text.txt", Path(tmp) / "speech.wav"
        script.write_text(text, encoding="utf-8")
        proc = subprocess.run(  # nosec B603: argument list, the tool's absolute path, our files
            [flite, "-voice", voice, "-psdur", "-f", str(script), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=60 + len(text) // 20,
            check=False,
        )
        if proc.returncode != 0 or not out.is_file():
            raise EngineError(f"flite could not speak with {voice}: {proc.stderr.strip()[:200]}")
        samples, rate = read_wav(out)
    return resampled(samples, rate, RATE), flite_phone_times(proc.stdout)


def flite_phone_times(printed: str) -> list[Timing]:
    """(phone, start, end) from flite's ``-psdur`` output ("pau:0.248 hh:0.345 ..."), whose end
    times start again from zero at each utterance (sentence); the wave is the utterances in a
    row."""
    phones: list[Timing] = []
    offset = previous_end = 0.0
    for item in printed.split():
        phone, _, end_text = item.rpartition(":")
        if not phone:
            continue
        end = float(end_text)
        if end < previous_end:  # a new utterance
            offset += previous_end
        start = phones[-1][2] if phones else 0.0
        phones.append((phone, start, offset + end))
        previous_end = end
    return phones


def frames_on_timeline(
    frames: WorldFrames, phones: Sequence[Timing], timeline: Sequence[Timing], count: int
) -> WorldFrames:
    """WORLD ``frames`` of speech whose phones are ``phones``, re-timed to ``count`` frames in
    which every phone lasts as in ``timeline`` (the same text's phones as festival timed them).
    Phones the two agree on are anchors, mapped start to start and end to end, with time in
    between interpolated; frames interpolated in log envelope. Timeline pauses and gaps are
    silent."""
    source = [p for p, _, _ in phones]
    target = [p for p, _, _ in timeline]
    matcher = difflib.SequenceMatcher(None, target, source, autojunk=False)
    xs, ys = [0.0], [0.0]
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            label, start, end = timeline[block.a + k]
            if label == "pau":
                continue
            _, source_start, source_end = phones[block.b + k]
            xs += [start, end]
            ys += [source_start, source_end]
    order = np.argsort(xs, kind="stable")
    x, y = np.asarray(xs)[order], np.maximum.accumulate(np.asarray(ys)[order])
    x, first = np.unique(x, return_index=True)
    y = y[first]
    frame_s = FRAME_MS / 1000.0
    position = np.interp(np.arange(count) * frame_s, x, y) / frame_s
    last = len(frames.f0) - 1
    low = np.clip(np.floor(position).astype(int), 0, max(last - 1, 0))
    share = np.clip(position - low, 0.0, 1.0)[:, None]
    high = np.minimum(low + 1, last)
    log_envelope = np.log(np.maximum(frames.envelope, 1e-16))
    envelope = np.exp(log_envelope[low] * (1 - share) + log_envelope[high] * share)
    aperiodicity = frames.aperiodicity[low] * (1 - share) + frames.aperiodicity[high] * share
    nearest = np.where(share[:, 0] < 0.5, low, high)
    f0 = frames.f0[nearest].copy()
    both = (frames.f0[low] > 0) & (frames.f0[high] > 0)
    f0[both] = np.exp(
        np.log(frames.f0[low][both]) * (1 - share[both, 0])
        + np.log(frames.f0[high][both]) * share[both, 0]
    )
    silent = _silent_frames(timeline, count, frame_s)
    f0[silent] = 0.0
    envelope[silent] = 1e-12
    aperiodicity[silent] = 1.0
    return WorldFrames(
        f0=np.ascontiguousarray(f0),
        envelope=np.ascontiguousarray(envelope),
        aperiodicity=np.ascontiguousarray(aperiodicity),
    )


def _silent_frames(timeline: Sequence[Timing], count: int, frame_s: float) -> np.ndarray:
    """Frames in none of the timeline's phones, or in its pauses."""
    silent = np.ones(count, dtype=bool)
    for label, start, end in timeline:
        if label != "pau":
            silent[round(start / frame_s) : round(end / frame_s)] = False
    return silent


def speech_frames_on_timeline(
    text: str, voice: StartingVoice, timeline: Sequence[Timing], length: int
) -> WorldFrames:
    """``text`` spoken by a flite starting voice, analysed by WORLD and re-timed onto festival's
    ``timeline`` (the phones of ``length`` samples at RATE), frame for frame as WORLD would
    number the analysis of those samples."""
    samples, phones = flite_speech(text, voice.name)
    frames = analyze(np.ascontiguousarray(samples, dtype=np.float64))
    count = length // round(RATE * FRAME_MS / 1000) + 1
    return frames_on_timeline(frames, phones, timeline, count)


def timeline_pitch(voiced_f0: np.ndarray, festival_audio: np.ndarray, voice: VoiceProfile):
    """F0 (Hz per frame) for a starting voice re-timed onto festival's timeline: festival's own
    intonation (its HTS contour, smooth and placed for these words at these times, emphasis
    included) moved into the starting voice's pitch range, on the starting voice's voiced
    frames (``voiced_f0`` > 0: its sounds decide what is voiced). Unvoiced stretches of
    festival's contour are bridged in log F0."""
    festival = festival_profile()
    f0 = festival_f0(festival_audio)
    count = min(len(f0), len(voiced_f0))
    voiced = f0[:count] > 0
    out = voiced_f0.copy()
    if voiced.sum() < 2:
        return out
    log_f0 = np.interp(np.arange(count), np.flatnonzero(voiced), np.log(f0[:count][voiced]))
    z = (log_f0 - festival.f0_log_mean) / max(festival.f0_log_std, 1e-3)
    head = out[:count]
    speaking = head > 0
    head[speaking] = np.exp(voice.f0_log_mean + z[speaking] * voice.f0_log_std)
    return out


def festival_f0(samples: np.ndarray) -> np.ndarray:
    """WORLD's F0 (dio + stonemask, as ``profile.analyze``) of float64 samples at RATE."""
    import pyworld

    f0, times = pyworld.dio(samples, RATE, frame_period=FRAME_MS)
    return pyworld.stonemask(samples, f0, times, RATE)


@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=1)
def festival_profile() -> VoiceProfile:
    """The festival voice's profile, measured once and cached on disk beside other temp files."""
    cache = Path(tempfile.gettempdir()) / f"likeness-festival-slt-profile-v{PROFILE_VERSION}.npz"
    if cache.is_file():
        try:
            return VoiceProfile.load(cache)
        except (OSError, ValueError, KeyError):
            cache.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="likeness-reference-") as tmp:
        speech = synthesize(script_chunks(REFERENCE_TEXT), f"{tmp}/reference.wav")
        profile = voice_profile_of_samples(
            [read_wav(speech.wav_path)], with_embedding=False, with_phones=False
        )
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
    profile.save(partial)
    os.replace(partial, cache)
    return profile
