"""What a render is asked to make (RenderSpec) and what it made (RenderResult): plain JSON data."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from engine.face.drive import MOTION_STYLES
from engine.timeline import AUDIO_RATES, Timeline, one_scene

Word = tuple[str, float, float]  # (word, start seconds, end seconds)


@dataclass
class RenderSpec:
    """Everything one render needs. Paths are local files; sizes in pixels; times in seconds."""

    script_text: str
    portrait_path: str
    voice_sample_paths: list[str] = field(default_factory=list)
    # Pixel coordinates [x, y] in the portrait, mediapipe 478-point layout; None: detect them.
    portrait_landmarks: list[list[float]] | None = None
    width: int = 512
    height: int = 512
    fps: int = 25
    # The sound's sample rate in the MP4 (engine.timeline.AUDIO_RATES), for a spec without a
    # timeline; a timeline says its own in its format.
    audio_rate: int = AUDIO_RATES[0]
    label_text: str = "AI-generated"
    voice_engine: str = "world"  # the site's default (setting VOICE_ENGINE)
    # The subject's voice profile cached at enrollment (engine.voice.profile .npz; "" = the
    # engine computes it from the samples) and the workspace's lexicon (word -> respelling).
    voice_profile_path: str = ""
    pronunciations: dict[str, str] = field(default_factory=dict)
    # The neural voice engine's weights directory and device ("auto": cuda when available),
    # the site's settings XTTS_WEIGHTS_DIR and XTTS_DEVICE; engines that load none ignore them.
    voice_weights_dir: str = ""
    voice_device: str = "auto"
    face_engine: str = "warp"  # the site's default (setting FACE_ENGINE)
    # The neural face engine's weights directory (setting FACE_NEURAL_WEIGHTS_DIR).
    face_weights_dir: str = ""
    # A footage avatar's video (engine.face.footage): when set, the face is animated from it by
    # the "footage" engine (whatever face_engine says) and portrait_path is a still frame of it.
    footage_path: str = ""
    # Render at the portrait's own resolution (up to 1080p) instead of width x height.
    size_from_portrait: bool = False
    lead_in_seconds: float = 0.4
    tail_seconds: float = 0.6
    metadata: dict[str, str] = field(default_factory=dict)
    # Provenance: the 64-bit id carried by the watermarks, as 16 hex digits ("" = a random one),
    # fields of the C2PA provenance assertion (no personal data), and the directory of the site's
    # signing identity (engine.keys; "" = leave the file unsigned).
    provenance_id: str = ""
    # The lineage's 64-bit id for the frames' mark, 16 hex digits, shared by renders that may
    # share frames (a campaign's variants, a lesson's re-renders); the sound and the manifest
    # keep ``provenance_id``. "" = the frames carry ``provenance_id`` too, and are never shared.
    frame_mark_id: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    signing_keys_dir: str = ""
    label_position: str = "top-right"
    # Seconds of an opening card that says the video is synthetic (0 = none).
    disclosure_card_seconds: float = 0.0
    disclosure_card_text: str = ""
    # The video as a timeline (engine.timeline, its JSON form): scenes, layouts, backgrounds,
    # on-screen text, spoken segments. None: one scene, the presenter full frame saying
    # ``script_text`` at width x height and fps (with lead_in_seconds and tail_seconds).
    timeline: dict[str, Any] | None = None
    # Segment cache entries are kept per namespace (the site: one per avatar), so that a
    # withdrawn consent deletes them together.
    cache_namespace: str = ""
    # How the presenter moves: a setting of engine.face.drive.MOTION_STYLES (head motion and
    # expression strength; blinks in every one).
    motion: str = "natural"
    # Where personal segments (a campaign recipient's name) are kept, so that recipients who
    # share a value (a company) share its segment; the site deletes the namespace with the
    # campaign's personal data. "": personal segments are made for their video only.
    personal_cache_namespace: str = ""
    # Seconds per unit of work of each stage as measured on this machine (engine.pipeline's
    # STAGE_COST names the stages and units): progress is weighted by them. None, or a stage
    # left out: STAGE_COST's prior.
    stage_costs: dict[str, float] | None = None

    def validate(self) -> None:
        """Raise ValueError for settings the encoder cannot honour."""
        if not (64 <= self.width <= 4096 and 64 <= self.height <= 4096):
            raise ValueError("width and height must be between 64 and 4096 pixels")
        if self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even numbers (H.264 4:2:0)")
        if self.provenance_id and not _is_hex64(self.provenance_id):
            raise ValueError("provenance_id must be 16 hexadecimal digits")
        if self.frame_mark_id and not _is_hex64(self.frame_mark_id):
            raise ValueError("frame_mark_id must be 16 hexadecimal digits")
        if not 0 <= self.disclosure_card_seconds <= 10:
            raise ValueError("disclosure_card_seconds must be between 0 and 10")
        if not 1 <= self.fps <= 60:
            raise ValueError("fps must be between 1 and 60")
        if self.audio_rate not in AUDIO_RATES:
            raise ValueError(f"audio_rate must be one of {', '.join(map(str, AUDIO_RATES))} Hz")
        if self.motion not in MOTION_STYLES:
            raise ValueError(f"motion must be one of {', '.join(MOTION_STYLES)}")
        if self.lead_in_seconds < 0 or self.tail_seconds < 0:
            raise ValueError("lead_in_seconds and tail_seconds cannot be negative")

    def build_timeline(self) -> Timeline:
        """The timeline this spec renders (TimelineError for one that is not a timeline)."""
        if self.timeline is not None:
            return Timeline.from_dict(self.timeline)
        return one_scene(
            self.script_text,
            width=self.width,
            height=self.height,
            fps=self.fps,
            audio_rate=self.audio_rate,
            lead_in_seconds=self.lead_in_seconds,
            tail_seconds=self.tail_seconds,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown render spec fields: {', '.join(unknown)}")
        spec = cls(**data)
        spec.voice_sample_paths = [str(p) for p in spec.voice_sample_paths]
        spec.metadata = {str(k): str(v) for k, v in spec.metadata.items()}
        spec.pronunciations = {str(k): str(v) for k, v in spec.pronunciations.items()}
        return spec

    @classmethod
    def from_json(cls, text: str) -> RenderSpec:
        return cls.from_dict(json.loads(text))


def _is_hex64(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdefABCDEF" for c in text)


@dataclass
class RenderResult:
    """What a render produced. ``stage_seconds`` holds wall time per stage; ``stage_units`` the
    work each stage did anew, in STAGE_COST's units (seconds of speech, presenter frames,
    frame-megapixels, videos), so that seconds / units is the stage's measured cost."""

    video_path: str
    video_seconds: float
    audio_seconds: float
    frames: int
    fps: int
    width: int
    height: int
    stage_seconds: dict[str, float]
    words: list[Word]
    voice_engine: str
    face_engine: str
    provenance_id: str = ""  # the render's id (audio mark, C2PA; frames too by default)
    audio_watermark: str = ""  # the audio payload (top 32 bits), 8 hex digits
    c2pa_signed: bool = False
    segments: int = 1  # spoken segments in the timeline
    segments_cached: int = 0  # of which the speech came from the segment cache
    frame_mark_id: str = ""  # the frames' mark when it is a lineage's, not provenance_id
    chunks: int = 0  # encoded chunks the video was joined from (0: encoded in one pass)
    chunks_reused: int = 0  # of which copied from the segment cache
    # Per scene: its length, where its segments start (seconds from the scene's start), chapter.
    scenes: list[dict[str, Any]] = field(default_factory=list)
    stage_units: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["words"] = [[w, s, e] for w, s, e in self.words]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
