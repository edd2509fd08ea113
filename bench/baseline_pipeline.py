"""The render pipeline as it was before timelines (one talking-head pass), kept verbatim as the
baseline ``bench.timeline_speed`` measures today's one-scene path against in the same run. Not
used by the product.

The order of stages is visible in ``render``:

voice (script -> speech) -> face (portrait + speech -> frames) -> label (visible badge on every
frame) -> watermark (the provenance id, invisibly, in every frame and in the speech) -> encode
(H.264/AAC MP4 with synthetic-media tags) -> C2PA (a signed manifest saying what made the file)
-> captions (WebVTT and SRT beside the MP4, opening with a disclosure cue) -> poster (a JPEG of
one frame of the finished file, beside it).
Face, label, watermark and encode run frame by frame, so a long video is never held in memory.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.audio import pad_with_silence, read_wav, write_wav
from engine.captions import DISCLOSURE_SECONDS, build_captions, language_of_label, write_captions
from engine.face import inspect_portrait
from engine.label import DisclosureCard, make_card
from engine.pipeline import _at_portrait_size, _random_id, _sign, write_talking_head
from engine.poster import poster_seconds, write_poster
from engine.segments import shifted as _shift
from engine.spec import RenderResult, RenderSpec
from engine.voice import get_voice_engine
from engine.watermark import VideoWatermarker, audio_payload, embed_audio

Progress = Callable[[str, float], None]

VOICE_SHARE = 0.1  # share of the whole render reported for the voice stage
FRAMES_SHARE = 0.87  # face + label + encode, frame by frame


def render(
    spec: RenderSpec, out_path: str | Path, progress: Progress | None = None
) -> RenderResult:
    """Render ``spec`` to an MP4 at ``out_path``.

    ``progress(stage, fraction)`` is called often with the fraction (0..1) of the whole render;
    if it raises (e.g. RenderCancelled) the render stops, partial output is removed, and the
    exception propagates. Nothing is written at ``out_path`` until the video is complete; then
    its captions and poster are written beside it (``caption_paths``, ``poster_path``).
    """
    spec.validate()
    report = progress or (lambda stage, fraction: None)
    stage_seconds = {
        "voice": 0.0,
        "face": 0.0,
        "label": 0.0,
        "watermark": 0.0,
        "encode": 0.0,
        "c2pa": 0.0,
    }
    out_path = Path(out_path)
    provenance_id = int(spec.provenance_id, 16) if spec.provenance_id else _random_id()
    with tempfile.TemporaryDirectory(prefix="likeness-render-") as tmp:
        # 1. Voice: the script spoken, then framed by silence while the presenter idles.
        report("voice", 0.0)
        started = time.perf_counter()
        voice = get_voice_engine(spec.voice_engine)
        speech = voice.speak(
            spec.script_text,
            spec.voice_sample_paths,
            f"{tmp}/speech.wav",
            voice_profile_path=spec.voice_profile_path or None,
            lexicon=spec.pronunciations,
        )
        samples, rate = read_wav(speech.wav_path)
        track = pad_with_silence(samples, rate, spec.lead_in_seconds, spec.tail_seconds)
        stage_seconds["voice"] = time.perf_counter() - started
        # The speech carries the top half of the provenance id (audio watermark).
        started = time.perf_counter()
        track = embed_audio(track, rate, audio_payload(provenance_id))
        stage_seconds["watermark"] += time.perf_counter() - started
        started = time.perf_counter()
        track_path = f"{tmp}/track.wav"
        write_wav(track_path, track, rate)
        words = _shift(speech.words, spec.lead_in_seconds)
        phonemes = _shift(speech.phonemes, spec.lead_in_seconds)
        stage_seconds["voice"] += time.perf_counter() - started
        report("voice", VOICE_SHARE)

        # 2-4. Face, label and encode, streamed frame by frame.
        started = time.perf_counter()
        landmarks = spec.portrait_landmarks or inspect_portrait(spec.portrait_path).landmarks
        if spec.size_from_portrait:
            spec = _at_portrait_size(spec)
        stage_seconds["face"] += time.perf_counter() - started
        unsigned = Path(tmp) / "unsigned.mp4"
        frames = write_talking_head(
            unsigned,
            portrait_path=spec.portrait_path,
            landmarks=landmarks,
            audio_wav=track_path,
            fps=spec.fps,
            size=(spec.width, spec.height),
            face_engine=spec.face_engine,
            label_text=spec.label_text,
            metadata=spec.metadata,
            words=words,
            phonemes=phonemes,
            progress=report,
            stage_seconds=stage_seconds,
            label_position=spec.label_position,
            watermark=VideoWatermarker(provenance_id, spec.width, spec.height),
            card=_card(spec),
        )
        # C2PA: sign with the site's identity, or move the unsigned file into place.
        started = time.perf_counter()
        signed = _sign(spec, unsigned, out_path, provenance_id)
        stage_seconds["c2pa"] = time.perf_counter() - started
    # Captions: the script's words when they are spoken (the opening card is drawn over the
    # video and delays nothing), after a disclosure cue as long as the card, or 3 s.
    started = time.perf_counter()
    captions = build_captions(
        spec.script_text,
        words,
        lexicon=spec.pronunciations,
        language=language_of_label(spec.label_text),
        video_seconds=frames / spec.fps,
        disclosure_seconds=spec.disclosure_card_seconds or DISCLOSURE_SECONDS,
    )
    write_captions(captions, out_path)
    stage_seconds["label"] += time.perf_counter() - started
    started = time.perf_counter()
    speech_starts = words[0][1] if words else spec.lead_in_seconds
    at = poster_seconds(frames / spec.fps, speech_starts, spec.disclosure_card_seconds)
    write_poster(out_path, at, spec.width, spec.height)
    stage_seconds["encode"] += time.perf_counter() - started
    audio_seconds = len(track) / rate
    return RenderResult(
        video_path=str(out_path),
        video_seconds=round(frames / spec.fps, 3),
        audio_seconds=round(audio_seconds, 3),
        frames=frames,
        fps=spec.fps,
        width=spec.width,
        height=spec.height,
        stage_seconds={k: round(v, 3) for k, v in stage_seconds.items()},
        words=words,
        voice_engine=voice.name,
        face_engine=spec.face_engine,
        provenance_id=f"{provenance_id:016x}",
        audio_watermark=f"{audio_payload(provenance_id):08x}",
        c2pa_signed=signed,
    )


def _card(spec: RenderSpec) -> DisclosureCard | None:
    if spec.disclosure_card_seconds <= 0:
        return None
    text = spec.disclosure_card_text or ""
    return make_card(text, spec.width, spec.height, spec.disclosure_card_seconds)
