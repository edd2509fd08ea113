"""Encoded chunks: the frames of one segment, composed, labelled, marked and H.264-encoded, kept
in the segment cache so that a later render showing the same frames copies them instead of
making them again.

Frames can only be shared by renders whose frames carry the same mark: a lineage's frame mark
(``RenderSpec.frame_mark_id``: every variant of a campaign, every re-render of a lesson), while
each render's own provenance id goes into its sound and its C2PA manifest. Renders without a
frame mark never come here (their frames carry their own id).

A chunk is one spoken segment of one scene (or a scene's idle end), so a campaign's personalised
sentence or a lesson's edited one is encoded alone while its neighbours are copied (a personal
one is kept only in its lineage's own namespace: ``engine.segment_cache.CachePlaces``). Its key
holds everything its frames are made from: the segment's face (its face cache key, which covers the
avatar, the speech and the size), the scene's layout, background (its file by hash) and text on
screen, the label, the frame mark, the format and the encoder (settings and build); and, only
when something in the frames depends on it, where the chunk is: its frame in the scene for a
background video, its frame in the video under the opening disclosure card, the chunk before
(by key) where a crossfade blends the last frame of the scene before into it, and the burned
captions over its frames (each cue's lines and frames) when the timeline burns them in.

Each chunk starts with an IDR frame and is marked by a watermarker of its own, so its bytes never
depend on the frames before it; ``engine.encode.join_chunks`` copies the chunks into one MP4.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import __version__
from engine.compose import BurnedCaptions, SceneCompositor, crossfade
from engine.encode import VIDEO_CODEC_ARGS, VideoEncoder, encoder_identity
from engine.errors import EngineError
from engine.label import Badge, DisclosureCard, apply_card, apply_label
from engine.poster import PosterFrame
from engine.segment_cache import CachePlaces, NullSegmentCache, SegmentCache, segment_key
from engine.segments import FaceFrames, Presenter, face_key, fetch_entry, file_sha256, store_entry
from engine.timeline import Scene, Timeline
from engine.watermark import VideoWatermarker

CHUNK_FILE = "chunk.mp4"


@dataclass
class Chunk:
    """One segment's frames: ``frames`` of them from frame ``start`` of the video (``offset`` of
    its scene), kept under ``key``."""

    scene: int
    piece: int  # the segment's place in its scene (a scene's idle end counts as one)
    start: int
    offset: int
    frames: int
    key: str
    path: Path | None = None  # the encoded chunk, once made or fetched
    reused: bool = False  # copied from the cache
    personal: bool = False  # its segment's: kept only in the lineage's own namespace, if any


class ChunkEncoder:
    """Plans a timeline's chunks (``plan``) and makes each, or fetches it (``encode``)."""

    def __init__(
        self,
        *,
        timeline: Timeline,
        scenes: list,  # engine.pipeline.SpokenScene, in the timeline's order
        compositors: list[SceneCompositor],
        face,
        presenter: Presenter,
        badge: Badge,
        badge_key: dict,
        card: DisclosureCard | None,
        card_key: dict | None,
        frame_mark: int,
        folder: Path,
        places: CachePlaces,
        meter,
        captions: BurnedCaptions | None = None,
        poster: PosterFrame | None = None,
    ):
        self.timeline, self.scenes, self.compositors = timeline, scenes, compositors
        self.captions, self.poster = captions, poster
        self.face, self.presenter = face, presenter
        self.badge, self.badge_key, self.card, self.card_key = badge, badge_key, card, card_key
        self.frame_mark, self.meter = frame_mark, meter
        self.folder, self.places = folder, places
        self.format = timeline.format
        self._presenter_key: dict | None = None
        self._file_hashes: dict[str, str] = {}
        self._ends: dict[int, np.ndarray] = {}  # a scene's last frame, composed (before label)
        self._by_scene: dict[int, list[Chunk]] = {}
        self.fade_in = _fade_in_frames(timeline, scenes)
        self._pending: list[tuple[Chunk, VideoEncoder, Path]] = []  # encoders still draining

    @property
    def presenter_key(self) -> dict:
        if self._presenter_key is None:
            self._presenter_key = self.presenter.fingerprint()  # the portrait hashed once
        return self._presenter_key

    def plan(self) -> list[Chunk]:
        """Every chunk of the timeline with its key, in order."""
        fmt = self.format
        common = {
            "stage": "chunk",
            "version": __version__,
            "encoder": [*VIDEO_CODEC_ARGS, encoder_identity()],
            "format": [fmt.width, fmt.height, fmt.fps],
            "frame_mark": f"{self.frame_mark:016x}",
            "label": self.badge_key,
        }
        card_frames = math.ceil(self.card.seconds * fmt.fps) if self.card is not None else 0
        chunks: list[Chunk] = []
        before: str | None = None  # the key of the last chunk of the scene before
        for i, (scene, spoken) in enumerate(zip(self.timeline.scenes, self.scenes, strict=True)):
            compositor = self.compositors[i]
            scene_part = self._scene_part(scene)
            offset = 0
            for j, piece in enumerate(spoken.spoken):
                namespace = self.places.of(piece.personal)[1]
                start = spoken.start_frame + offset
                parts = {**common, "scene": scene_part, "frames": piece.frames}
                if compositor.presenter_size is not None:
                    parts["face"] = face_key(
                        piece, self.presenter_key, compositor.presenter_size, fmt.fps, namespace,
                    )  # fmt: skip
                if compositor.moves:
                    parts["scene_frame"] = offset  # which frames of the background clip show
                if start < card_frames:
                    parts["card"] = {**(self.card_key or {}), "start": start}
                if offset < self.fade_in[i]:
                    parts["fade"] = {"from": before, "frames": self.fade_in[i], "offset": offset}
                if self.captions is not None:
                    parts["captions"] = self.captions.key(start, piece.frames)
                chunk = Chunk(
                    i, j, start, offset, piece.frames, segment_key(namespace, **parts),
                    personal=piece.personal,
                )  # fmt: skip
                chunks.append(chunk)
                self._by_scene.setdefault(i, []).append(chunk)
                offset += piece.frames
            before = chunks[-1].key if chunks else None
        return chunks

    def encode_all(self, chunks: list[Chunk]) -> list[Chunk]:
        """Every chunk from the cache, or made (see ``encode``); all complete on return."""
        try:
            for chunk in chunks:
                self.encode(chunk)
            self._finish_pending(keep=0)
        except BaseException:
            for _, encoder, _ in self._pending:
                encoder.abort()
            self._pending.clear()
            raise
        return chunks

    def encode(self, chunk: Chunk) -> Chunk:
        """The chunk from the cache, or its frames made, labelled, marked and fed to an
        encoder, which finishes (and stores the chunk in the cache) while the next chunk's
        frames are made: waiting for x264 to drain at every chunk stalled the render."""
        entry = self.folder / f"chunk-{chunk.scene}-{chunk.piece}"
        entry.mkdir(parents=True, exist_ok=True)
        chunk.path = entry / CHUNK_FILE
        chunk.reused = fetch_entry(self._cache(chunk), chunk.key, entry)
        if chunk.reused:
            self.meter.frames_reused(chunk.frames)
            return chunk
        fmt = self.format
        # A watermarker per chunk: its informed embedding reads the pictures it marks, and a
        # chunk's bytes must not depend on the frames of the chunk before.
        watermark = VideoWatermarker(self.frame_mark, fmt.width, fmt.height)
        self._finish_pending(keep=1)  # at most two encoders at once
        encoder = VideoEncoder(chunk.path, fmt.width, fmt.height, fmt.fps, None, {})
        self._pending.append((chunk, encoder, entry))
        for k, frame in enumerate(self._frames(chunk)):
            if self.captions is not None:  # over the crossfade, under the label and the mark
                self.meter.timed_call("compose", self.captions.draw, frame, chunk.start + k)
            started = time.perf_counter()
            if self.card is not None:
                apply_card(frame, self.card, (chunk.start + k) / fmt.fps)
            apply_label(frame, self.badge)
            marked = time.perf_counter()
            self.meter.add("label", marked - started)
            watermark.apply(frame)
            if self.poster is not None:
                self.poster.offer(chunk.start + k, frame)
            encoding = time.perf_counter()
            self.meter.add("watermark", encoding - marked)
            encoder.write(frame)
            self.meter.add("encode", time.perf_counter() - encoding)
            self.meter.frame_done()
        encoder.end_input()
        return chunk

    def _finish_pending(self, *, keep: int) -> None:
        """Wait for all but the last ``keep`` encoders, and store their chunks."""
        while len(self._pending) > keep:
            chunk, encoder, entry = self._pending.pop(0)
            with self.meter.timing("encode"):
                encoder.finish()
            if encoder.frames != chunk.frames:
                raise EngineError(
                    f"Scene {chunk.scene + 1}, segment {chunk.piece + 1} gave {encoder.frames}"
                    f" frames of {chunk.frames}."
                )
            store_entry(self._cache(chunk), chunk.key, entry)

    def _cache(self, chunk: Chunk) -> SegmentCache:
        return self.places.of(chunk.personal)[0]

    def _frames(self, chunk: Chunk) -> Iterator[np.ndarray]:
        """The chunk's frames composed (and crossfaded from the scene before), unlabelled."""
        i = chunk.scene
        compositor = self.compositors[i]
        fade = self.fade_in[i]
        last = self.scenes[i].frames - 1
        for k, presenter in enumerate(self._faces(chunk)):
            index = chunk.offset + k
            frame = self.meter.timed_call("compose", compositor.frame, index, presenter)
            if index < fade:
                frame = crossfade(self._scene_end(i - 1), frame, (index + 1) / (fade + 1))
            if index == last:
                self._ends[i] = frame.copy()
            yield frame

    def _faces(self, chunk: Chunk) -> Iterator[np.ndarray | None]:
        compositor = self.compositors[chunk.scene]
        if compositor.presenter_size is None:
            return iter([None] * chunk.frames)
        piece = self.scenes[chunk.scene].spoken[chunk.piece]
        cache, namespace = self.places.of(chunk.personal)
        if chunk.personal:
            # Kept as its encoded chunk (whose key covers its face): storing its lossless face
            # frames too cost a campaign of all-distinct names more than it ever saved.
            cache = NullSegmentCache()
        faces = FaceFrames(
            piece,
            face=self.face,
            presenter=self.presenter,
            presenter_key=self.presenter_key,
            size=compositor.presenter_size,
            fps=self.format.fps,
            folder=self.folder,
            name=f"s{chunk.scene}-{chunk.piece}",
            cache=cache,
            namespace=namespace,
        )
        self.meter.scene_faces(
            chunk.frames, chunk.frames if faces.cached else 0, shows_presenter=True
        )
        return self.meter.timed("face", faces)

    def _scene_end(self, scene: int) -> np.ndarray:
        """The last frame of ``scene``, composed: made again when its chunk came from the
        cache (a crossfade into the next scene blends it)."""
        if scene not in self._ends:
            for _ in self._frames(self._by_scene[scene][-1]):
                pass
        return self._ends[scene]

    def _scene_part(self, scene: Scene) -> dict:
        """What a scene shows besides its presenter: layout, background (its file by hash),
        text on screen."""
        background = dataclasses.asdict(scene.background)
        path = background.pop("path")
        if path:
            if path not in self._file_hashes:
                self._file_hashes[path] = file_sha256(path)
            background["file"] = self._file_hashes[path]
        return {
            "layout": dataclasses.asdict(scene.layout),
            "background": background,
            "text": dataclasses.asdict(scene.text),
        }


def _fade_in_frames(timeline: Timeline, scenes: list) -> list[int]:
    """Per scene, how many of its first frames a crossfade from the scene before blends (as
    ``engine.pipeline.assemble_frames`` counts them)."""
    fades = [0]
    for scene, spoken in zip(timeline.scenes[:-1], scenes[:-1], strict=True):
        transition = scene.transition
        fades.append(
            min(round(transition.seconds * spoken.fps), spoken.frames)
            if transition.kind == "crossfade"
            else 0
        )
    return fades
