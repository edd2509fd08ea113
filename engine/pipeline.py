"""The render pipeline: a timeline (``engine.timeline``) becomes a labelled, watermarked,
signed MP4. The stages, in the order ``render_timeline`` runs them:

1. speech per segment (``engine.segments``; from the segment cache when spoken before)
2. face per segment (the presenter at the size its scene's layout shows it; cached too)
3. compose each scene's frames (background, presenter, text on screen: ``engine.compose``)
4. assemble the timeline: the segments' audio end to end, the scenes' frames with transitions,
   and the captions drawn in when the timeline burns them (``Timeline.burn_captions``)
5. visible label (and the opening disclosure card) on every frame
6. invisible marks: the provenance id in every frame and in the sound
7. encode (H.264/AAC MP4 with synthetic-media tags, and its chapters when it has two or more)

With a lineage's frame mark (``RenderSpec.frame_mark_id``) the frames carry that mark instead
and stages 2 to 7 run per segment (``engine.chunks``): each segment's frames become an H.264
chunk kept in the segment cache, a chunk made before for the lineage is copied, and the chunks
are joined with this render's own sound (its provenance id in the audio mark).
8. C2PA (a signed manifest saying what made the file)
9. captions (WebVTT and SRT, opening with a disclosure cue), chapters and poster, beside the MP4

Stages 2 to 7 stream frame by frame, so a long video is never held in memory. Today's
single-script render is a one-scene timeline (``RenderSpec`` without ``timeline``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import read_wav, resampled, write_wav
from engine.captions import (
    DISCLOSURE_SECONDS,
    build_captions,
    caption_cues,
    chapter_spans,
    language_of_label,
    write_captions,
    write_chapters,
)
from engine.chunks import Chunk, ChunkEncoder
from engine.compose import BurnedCaptions, SceneCompositor, crossfade
from engine.encode import Chapter, VideoEncoder, join_chunks, synthetic_metadata
from engine.errors import EngineError
from engine.face import get_face_engine, inspect_portrait
from engine.label import DisclosureCard, apply_card, apply_label, make_badge, make_card
from engine.poster import PosterFrame, poster_seconds
from engine.segment_cache import CachePlaces, NullSegmentCache, SegmentCache, segment_key
from engine.segments import (
    FaceFrames,
    Presenter,
    Speaker,
    SpokenSegment,
    fetch_entry,
    file_sha256,
    shifted,
    silent_segment,
    speak_segment,
    store_entry,
)
from engine.spec import RenderResult, RenderSpec
from engine.timeline import Timeline
from engine.voice import get_voice_engine
from engine.watermark import VideoWatermarker, audio_payload, embed_audio

Progress = Callable[[str, float], None]

# What each stage costs: seconds per second of speech said anew (voice), per presenter frame made
# anew (face), per output frame and megapixel (compose, label, watermark, encode), per video (c2pa;
# captions with the poster). Progress moves by these over the work a render really does: cached
# segments and reused chunks cost nothing. These are the prior, measured once with
# ``python -m bench.timeline_speed`` on 2 cores (demo presenter, world voice, warp face; 512x512
# and 1280x720): a site passes the costs it measured (``RenderSpec.stage_costs``, learned from
# ``RenderResult.stage_seconds`` / ``stage_units``) and these stand in for stages it has not.
STAGE_COST = {
    "voice": 0.15,
    "face": 0.005,
    "compose": 0.0006,
    "label": 0.0006,
    "watermark": 0.007,
    "encode": 0.006,
    "c2pa": 0.02,
    "captions": 0.15,
}
PIXEL_STAGES = ("compose", "label", "watermark", "encode")
STAGES = tuple(STAGE_COST)


def render(
    spec: RenderSpec,
    out_path: str | Path,
    progress: Progress | None = None,
    cache: SegmentCache | None = None,
) -> RenderResult:
    """Render ``spec`` to an MP4 at ``out_path``: its timeline, or one scene of its script.

    ``progress(stage, fraction)`` is called often with the fraction (0..1) of the whole render;
    if it raises (e.g. RenderCancelled) the render stops, partial output is removed, and the
    exception propagates. Nothing is written at ``out_path`` until the video is complete; then
    its captions, chapters and poster are written beside it (``caption_paths``, ``poster_path``).
    ``cache``: where segments' speech and faces are kept between renders (none by default).
    """
    spec.validate()
    if spec.size_from_portrait and spec.timeline is None:
        spec = _at_portrait_size(spec)
    timeline = spec.build_timeline()
    timeline.check()
    if spec.disclosure_card_seconds > timeline.lead_in_seconds:
        # The card covers the presenter: speech starts as it fades, not under it.
        timeline = dataclasses.replace(timeline, lead_in_seconds=spec.disclosure_card_seconds)
    return render_timeline(spec, timeline, out_path, progress=progress, cache=cache)


def stage_costs(measured: Mapping[str, float] | None) -> dict[str, float]:
    """Seconds per unit of every stage: ``measured`` where it says, else STAGE_COST's prior.
    EngineError for a stage the pipeline does not have or a cost that is not a positive number."""
    costs = dict(STAGE_COST)
    for stage, cost in (measured or {}).items():
        if stage not in STAGE_COST:
            raise EngineError(
                f"The stage costs name an unknown stage {stage!r}; the stages are"
                f" {', '.join(STAGES)}."
            )
        number = isinstance(cost, int | float) and not isinstance(cost, bool)
        if not (number and math.isfinite(cost) and cost > 0):
            raise EngineError(
                f"The cost of the {stage} stage must be a positive, finite number of seconds"
                f" per unit, not {cost!r}."
            )
        costs[stage] = float(cost)
    return costs


def render_timeline(
    spec: RenderSpec,
    timeline: Timeline,
    out_path: str | Path,
    *,
    progress: Progress | None = None,
    cache: SegmentCache | None = None,
) -> RenderResult:
    costs = stage_costs(spec.stage_costs)
    cache = cache or NullSegmentCache()
    fmt = timeline.format
    out_path = Path(out_path)
    seconds = dict.fromkeys(STAGES, 0.0)
    provenance_id = int(spec.provenance_id, 16) if spec.provenance_id else _random_id()
    frame_mark = int(spec.frame_mark_id, 16) if spec.frame_mark_id else None
    speaker = Speaker(
        spec.voice_engine,
        tuple(spec.voice_sample_paths),
        spec.voice_profile_path,
        options=_options(weights_dir=spec.voice_weights_dir, device=spec.voice_device),
    )
    # A footage avatar animates from its footage; its portrait (a still of it) is not warped.
    face_name = FOOTAGE_ENGINE if spec.footage_path else spec.face_engine
    if spec.footage_path:
        landmarks = spec.portrait_landmarks or []
    else:
        landmarks = spec.portrait_landmarks or inspect_portrait(spec.portrait_path).landmarks
    presenter = Presenter(
        face_name,
        spec.portrait_path,
        tuple(tuple(p) for p in landmarks),
        options=_options(weights_dir=spec.face_weights_dir),
        motion=spec.motion,
        footage_path=spec.footage_path,
    )
    places = CachePlaces(cache, spec.cache_namespace or "local", spec.personal_cache_namespace)
    with tempfile.TemporaryDirectory(prefix="likeness-render-") as tmp:
        folder = Path(tmp)
        meter = _Meter(progress, seconds, costs)
        meter.estimate(timeline)
        # 1. Speech per segment.
        meter.report("voice", 0.0)
        voice = get_voice_engine(
            spec.voice_engine, weights_dir=spec.voice_weights_dir, device=spec.voice_device
        )
        with meter.timing("voice"):
            scenes = speak_scenes(
                timeline, voice, speaker, spec.pronunciations, folder, places, meter
            )
        meter.plan(timeline, scenes)
        words = [w for scene in scenes for segment in scene.spoken for w in segment.global_words]
        planned_seconds = sum(scene.frames for scene in scenes) / fmt.fps
        chapters = chapter_spans(
            [(sc.start_seconds, s.chapter) for sc, s in zip(scenes, timeline.scenes, strict=True)],
            planned_seconds,
        )
        captions = _burned_captions(spec, timeline, words, planned_seconds)
        speech_starts = words[0][1] if words else timeline.lead_in_seconds
        poster = PosterFrame(
            poster_seconds(planned_seconds, speech_starts, spec.disclosure_card_seconds), fmt.fps
        )
        # 4a. The timeline's sound, end to end; 6a. its mark.
        with meter.timing("voice"):
            track, rate = assemble_audio(scenes)
        with meter.timing("watermark"):
            track = embed_audio(track, rate, audio_payload(provenance_id))
        # 4b. The render's sample rate; the sound still ends where the voice's own rate ends it.
        bandwidth_hz = rate / 2
        track, rate = resampled(track, rate, fmt.audio_rate), fmt.audio_rate
        track_path = folder / "track.wav"
        write_wav(track_path, track, rate)
        # 2-7. Faces, composition, transitions, label, marks and encoding, frame by frame.
        with meter.timing("face"):
            analysis_dir = prepare_footage(spec.footage_path, places, folder)
        face = get_face_engine(
            face_name,
            weights_dir=spec.face_weights_dir,
            footage_path=spec.footage_path,
            analysis_dir=analysis_dir,
        )
        compositors = [SceneCompositor(scene, fmt) for scene in timeline.scenes]
        unsigned = folder / "unsigned.mp4"
        chunks: list[Chunk] = []
        try:
            if frame_mark is None:
                faces = animate_scenes(
                    scenes, compositors, face, presenter, fmt.fps, folder, places, meter
                )
                frames = assemble_frames(
                    timeline, scenes, compose_scenes(compositors, faces, meter)
                )
                if captions is not None:
                    frames = captioned(frames, captions, meter)
                frames = labelled(frames, spec, fmt, meter)
                frames = marked(
                    frames, VideoWatermarker(provenance_id, fmt.width, fmt.height), meter
                )
                frames = poster.passing(frames)
                count = encode(
                    frames, unsigned, track_path, spec, fmt, meter, chapters, bandwidth_hz
                )
            else:
                # 2-7 per segment, each segment's frames one chunk marked with the lineage's id.
                chunker = ChunkEncoder(
                    timeline=timeline,
                    scenes=scenes,
                    compositors=compositors,
                    face=face,
                    presenter=presenter,
                    badge=make_badge(spec.label_text, fmt.width, fmt.height, spec.label_position),
                    badge_key={"text": spec.label_text, "position": spec.label_position},
                    card=_card(spec, fmt),
                    card_key={
                        "text": spec.disclosure_card_text,
                        "seconds": spec.disclosure_card_seconds,
                    },
                    frame_mark=frame_mark,
                    folder=folder,
                    places=places,
                    meter=meter,
                    captions=captions,
                    poster=poster,
                )
                chunks = chunker.encode_all(chunker.plan())
                count = join(chunks, unsigned, track_path, spec, meter, chapters, bandwidth_hz)
        finally:
            for compositor in compositors:
                compositor.close()
        # 8. C2PA: sign with the site's identity, or move the unsigned file into place.
        with meter.timing("c2pa"):
            signed = _sign(spec, unsigned, out_path, provenance_id)
        meter.stage_done("c2pa")
    # 9. Captions, chapters and poster beside the video.
    with meter.timing("captions"):
        write_captions(
            build_captions(
                " ".join(timeline.spoken_texts()),
                words,
                lexicon=spec.pronunciations,
                language=language_of_label(spec.label_text),
                video_seconds=count / fmt.fps,
                disclosure_seconds=spec.disclosure_card_seconds or DISCLOSURE_SECONDS,
            ),
            out_path,
        )
        write_chapters(
            [(sc.start_seconds, s.chapter) for sc, s in zip(scenes, timeline.scenes, strict=True)],
            count / fmt.fps,
            out_path,
        )
        poster.write(out_path, fmt.width, fmt.height)
    meter.stage_done("captions")
    meter.report("captions", 1.0)  # exactly, whatever the rounding of the sums
    return RenderResult(
        video_path=str(out_path),
        video_seconds=round(count / fmt.fps, 3),
        audio_seconds=round(len(track) / rate, 3),
        frames=count,
        fps=fmt.fps,
        width=fmt.width,
        height=fmt.height,
        stage_seconds={k: round(v, 3) for k, v in seconds.items()},
        stage_units={k: round(v, 6) for k, v in meter.units.items()},
        words=words,
        voice_engine=voice.name,
        face_engine=face_name,
        provenance_id=f"{provenance_id:016x}",
        audio_watermark=f"{audio_payload(provenance_id):08x}",
        frame_mark_id=f"{frame_mark:016x}" if frame_mark is not None else "",
        chunks=len(chunks),
        chunks_reused=sum(1 for chunk in chunks if chunk.reused),
        c2pa_signed=signed,
        segments=sum(1 for scene in scenes for p in scene.spoken if p.text),
        segments_cached=meter.cached_segments,
        scenes=[
            {
                "seconds": round(scene.frames / fmt.fps, 3),
                "segment_starts": scene.segment_starts(),
                "chapter": source.chapter,
            }
            for scene, source in zip(scenes, timeline.scenes, strict=True)
        ],
    )


@dataclass
class SpokenScene:
    """A scene's segments spoken, on the timeline's clock from ``start_seconds``."""

    spoken: list[SpokenSegment]
    start_frame: int
    frames: int
    fps: int

    @property
    def start_seconds(self) -> float:
        return self.start_frame / self.fps

    def segment_starts(self) -> list[float]:
        """Where each spoken segment starts, in seconds from the scene's start."""
        starts, frame = [], 0
        for piece in self.spoken:
            if piece.text:
                starts.append(round(frame / self.fps, 3))
            frame += piece.frames
        return starts


