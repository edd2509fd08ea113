"""Default voice engine: festival speech converted toward the subject's voice (CPU, no weights).

festival (cmu_us_slt_arctic_hts) speaks the script at the subject's speaking rate and times its
words and phones; the installed voice nearest the subject in pitch and long-term spectrum
(``engine.voice.starting``) is what is heard, re-timed onto festival's phones when it is not
festival's own; WORLD re-synthesises it with the subject's pitch and timbre
(``engine.voice.conversion``). Word and phoneme timings are festival's: every frame stays on
festival's timeline, and festival's phones tell the conversion which of the subject's sounds
each frame should take its timbre from.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence

import numpy as np

from engine.audio import read_wav, write_wav
from engine.errors import EngineError
from engine.voice.base import Speech
from engine.voice.conversion import RETIMED_TIMBRE_PULL, convert_frames
from engine.voice.festival import emphasise, script_chunks, synthesize
from engine.voice.profile import (
    RATE,
    VoiceProfile,
    analyze,
    compute_voice_profile,
    to_analysis_rate,
)
from engine.voice.starting import (
    festival_profile as festival_profile,  # its home before starting voices
)
from engine.voice.starting import (
    nearest_starting_voice,
    speech_frames_on_timeline,
    starting_voice_profile,
    starting_voices_named,
    timeline_pitch,
)

MIN_SPEED, MAX_SPEED = 0.8, 1.25  # the subject's pace, within what keeps festival natural


class WorldVoice:
    """Festival's timeline, the starting voice nearest the subject, WORLD conversion toward the
    voice profile of the subject's samples. ``starting_voices``: names of the starting voices
    it may choose from (``engine.voice.starting``; all installed when None)."""

    name = "world"

    def __init__(self, starting_voices: Sequence[str] | None = None):
        self.starting_voices = None if starting_voices is None else tuple(starting_voices)

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
        voice = nearest_starting_voice(target, starting_voices_named(self.starting_voices))
        timeline = festival_profile()  # festival sets the pace, whichever voice is heard
        chunks = script_chunks(text, lexicon, speed=subject_speed(timeline, target))
        with tempfile.TemporaryDirectory(prefix="likeness-world-") as tmp:
            speech = synthesize(chunks, f"{tmp}/festival.wav")
            samples, rate = read_wav(speech.wav_path)
        audio = to_analysis_rate(samples, rate)
        if voice.program == "festival":
            frames = analyze(audio)
        else:
            spoken = " ".join(chunk.text for chunk in chunks if chunk.text)
            frames = speech_frames_on_timeline(spoken, voice, speech.phonemes, len(audio))
            frames.f0 = timeline_pitch(frames.f0, audio, starting_voice_profile(voice))
        converted = convert_frames(
            frames,
            len(audio),
            source=starting_voice_profile(voice),
            target=target,
            emphasis=speech.emphasis,
            phonemes=speech.phonemes,
            timbre_pull=None if voice.program == "festival" else RETIMED_TIMBRE_PULL,
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
            starting_voice=voice.name,
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
