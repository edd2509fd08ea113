"""Voice stage: text to speech in the subject's voice, with word and phoneme timings.

Engines are plugins chosen by name (``get_voice_engine("world")``), each a ``VoiceEngine``:
- ``festival``: festival's own voice (no cloning);
- ``world``: festival + WORLD conversion toward the subject's voice profile (CPU default);
- ``xtts``: Coqui XTTS-v2 cloning from the samples, weights from ``weights_dir`` (GPU; the site's
  setting ``XTTS_WEIGHTS_DIR``) on ``device`` (``XTTS_DEVICE``); its weights are non-commercial;
- ``chatterbox``: Resemble AI's Chatterbox cloning from the samples (MIT code and weights),
  weights from ``weights_dir`` (GPU; the site's setting ``VOICE_CHATTERBOX_WEIGHTS_DIR``).
"""

from __future__ import annotations

from engine.plugins import Plugins
from engine.voice.base import Speech, Timing, VoiceEngine
from engine.voice.samples import VoiceSampleReport, inspect_voice_sample

_ENGINES: Plugins[VoiceEngine] = Plugins("voice")
register_voice_engine = _ENGINES.register
voice_engine_names = _ENGINES.names
voice_engine_options = _ENGINES.options
voice_engine_inputs = _ENGINES.inputs  # what it reads of the speaker: "voice_samples", ...
get_voice_engine = _ENGINES.get


def _festival() -> VoiceEngine:
    from engine.voice.festival import FestivalVoice

    return FestivalVoice()


def _world() -> VoiceEngine:
    from engine.voice.world import WorldVoice

    return WorldVoice()


def _xtts(*, weights_dir: str = "", device: str = "auto") -> VoiceEngine:
    from engine.voice.xtts import XttsVoice

    return XttsVoice(weights_dir, device=device)


def _chatterbox(*, weights_dir: str = "", device: str = "auto") -> VoiceEngine:
    from engine.voice.chatterbox import ChatterboxVoice

    return ChatterboxVoice(weights_dir, device=device)


register_voice_engine("festival", _festival)
register_voice_engine("world", _world, inputs=("voice_samples", "voice_profile"))
register_voice_engine("xtts", _xtts, options=("weights_dir", "device"), inputs=("voice_samples",))
register_voice_engine(
    "chatterbox", _chatterbox, options=("weights_dir", "device"), inputs=("voice_samples",)
)

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