def speak_scenes(
    timeline: Timeline,
    voice,
    speaker: Speaker,
    lexicon: dict[str, str],
    folder: Path,
    places: CachePlaces,
    meter: _Meter,
) -> list[SpokenScene]:
    """Stage 1: every segment spoken, padded to whole frames; the timeline's lead-in before the
    first and its tail after the last; a scene shorter than its ``duration`` idles to it."""
    fps = timeline.format.fps
    order = timeline.segments()
    first, last = (order[0][:2], order[-1][:2]) if order else (None, None)
    speaker_key = speaker.fingerprint()
    scenes, frame = [], 0
    rate = 16000
    for i, scene in enumerate(timeline.scenes):
        spoken = []
        for j, segment in enumerate(scene.segments):
            cache, namespace = places.of(segment.personal)
            piece = speak_segment(
                segment.text,
                voice=voice,
                speaker=speaker,
                speaker_key=speaker_key,
                lexicon=lexicon,
                before=timeline.lead_in_seconds if (i, j) == first else 0.0,
                after=segment.pause_after + (timeline.tail_seconds if (i, j) == last else 0.0),
                fps=fps,
                folder=folder,
                name=f"s{i}-{j}",
                cache=cache,
                namespace=namespace,
            )
            piece.personal = segment.personal
            rate = piece.rate
            spoken.append(piece)
            meter.spoke(piece.frames / fps, cached=piece.cached)
        spoken_frames = sum(p.frames for p in spoken)
        idle = scene.duration - spoken_frames / fps
        if idle > 0.5 / fps or not spoken:
            spoken.append(
                silent_segment(idle, rate=rate, fps=fps, folder=folder, name=f"s{i}-idle")
            )
        start = frame
        for piece in spoken:
            piece.global_words = shifted(piece.words, frame / fps)
            frame += piece.frames
        scenes.append(SpokenScene(spoken, start, frame - start, fps))
    return scenes


