"""Voice stage: text to speech in the subject's voice, with word and phoneme timings.

Engines are plugins chosen by name (``get_voice_engine("world")``), each a ``VoiceEngine``:
- ``festival``: festival's own voice (no cloning);
- ``world``: festival + WORLD conversion toward the subject's voice profile (CPU default);
- ``xtts``: Coqui XTTS-v2 cloning from the samples, weights from ``weights_dir`` (GPU; the site's
  setting ``XTTS_WEIGHTS_DIR``) on ``device`` (``XTTS_DEVICE``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.voice.base import Speech, Timing, VoiceEngine
from engine.voice.samples import VoiceSampleReport, inspect_voice_sample


@dataclass(frozen=True)
class _Registration:
    factory: Callable[..., VoiceEngine]
    options: frozenset[str]  # keyword options of the factory (the engine's settings)
    inputs: frozenset[str]  # what of a speaker it reads: "voice_samples", "voice_profile"


_REGISTRY: dict[str, _Registration] = {}


def register_voice_engine(
    name: str,
    factory: Callable[..., VoiceEngine],
    *,
    options: Iterable[str] = (),
    inputs: Iterable[str] = (),
) -> None:
    """Register ``factory`` as ``name``. ``options``: the keyword options it takes;
    ``inputs``: what the engine reads of the speaker ("voice_samples", "voice_profile")."""
    _REGISTRY[name] = _Registration(factory, frozenset(options), frozenset(inputs))


def voice_engine_names() -> list[str]:
    return sorted(_REGISTRY)


def voice_engine_options(name: str) -> frozenset[str]:
    """The keyword options the engine ``name`` takes (e.g. "weights_dir", "device")."""
    return _registration(name).options


def voice_engine_inputs(name: str) -> frozenset[str]:
    """What the engine ``name`` reads of the speaker: "voice_samples", "voice_profile"."""
    return _registration(name).inputs


def get_voice_engine(name: str, **options: str) -> VoiceEngine:
    """The voice engine registered as ``name``, built with those of ``options`` it takes (a site
    sets every engine's options and uses one); ValueError lists the known names."""
    registration = _registration(name)
    known = set().union(*(r.options for r in _REGISTRY.values()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"No voice engine takes the option {', '.join(unknown)}.")
    return registration.factory(
        **{key: value for key, value in options.items() if key in registration.options}
    )


def _registration(name: str) -> _Registration:
    if name not in _REGISTRY:
        known = ", ".join(voice_engine_names())
        raise ValueError(f"Unknown voice engine '{name}'; choose one of: {known}.")
    return _REGISTRY[name]


def _festival() -> VoiceEngine:
    from engine.voice.festival import FestivalVoice

    return FestivalVoice()


def _world() -> VoiceEngine:
    from engine.voice.world import WorldVoice

    return WorldVoice()


def _xtts(*, weights_dir: str = "", device: str = "auto") -> VoiceEngine:
    from engine.voice.xtts import XttsVoice

    return XttsVoice(weights_dir, device=device)


register_voice_engine("festival", _festival)
register_voice_engine("world", _world, inputs=("voice_samples", "voice_profile"))
register_voice_engine("xtts", _xtts, options=("weights_dir", "device"), inputs=("voice_samples",))

__all__ = [
    "Speech",
    "Timing",
    "VoiceEngine",
    "VoiceSampleReport",
    "get_voice_engine",
    "inspect_voice_sample",
    "register_voice_engine",
    "voice_engine_inputs",
    "voice_engine_names",
    "voice_engine_options",
]
