"""What every voice engine is and gives: the ``VoiceEngine`` protocol and its ``Speech``.

The plugins (``festival``, ``world``, ``xtts``) import these from here, and the package that
registers them (``engine.voice``) re-exports them, so no plugin imports its own registry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

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
    starting_voice: str = ""  # the TTS voice a conversion started from ("" when none)


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