def assemble_audio(scenes: list[SpokenScene]) -> tuple[np.ndarray, int]:
    """Stage 4a: the segments' sound end to end (each lasts whole frames, faded at its edges)."""
    pieces = [read_wav(p.wav_path) for scene in scenes for p in scene.spoken]
    rates = {rate for _, rate in pieces}
    if len(rates) != 1:
        raise EngineError("The segments were spoken at different sample rates.")
    return np.concatenate([samples for samples, _ in pieces]), rates.pop()


FOOTAGE_ENGINE = "footage"  # the face engine of a spec with footage_path


def prepare_footage(footage_path: str, places: CachePlaces, folder: Path) -> str:
    """The folder holding the analysis of a footage avatar's footage ("" without footage):
    from the segment cache, keyed by the footage's hash in the avatar's namespace, or made now
    and kept there, so renders after the first do not analyse it again."""
    if not footage_path:
        return ""
    from engine.face.footage import _probe
    from engine.face.rewrite import ANALYSIS_VERSION, analyse_footage

    _probe(Path(footage_path))  # NotAVideo for a missing or unreadable file, before any work
    cache, namespace = places.of(False)
    key = segment_key(
        namespace,
        stage="footage-analysis",
        version=ANALYSIS_VERSION,
        footage=file_sha256(footage_path),
    )
    entry = folder / "footage-analysis"
    entry.mkdir(parents=True, exist_ok=True)
    if not fetch_entry(cache, key, entry):
        analyse_footage(footage_path, entry)
        if not isinstance(cache, NullSegmentCache):
            store_entry(cache, key, entry)
    return str(entry)


