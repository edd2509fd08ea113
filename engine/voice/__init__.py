"""Voice stage: text to speech in the subject's voice, with word and phoneme timings.

Engines are plugins chosen by name (``get_voice_engine("world")``), each a ``VoiceEngine``:
- ``festival``: festival's own voice (no cloning);
- ``world``: festival + WORLD conversion toward the subject's voice profile (CPU default);
- ``xtts``: Coqui XTTS-v2 cloning from the samples, weights from ``XTTS_WEIGHTS_DIR`` (GPU).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.voice.samples import VoiceSampleReport, inspect_voice_sample

Timing = tuple[str, float, float]  # (label, start seconds, end seconds)


@dataclass
class Speech:
    """Speech written to ``wav_path`` (mono PCM) with optional word and phoneme timings."""

    wav_path: str
    seconds: float
    sample_rate: int
    words: list[Timing] = field(default_factory=list)
    phonemes: list[Timing] = field(default_factory=list)
    emphasis: list[tuple[float, float]] = field(default_factory=list)  # stressed spans, seconds


class VoiceEngine(Protocol):
    name: str

    def speak(
        self,
        text: str,
        voice_sample_paths: Sequence[str],
        out_wav: str,
        *,
        voice_profile_path: str | None = None,
        lexicon: Mapping[str, str] | None = None,
    ) -> Speech:
        """Speak ``text`` (with markup, see ``engine.voice.markup``) toward the voice of the
        samples, write a mono WAV to ``out_wav``. ``voice_profile_path``: a cached
        ``VoiceProfile`` of those samples (engines that need one compute it when it is absent);
        ``lexicon``: word -> respelling."""
        ...


_REGISTRY: dict[str, Callable[[], VoiceEngine]] = {}


def register_voice_engine(name: str, factory: Callable[[], VoiceEngine]) -> None:
    _REGISTRY[name] = factory


def voice_engine_names() -> list[str]:
    return sorted(_REGISTRY)


def get_voice_engine(name: str) -> VoiceEngine:
    """The voice engine registered as ``name``; ValueError lists the known names."""
    if name not in _REGISTRY:
        known = ", ".join(voice_engine_names())
        raise ValueError(f"Unknown voice engine '{name}'; choose one of: {known}.")
    return _REGISTRY[name]()


def _festival() -> VoiceEngine:
    from engine.voice.festival import FestivalVoice

    return FestivalVoice()


def _world() -> VoiceEngine:
    from engine.voice.world import WorldVoice

    return WorldVoice()


def _xtts() -> VoiceEngine:
    from engine.voice.xtts import XttsVoice

    return XttsVoice.from_environment()


register_voice_engine("festival", _festival)
register_voice_engine("world", _world)
register_voice_engine("xtts", _xtts)

__all__ = [
    "Speech",
    "Timing",
    "VoiceEngine",
    "VoiceSampleReport",
    "get_voice_engine",
    "inspect_voice_sample",
    "register_voice_engine",
    "voice_engine_names",
]
