"""Default voice engine: festival speech converted toward the subject's voice (CPU, no weights).

festival (cmu_us_slt_arctic_hts) speaks the script at the subject's speaking rate; WORLD
re-synthesises it with the subject's pitch and timbre (``engine.voice.conversion``). Word and
phoneme timings are festival's: the conversion keeps every frame where it was, and festival's
phones tell it which of the subject's sounds each frame should take its timbre from.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.audio import read_wav, write_wav
from engine.errors import EngineError
from engine.voice.base import Speech
from engine.voice.conversion import convert_voice
from engine.voice.festival import emphasise, script_chunks, synthesize
from engine.voice.profile import (
    PROFILE_VERSION,
    RATE,
    VoiceProfile,
    compute_voice_profile,
    voice_profile_of_samples,
)

MIN_SPEED, MAX_SPEED = 0.8, 1.25  # the subject's pace, within what keeps festival natural

# The festival voice's own profile is measured once on this passage ("The Rainbow Passage",
# Fairbanks 1960, public domain; none of it is in the benchmark's sentences).
REFERENCE_TEXT = (
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "The rainbow is a division of white light into many beautiful colors. These take the shape "
    "of a long round arch, with its path high above, and its two ends apparently beyond the "
    "horizon. There is, according to legend, a boiling pot of gold at one end. People look, but "
    "no one ever finds it. When a man looks for something beyond his reach, his friends say he "
    "is looking for the pot of gold at the end of the rainbow."
)


class WorldVoice:
    """Festival TTS + WORLD conversion toward the voice profile of the subject's samples."""

    name = "world"

    def speak(
        self,
        text: str,
        voice_sample_paths: Sequence[str],
        out_wav: str,
        *,
        voice_profile_path: str | None = None,
        lexicon: Mapping[str, str] | None = None,
    ) -> Speech:
        target = _target_profile(voice_sample_paths, voice_profile_path)
        source = festival_profile()
        chunks = script_chunks(text, lexicon, speed=subject_speed(source, target))
        with tempfile.TemporaryDirectory(prefix="likeness-world-") as tmp:
            speech = synthesize(chunks, f"{tmp}/festival.wav")
            samples, rate = read_wav(speech.wav_path)
        converted = convert_voice(
            samples,
            rate,
            source=source,
            target=target,
            emphasis=speech.emphasis,
            phonemes=speech.phonemes,
        )
        if speech.emphasis:
            converted = emphasise(converted, RATE, speech.emphasis)
        write_wav(out_wav, converted, RATE)
        return Speech(
            wav_path=str(out_wav),
            seconds=len(converted) / RATE,
            sample_rate=RATE,
            words=speech.words,
            phonemes=speech.phonemes,
            emphasis=speech.emphasis,
        )


def subject_speed(source: VoiceProfile, target: VoiceProfile) -> float:
    """festival's speed factor that matches the subject's syllable rate, within bounds."""
    if source.speaking_rate <= 0 or target.speaking_rate <= 0:
        return 1.0
    speed = target.speaking_rate / source.speaking_rate
    return round(float(np.clip(speed, MIN_SPEED, MAX_SPEED)), 3)


def _target_profile(
    voice_sample_paths: Sequence[str], voice_profile_path: str | None
) -> VoiceProfile:
    if voice_profile_path:
        try:
            return VoiceProfile.load(voice_profile_path)
        except (OSError, ValueError, KeyError) as error:
            if not voice_sample_paths:
                raise EngineError(f"The voice profile cannot be read: {error}") from error
    if not voice_sample_paths:
        raise EngineError(
            "The world voice engine needs the subject's voice samples (or their voice profile)."
        )
    return compute_voice_profile(voice_sample_paths, with_embedding=False)


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