def warm_footage(footage_path: str, cache: SegmentCache, namespace: str) -> None:
    """Analyse a footage avatar's footage into the segment cache now, under the key its renders
    look for (``namespace``: the avatar's, as ``RenderSpec.cache_namespace``), so that its first
    render does not: a worker task after the upload. Five minutes of footage take minutes."""
    with tempfile.TemporaryDirectory(prefix="likeness-footage-") as tmp:
        prepare_footage(footage_path, CachePlaces(cache, namespace), Path(tmp))


def animate_scenes(
    scenes, compositors, face, presenter, fps, folder, places, meter
) -> Iterator[Iterator[np.ndarray | None]]:
    """Stage 2: per scene, its presenter's frames (its segments' faces end to end), or Nones
    for a scene without a presenter."""
    presenter_key = None
    for i, (scene, compositor) in enumerate(zip(scenes, compositors, strict=True)):
        size = compositor.presenter_size
        if size is None:
            meter.scene_faces(scene.frames, 0, shows_presenter=False)
            yield iter([None] * scene.frames)
            continue
        presenter_key = presenter_key or presenter.fingerprint()  # the portrait hashed once
        pieces = []
        for j, spoken in enumerate(scene.spoken):
            cache, namespace = places.of(spoken.personal)
            pieces.append(
                FaceFrames(
                    spoken,
                    face=face,
                    presenter=presenter,
                    presenter_key=presenter_key,
                    size=size,
                    fps=fps,
                    folder=folder,
                    name=f"s{i}-{j}",
                    cache=cache,
                    namespace=namespace,
                )
            )
        meter.scene_faces(
            scene.frames, sum(p.count for p in pieces if p.cached), shows_presenter=True
        )
        yield meter.timed("face", (frame for piece in pieces for frame in piece))


