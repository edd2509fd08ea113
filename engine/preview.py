"""A few words alone in the subject's voice, before anything is rendered: how a campaign's
names will sound. Spoken by the same engine, settings and cache as a render's segments (a
preview of words a render later says is a cache hit there too), marked as synthetic by the
audio watermark like every render's sound."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.audio import read_wav, write_wav
from engine.segment_cache import NullSegmentCache, SegmentCache
from engine.segments import Speaker, speak_segment
from engine.voice import get_voice_engine
from engine.watermark import audio_payload, embed_audio

PREVIEW_FPS = 25  # speech is padded to whole frames, as in a render


def speak_alone(
    text: str,
    out_wav: str | Path,
    *,
    voice_engine: str,
    sample_paths: Sequence[str],
    profile_path: str = "",
    lexicon: Mapping[str, str] | None = None,
    mark_id: int,
    weights_dir: str = "",
    device: str = "",
    cache: SegmentCache | None = None,
    namespace: str = "local",
) -> float:
    """Speak ``text`` (script markup allowed) toward the samples' voice into ``out_wav``, with
    the audio mark of ``mark_id``; returns its length in seconds."""
    voice = get_voice_engine(voice_engine, weights_dir=weights_dir, device=device)
    # The options as a render's Speaker holds them, so the cache keys agree.
    options = tuple(
        (k, v) for k, v in sorted({"weights_dir": weights_dir, "device": device}.items()) if v
    )
    speaker = Speaker(voice_engine, tuple(sample_paths), profile_path, options=options)
    with tempfile.TemporaryDirectory(prefix="likeness-preview-") as tmp:
        piece = speak_segment(
            text,
            voice=voice,
            speaker=speaker,
            speaker_key=speaker.fingerprint(),
            lexicon=dict(lexicon or {}),
            before=0.15,
            after=0.25,
            fps=PREVIEW_FPS,
            folder=Path(tmp),
            name="preview",
            cache=cache or NullSegmentCache(),
            namespace=namespace,
        )
        samples, rate = read_wav(piece.wav_path)
    write_wav(out_wav, embed_audio(samples, rate, audio_payload(mark_id)), rate)
    return len(samples) / rate