def compose_scenes(compositors, faces, meter) -> Iterator[Iterator[np.ndarray]]:
    """Stage 3: each scene's frames, composed from its background, presenter and text."""
    for compositor, presenter_frames in zip(compositors, faces, strict=True):
        yield (
            meter.timed_call("compose", compositor.frame, index, presenter)
            for index, presenter in enumerate(presenter_frames)
        )


def assemble_frames(
    timeline: Timeline, scenes: list[SpokenScene], composed: Iterator[Iterator[np.ndarray]]
) -> Iterator[np.ndarray]:
    """Stage 4b: the scenes end to end; a crossfade blends the first frames of a scene with
    the last frame of the one before (the sound goes on unbroken), as it was composed: the
    stages after this one draw into the frames it gives."""
    previous_last: np.ndarray | None = None
    fade_frames = 0
    for scene, spoken, frames in zip(timeline.scenes, scenes, composed, strict=True):
        frame, last = None, None
        for index, frame in enumerate(frames):
            if previous_last is not None and index < fade_frames:
                frame = crossfade(previous_last, frame, (index + 1) / (fade_frames + 1))
            if index == spoken.frames - 1:
                last = frame.copy()  # before captions, label and mark are drawn into it
            yield frame
        previous_last = last if last is not None or frame is None else frame.copy()
        transition = scene.transition
        fade_frames = (
            min(round(transition.seconds * spoken.fps), spoken.frames)
            if transition.kind == "crossfade"
            else 0
        )


def captioned(frames, captions: BurnedCaptions, meter) -> Iterator[np.ndarray]:
    """Stage 4c: the caption cues drawn into the frames, under the label and the marks."""
    for index, frame in enumerate(frames):
        yield meter.timed_call("compose", captions.draw, frame, index)


def labelled(frames, spec: RenderSpec, fmt, meter) -> Iterator[np.ndarray]:
    """Stage 5: the visible label on every frame, the disclosure card over the opening."""
    badge = make_badge(spec.label_text, fmt.width, fmt.height, spec.label_position)
    card = _card(spec, fmt)
    for index, frame in enumerate(frames):
        started = time.perf_counter()
        if card is not None:
            apply_card(frame, card, index / fmt.fps)
        apply_label(frame, badge)
        meter.add("label", time.perf_counter() - started)
        yield frame


def marked(frames, watermark: VideoWatermarker, meter) -> Iterator[np.ndarray]:
    """Stage 6b: the provenance id, invisibly, in every frame."""
    for frame in frames:
        started = time.perf_counter()
        watermark.apply(frame)
        meter.add("watermark", time.perf_counter() - started)
        yield frame


def encode(
    frames,
    out_path: Path,
    audio_wav: Path,
    spec: RenderSpec,
    fmt,
    meter,
    chapters: Sequence[Chapter] = (),
    audio_bandwidth_hz: float | None = None,
) -> int:
    """Stage 7: H.264/AAC with the synthetic-media tags and ``chapters``; the file appears only
    when complete. Returns the frame count."""
    partial = out_path.with_name(f".{out_path.name}.partial")
    encoder = VideoEncoder(
        partial,
        fmt.width,
        fmt.height,
        fmt.fps,
        audio_wav,
        synthetic_metadata(spec.label_text, spec.metadata),
        chapters,
        audio_bandwidth_hz,
    )
    count = 0
    try:
        for frame in frames:
            started = time.perf_counter()
            encoder.write(frame)
            meter.add("encode", time.perf_counter() - started)
            count += 1
            meter.frame_done()
        with meter.timing("encode"):
            encoder.finish()
        os.replace(partial, out_path)
    except BaseException:
        encoder.abort()
        partial.unlink(missing_ok=True)
        raise
    meter.report("encode", meter.done / meter.total)
    return count


def join(
    chunks: list[Chunk],
    out_path: Path,
    audio_wav: Path,
    spec: RenderSpec,
    meter,
    chapters: Sequence[Chapter] = (),
    audio_bandwidth_hz: float | None = None,
) -> int:
    """Stage 7 for chunks: copied end to end, with the sound (AAC), the synthetic-media tags and
    ``chapters``; the file appears only when complete. Returns the frame count."""
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        with meter.timing("encode"):
            join_chunks(
                [chunk.path for chunk in chunks],
                partial,
                audio_wav,
                synthetic_metadata(spec.label_text, spec.metadata),
                chapters,
                audio_bandwidth_hz,
            )
        os.replace(partial, out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    meter.report("encode", meter.done / meter.total)
    return sum(chunk.frames for chunk in chunks)


class _Meter:
    """Stage seconds and units (the work each stage did anew, in STAGE_COST's units), and
    progress: the work planned in each stage (its cost per unit times its units), and the share
    of it done."""

    def __init__(self, progress: Progress | None, seconds: dict[str, float], costs: dict):
        self.progress, self.seconds, self.cost = progress, seconds, costs
        self.units = dict.fromkeys(STAGES, 0.0)
        self.weights = dict.fromkeys(STAGES, 0.0)
        self.done = 0.0
        self.last = 0.0
        self.per_frame = 0.0
        self.megapixels = 0.0
        self.face_per_frame = costs["face"]
        self.cached_segments = 0
        self.frames = 0

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def estimate(self, timeline: Timeline) -> None:
        """Before anything is made: the work by the timeline's own estimate of its length."""
        fmt = timeline.format
        frames = timeline.estimated_seconds() * fmt.fps
        spoken = sum(s.estimated_seconds() for s in timeline.scenes if s.segments)
        shown = sum(
            s.estimated_seconds() * fmt.fps for s in timeline.scenes if s.layout.shows_presenter
        )
        self._plan(frames, fmt.width * fmt.height / 1e6, spoken_seconds=spoken)
        self.weights["face"] = self.cost["face"] * shown

    def spoke(self, seconds: float, *, cached: bool) -> None:
        """One segment spoken (``seconds`` long), or found in the cache."""
        self.cached_segments += cached
        if not cached:
            self.units["voice"] += seconds
            self.done += self.cost["voice"] * seconds
        # The estimate is of the words alone: speech beyond it is work too, not progress past 1.
        self.weights["voice"] = max(self.weights["voice"], self.done)
        self.report("voice", self.done / self.total)

    def plan(self, timeline: Timeline, scenes: list[SpokenScene]) -> None:
        """Once spoken: the exact frames, and the speech work as it was; the share that was."""
        fmt = timeline.format
        frames = sum(scene.frames for scene in scenes)
        self._plan(frames, fmt.width * fmt.height / 1e6, spoken_seconds=0.0)
        self.weights["voice"] = self.done
        self.weights["face"] = self.cost["face"] * frames  # until a scene says it is cached
        self.report("voice", self.done / self.total)

    def _plan(self, frames: float, megapixels: float, *, spoken_seconds: float) -> None:
        self.megapixels = megapixels
        self.per_frame = sum(self.cost[stage] * megapixels for stage in PIXEL_STAGES)
        for stage in PIXEL_STAGES:
            self.weights[stage] = self.cost[stage] * megapixels * frames
        self.weights["voice"] = self.cost["voice"] * spoken_seconds
        self.weights["c2pa"], self.weights["captions"] = self.cost["c2pa"], self.cost["captions"]

    def scene_faces(self, frames: int, cached_frames: int, shows_presenter: bool) -> None:
        """A scene's presenter: frames from the cache (or none at all) cost no face work."""
        saved = frames if not shows_presenter else cached_frames
        self.units["face"] += frames - saved
        self.weights["face"] = max(0.0, self.weights["face"] - self.cost["face"] * saved)
        self.face_per_frame = 0.0 if saved == frames else self.cost["face"]

    def frames_reused(self, frames: int) -> None:
        """Frames copied as an encoded chunk: none of their face or pixel work is done."""
        for stage in PIXEL_STAGES:
            saved = self.cost[stage] * self.megapixels * frames
            self.weights[stage] = max(0.0, self.weights[stage] - saved)
        self.weights["face"] = max(0.0, self.weights["face"] - self.cost["face"] * frames)
        self.report("encode", self.done / self.total)

    def frame_done(self) -> None:
        """One output frame composed, labelled, marked and encoded."""
        self.done += self.per_frame + self.face_per_frame
        for stage in PIXEL_STAGES:
            self.units[stage] += self.megapixels
        self.frames += 1
        if self.frames % 5 == 0:
            self.report("face", self.done / self.total)

    def stage_done(self, stage: str) -> None:
        """A stage done once per video (c2pa, captions)."""
        self.units[stage] = 1.0
        self.done += self.weights[stage]
        self.report(stage, self.done / self.total)

    def report(self, stage: str, fraction: float) -> None:
        self.last = max(self.last, min(fraction, 1.0))  # sums of floats may pass 1 by a hair
        if self.progress is not None:
            self.progress(stage, self.last)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] += seconds

    @contextlib.contextmanager
    def timing(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def timed(self, stage: str, iterator: Iterator) -> Iterator:
        iterator = iter(iterator)
        while True:
            started = time.perf_counter()
            item = next(iterator, _END)
            self.seconds[stage] += time.perf_counter() - started
            if item is _END:
                return
            yield item

    def timed_call(self, stage: str, function, *args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            self.seconds[stage] += time.perf_counter() - started


_END = object()


def _options(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in sorted(values.items()) if v)


def _random_id() -> int:
    return secrets.randbits(64)


def _burned_captions(
    spec: RenderSpec, timeline: Timeline, words: list, video_seconds: float
) -> BurnedCaptions | None:
    """The captions to draw into the frames (the caption files' cues, without their disclosure
    cue: the label says it), clear of the label; None when the timeline does not burn them."""
    if not timeline.burn_captions:
        return None
    fmt = timeline.format
    badge = make_badge(spec.label_text, fmt.width, fmt.height, spec.label_position)
    width, height = badge.size
    label_box = (badge.x, badge.y, badge.x + width, badge.y + height)
    cues = caption_cues(
        " ".join(timeline.spoken_texts()),
        words,
        lexicon=spec.pronunciations,
        video_seconds=video_seconds,
    )
    return BurnedCaptions(cues, fmt, keep_clear=label_box)


def _card(spec: RenderSpec, fmt) -> DisclosureCard | None:
    if spec.disclosure_card_seconds <= 0:
        return None
    text = spec.disclosure_card_text or ""
    return make_card(text, fmt.width, fmt.height, spec.disclosure_card_seconds)


def _sign(spec: RenderSpec, unsigned: Path, out_path: Path, provenance_id: int) -> bool:
    if not spec.signing_keys_dir:
        shutil.move(unsigned, out_path)
        return False
    from engine.c2pa import sign_mp4
    from engine.keys import ensure_site_identity

    identity = ensure_site_identity(spec.signing_keys_dir)
    provenance = {"provenance_id": f"{provenance_id:016x}", **spec.provenance}
    sign_mp4(
        unsigned,
        out_path,
        chain_pem=identity.chain_pem(),
        key_pem=identity.signer_key_pem(),
        provenance=provenance,
        title=out_path.name,
    )
    return True


def write_talking_head(
    out_path: str | Path,
    *,
    portrait_path: str,
    landmarks: Sequence[Sequence[float]],
    audio_wav: str,
    fps: int,
    size: tuple[int, int],
    face_engine: str = "warp",
    face_weights_dir: str = "",
    footage_path: str = "",
    label_text: str = "AI-generated",
    metadata: dict[str, str] | None = None,
    words: Sequence[tuple[str, float, float]] | None = None,
    phonemes: Sequence[tuple[str, float, float]] | None = None,
    progress: Progress | None = None,
    stage_seconds: dict[str, float] | None = None,
    start_fraction: float = 0.0,
    label_position: str = "top-right",
    watermark: VideoWatermarker | None = None,
    card: DisclosureCard | None = None,
) -> int:
    """Animate the portrait to the audio, label and watermark every frame, encode; returns the
    frame count. ``face_weights_dir``: the weights of a neural ``face_engine``;
    ``footage_path``: the footage of the "footage" engine (analysed here, kept nowhere).

    The MP4 is written beside ``out_path`` and moved into place only when complete.
    """
    report = progress or (lambda stage, fraction: None)
    seconds = stage_seconds if stage_seconds is not None else {}
    for stage in ("face", "label", "watermark", "encode"):
        seconds.setdefault(stage, 0.0)
    out_path = Path(out_path)
    partial = out_path.with_name(f".{out_path.name}.partial")
    width, height = size
    engine = get_face_engine(face_engine, weights_dir=face_weights_dir, footage_path=footage_path)
    share = 1.0 - start_fraction
    frames: Iterator[np.ndarray] = iter(
        engine.animate(
            portrait_path,
            landmarks,
            audio_wav,
            fps,
            size,
            words=words,
            phonemes=phonemes,
            progress=lambda f: report("face", start_fraction + share * f),
        )
    )
    badge = make_badge(label_text, width, height, label_position)
    report("label", start_fraction)
    encoder = VideoEncoder(
        partial, width, height, fps, audio_wav, synthetic_metadata(label_text, metadata)
    )
    count = 0
    try:
        while True:
            tick = time.perf_counter()
            frame = next(frames, None)
            tock = time.perf_counter()
            seconds["face"] += tock - tick
            if frame is None:
                break
            if card is not None:
                apply_card(frame, card, count / fps)
            apply_label(frame, badge)
            tick = time.perf_counter()
            seconds["label"] += tick - tock
            if watermark is not None:
                watermark.apply(frame)
                tock, tick = tick, time.perf_counter()
                seconds["watermark"] += tick - tock
            encoder.write(frame)
            seconds["encode"] += time.perf_counter() - tick
            count += 1
        tick = time.perf_counter()
        encoder.finish()
        seconds["encode"] += time.perf_counter() - tick
        os.replace(partial, out_path)
    except BaseException:
        encoder.abort()
        partial.unlink(missing_ok=True)
        raise
    report("encode", 1.0)
    return count


def _at_portrait_size(spec: RenderSpec) -> RenderSpec:
    """The spec with width and height set to the portrait's resolution, up to 1080p."""
    from engine.face.framing import portrait_output_size
    from engine.face.landmarks import load_rgb

    height, width = load_rgb(spec.portrait_path).shape[:2]
    width, height = portrait_output_size(width, height)
    return dataclasses.replace(spec, width=width, height=height)
