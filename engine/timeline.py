"""A video as plain data: an output format, a language and scenes, each scene a layout, a
background, text on screen, spoken segments and a transition to the next. JSON, versioned.

Today's single-script render is a one-scene timeline (``one_scene``): the presenter full frame,
one segment with the whole script. Lessons (scenes with slides, the presenter in a corner) and
campaigns (one segment per merge field) are timelines too; the pipeline renders each segment
once and the segment cache (``engine.segment_cache``) reuses it.

``Timeline.check(limits)`` refuses what cannot be rendered with one line that says what and
where ("scene 3: the background image slide.png is not an image"); ``from_dict`` refuses what
is not a timeline at all.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import TimelineError

TIMELINE_VERSION = 1

# Named output formats: (width, height). Any even size from 64 to 4096 is allowed too.
FORMATS = {
    "landscape-720p": (1280, 720),
    "landscape-1080p": (1920, 1080),
    "vertical-720p": (720, 1280),
    "vertical-1080p": (1080, 1920),
    "square-720": (720, 720),
    "square-1080": (1080, 1080),
    "portrait-512": (512, 512),
}

LAYOUTS = ("full", "corner", "half", "voice_over")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
SHAPES = ("circle", "rectangle")
SIDES = ("left", "right")
BACKGROUNDS = ("color", "image", "document", "video")
VIDEO_MODES = ("loop", "freeze")
TRANSITIONS = ("cut", "crossfade")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".m4v")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The sample rates a video's sound may have: the two of studio video and of music.
AUDIO_RATES = (48000, 44100)

# A speaker says about 14 characters a second (festival's default voice at rate 1: 13-16); the
# limits on length are checked against this estimate before anything is rendered.
CHARACTERS_PER_SECOND = 14.0


@dataclass(frozen=True)
class TimelineLimits:
    max_scenes: int = 100
    max_segments: int = 500  # in the whole timeline
    max_seconds: float = 3600.0  # estimated length
    max_segment_characters: int = 5000
    max_text_characters: int = 500  # each title, bullet and lower third
    max_bullets: int = 8


@dataclass
class OutputFormat:
    width: int = 512
    height: int = 512
    fps: int = 25
    # The sound's sample rate (Hz) in the MP4; its bandwidth is the voice's, whatever the rate.
    audio_rate: int = AUDIO_RATES[0]

    @classmethod
    def named(cls, name: str, fps: int = 25) -> OutputFormat:
        if name not in FORMATS:
            raise TimelineError(f"Unknown format '{name}'; choose one of: {', '.join(FORMATS)}.")
        width, height = FORMATS[name]
        return cls(width, height, fps)

    def check(self) -> None:
        if not (64 <= self.width <= 4096 and 64 <= self.height <= 4096):
            raise TimelineError("format: width and height must be between 64 and 4096 pixels.")
        if self.width % 2 or self.height % 2:
            raise TimelineError("format: width and height must be even numbers (H.264 4:2:0).")
        if not 1 <= self.fps <= 60:
            raise TimelineError("format: fps must be between 1 and 60.")
        if self.audio_rate not in AUDIO_RATES:
            raise TimelineError(
                f"format: audio_rate must be {' or '.join(map(str, AUDIO_RATES))} Hz,"
                f" not {self.audio_rate}."
            )


@dataclass
class Layout:
    """Where the presenter is: ``full`` frame; in a ``corner`` (``position``, ``size`` as a
    share of the frame's height, ``shape``); on one ``half`` (``side``); or not at all
    (``voice_over``: the voice over the background)."""

    kind: str = "full"
    position: str = "bottom-right"
    size: float = 0.35
    shape: str = "circle"
    side: str = "right"

    @property
    def shows_presenter(self) -> bool:
        return self.kind != "voice_over"

    def check(self, where: str) -> None:
        if self.kind not in LAYOUTS:
            raise TimelineError(
                f"{where}: unknown layout '{self.kind}'; choose one of: {', '.join(LAYOUTS)}."
            )
        if self.kind == "corner":
            if self.position not in CORNERS:
                raise TimelineError(
                    f"{where}: unknown corner '{self.position}'; choose one of: "
                    f"{', '.join(CORNERS)}."
                )
            if self.shape not in SHAPES:
                raise TimelineError(f"{where}: the presenter's shape is circle or rectangle.")
            if not 0.15 <= self.size <= 0.6:
                raise TimelineError(
                    f"{where}: the presenter's size is a share of the frame's height from 0.15 "
                    "to 0.6."
                )
        if self.kind == "half" and self.side not in SIDES:
            raise TimelineError(f"{where}: the presenter's side is left or right.")


@dataclass
class Background:
    """What is behind the presenter (or alone, for a voice-over): a ``color`` ("#rrggbb"), an
    ``image``, a ``page`` of a PDF ``document``, or a ``video`` clip that loops or freezes on
    its last frame. Paths are local files."""

    kind: str = "color"
    color: str = "#1f2933"
    path: str = ""
    page: int = 1
    mode: str = "loop"

    def check(self, where: str) -> None:
        if self.kind not in BACKGROUNDS:
            raise TimelineError(
                f"{where}: unknown background '{self.kind}'; choose one of: "
                f"{', '.join(BACKGROUNDS)}."
            )
        if not COLOR.match(self.color):
            raise TimelineError(f"{where}: the colour '{self.color}' is not of the form #rrggbb.")
        if self.kind == "color":
            return
        path = Path(self.path)
        if not self.path or not path.is_file():
            raise TimelineError(f"{where}: the background file {path.name or '(none)'} is missing.")
        if self.kind == "image":
            _check_image(path, where)
        elif self.kind == "document":
            _check_document_page(path, self.page, where)
        else:
            if self.mode not in VIDEO_MODES:
                raise TimelineError(f"{where}: a background video loops or freezes.")
            _check_video(path, where)


@dataclass
class OnScreenText:
    """Text drawn over the scene: a title, bullets, a lower third (e.g. a name and role)."""

    title: str = ""
    bullets: list[str] = field(default_factory=list)
    lower_third: str = ""

    def strings(self) -> list[str]:
        return [s for s in (self.title, *self.bullets, self.lower_third) if s]

    def check(self, where: str, limits: TimelineLimits) -> None:
        if len(self.bullets) > limits.max_bullets:
            raise TimelineError(f"{where}: at most {limits.max_bullets} bullets fit on a scene.")
        for text in self.strings():
            if len(text) > limits.max_text_characters:
                raise TimelineError(
                    f"{where}: on-screen text is limited to {limits.max_text_characters} "
                    f"characters (“{text[:30]}…” has {len(text)})."
                )


@dataclass
class Segment:
    """One piece of speech: text with the script markup, then ``pause_after`` seconds of
    silence. A segment is rendered (voice and face) once and cached."""

    text: str
    pause_after: float = 0.0
    # Says something about one viewer (a campaign's recipient's name): never kept in the shared
    # segment cache, where it would push out what renders reuse and keep a recipient's name past
    # the campaign's erasure; only in its lineage's own namespace when the render names one
    # (RenderSpec.personal_cache_namespace), which goes with the campaign's personal data.
    personal: bool = False

    def check(self, where: str, limits: TimelineLimits) -> None:
        if not self.text.strip():
            raise TimelineError(f"{where}: a segment needs text.")
        if len(self.text) > limits.max_segment_characters:
            raise TimelineError(
                f"{where}: a segment is limited to {limits.max_segment_characters} characters."
            )
        if not 0 <= self.pause_after <= 10:
            raise TimelineError(f"{where}: a pause lasts from 0 to 10 seconds.")


@dataclass
class Transition:
    kind: str = "cut"
    seconds: float = 0.5

    def check(self, where: str) -> None:
        if self.kind not in TRANSITIONS:
            raise TimelineError(
                f"{where}: unknown transition '{self.kind}'; choose one of: "
                f"{', '.join(TRANSITIONS)}."
            )
        if self.kind == "crossfade" and not 0.1 <= self.seconds <= 2:
            raise TimelineError(f"{where}: a crossfade lasts from 0.1 to 2 seconds.")


@dataclass
class Scene:
    """``duration``: the scene's least length in seconds (a title card with no speech needs
    one); a scene lasts as long as its speech otherwise. ``transition``: into the next scene."""

    segments: list[Segment] = field(default_factory=list)
    layout: Layout = field(default_factory=Layout)
    background: Background = field(default_factory=Background)
    text: OnScreenText = field(default_factory=OnScreenText)
    duration: float = 0.0
    transition: Transition = field(default_factory=Transition)
    title: str = ""  # the chapter's name (defaults to the on-screen title)

    @property
    def chapter(self) -> str:
        return self.title or self.text.title

    def estimated_seconds(self) -> float:
        spoken = sum(len(s.text) / CHARACTERS_PER_SECOND + s.pause_after for s in self.segments)
        return max(spoken, self.duration)

    def check(self, where: str, limits: TimelineLimits) -> None:
        if not self.segments and self.duration <= 0:
            raise TimelineError(f"{where}: a scene with no speech needs a duration in seconds.")
        if not 0 <= self.duration <= 600:
            raise TimelineError(f"{where}: a scene's duration is from 0 to 600 seconds.")
        self.layout.check(where)
        if self.layout.kind != "full":
            self.background.check(where)
        self.text.check(where, limits)
        for number, segment in enumerate(self.segments, 1):
            segment.check(f"{where}, segment {number}", limits)
        self.transition.check(where)


@dataclass
class Timeline:
    scenes: list[Scene]
    format: OutputFormat = field(default_factory=OutputFormat)
    language: str = "en"
    lead_in_seconds: float = 0.4
    tail_seconds: float = 0.6
    version: int = TIMELINE_VERSION
    # The captions drawn into the picture as well (for players that show no caption track); a
    # timeline written before this field existed loads without them.
    burn_captions: bool = False

    def segments(self) -> list[tuple[int, int, Segment]]:
        """(scene index, segment index, segment) in speaking order."""
        return [
            (i, j, segment)
            for i, scene in enumerate(self.scenes)
            for j, segment in enumerate(scene.segments)
        ]

    def spoken_texts(self) -> list[str]:
        return [segment.text for _, _, segment in self.segments()]

    def on_screen_texts(self) -> list[str]:
        return [text for scene in self.scenes for text in scene.text.strings()]

    def estimated_seconds(self) -> float:
        return (
            self.lead_in_seconds
            + self.tail_seconds
            + sum(scene.estimated_seconds() for scene in self.scenes)
        )

    def check(self, limits: TimelineLimits | None = None) -> None:
        """Raise TimelineError (one line: what and where) for anything that cannot render."""
        limits = limits or TimelineLimits()
        if self.version != TIMELINE_VERSION:
            raise TimelineError(
                f"This timeline is version {self.version}; this engine reads version "
                f"{TIMELINE_VERSION}."
            )
        self.format.check()
        if not self.scenes:
            raise TimelineError("A timeline needs at least one scene.")
        if len(self.scenes) > limits.max_scenes:
            raise TimelineError(
                f"The timeline has {len(self.scenes)} scenes; the limit is {limits.max_scenes}."
            )
        count = len(self.segments())
        if count > limits.max_segments:
            raise TimelineError(
                f"The timeline has {count} segments; the limit is {limits.max_segments}."
            )
        if not (0 <= self.lead_in_seconds <= 5 and 0 <= self.tail_seconds <= 5):
            raise TimelineError("The lead-in and tail last from 0 to 5 seconds.")
        # The length first: a 4-hour timeline is refused before its files are opened.
        seconds = self.estimated_seconds()
        if seconds > limits.max_seconds:
            raise TimelineError(
                f"The timeline would last about {_duration(seconds)}; the limit is "
                f"{_duration(limits.max_seconds)}."
            )
        for number, scene in enumerate(self.scenes, 1):
            scene.check(f"scene {number}", limits)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> Timeline:
        """A timeline from its JSON form; TimelineError names the first field that is wrong."""
        if not isinstance(data, dict):
            raise TimelineError("A timeline is a JSON object.")
        return _build(cls, data, "timeline")

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise TimelineError(f"The timeline is not valid JSON: {error}.") from error
        return cls.from_dict(data)


def one_scene(
    script_text: str,
    *,
    width: int,
    height: int,
    fps: int,
    audio_rate: int = AUDIO_RATES[0],
    language: str = "en",
    lead_in_seconds: float = 0.4,
    tail_seconds: float = 0.6,
) -> Timeline:
    """Today's single-script video: the presenter full frame saying the whole script."""
    return Timeline(
        scenes=[Scene(segments=[Segment(script_text)])],
        format=OutputFormat(width, height, fps, audio_rate),
        language=language,
        lead_in_seconds=lead_in_seconds,
        tail_seconds=tail_seconds,
    )


# The nested dataclasses, by the field that holds them.
_NESTED: dict[tuple[type, str], type] = {}
_LISTS: dict[tuple[type, str], type] = {}


def _build(cls: type, data: dict, where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise TimelineError(f"{where}: unknown field {', '.join(unknown)}.")
    values = {}
    for name, value in data.items():
        path = f"{where}.{name}"
        if (cls, name) in _NESTED:
            if not isinstance(value, dict):
                raise TimelineError(f"{path} must be an object.")
            values[name] = _build(_NESTED[cls, name], value, path)
        elif (cls, name) in _LISTS:
            if not isinstance(value, list):
                raise TimelineError(f"{path} must be a list.")
            item = _LISTS[cls, name]
            values[name] = [
                _build(item, v, f"{path}[{i}]") if isinstance(v, dict) else _bad(f"{path}[{i}]")
                for i, v in enumerate(value)
            ]
        else:
            values[name] = _scalar(value, names[name], path)
    try:
        return cls(**values)
    except TypeError as error:  # a required field is missing
        raise TimelineError(f"{where}: {error}.") from error


def _bad(path: str):
    raise TimelineError(f"{path} must be an object.")


_TYPES = {"int": int, "float": (int, float), "str": str, "list[str]": list}


def _scalar(value: Any, spec: dataclasses.Field, path: str):
    kind = spec.type if isinstance(spec.type, str) else getattr(spec.type, "__name__", "")
    if kind == "bool":
        if not isinstance(value, bool):
            raise TimelineError(f"{path} must be true or false, not {json.dumps(value)[:40]}.")
        return value
    expected = _TYPES.get(kind)
    if expected is None:
        return value
    if isinstance(value, bool) or not isinstance(value, expected):
        raise TimelineError(f"{path} must be {_NAMES[kind]}, not {json.dumps(value)[:40]}.")
    if kind == "float" and not math.isfinite(value):
        raise TimelineError(f"{path} must be a finite number.")
    if kind == "list[str]" and not all(isinstance(v, str) for v in value):
        raise TimelineError(f"{path} must be a list of strings.")
    return float(value) if kind == "float" else value


_NAMES = {"int": "a whole number", "float": "a number", "str": "a string", "list[str]": "a list"}

_NESTED.update(
    {
        (Timeline, "format"): OutputFormat,
        (Scene, "layout"): Layout,
        (Scene, "background"): Background,
        (Scene, "text"): OnScreenText,
        (Scene, "transition"): Transition,
    }
)
_LISTS.update({(Timeline, "scenes"): Scene, (Scene, "segments"): Segment})


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _check_image(path: Path, where: str) -> None:
    from PIL import Image

    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise TimelineError(
            f"{where}: the background image {path.name} is not a PNG, JPEG or WebP."
        )
    try:
        with Image.open(path) as image:
            if image.width * image.height > 50_000_000:
                raise TimelineError(f"{where}: the background image {path.name} is too large.")
            image.verify()
    except TimelineError:
        raise
    except Exception as error:  # PIL raises many kinds for a file that is not an image
        raise TimelineError(
            f"{where}: the background image {path.name} is not an image."
        ) from error


def _check_document_page(path: Path, page: int, where: str) -> None:
    from engine.documents import page_count

    if path.suffix.lower() != ".pdf":
        raise TimelineError(f"{where}: the background document {path.name} is not a PDF.")
    pages = page_count(path)  # raises TimelineError for a file that is not a readable PDF
    if not 1 <= page <= pages:
        raise TimelineError(f"{where}: {path.name} has {pages} pages; there is no page {page}.")


def _check_video(path: Path, where: str) -> None:
    from engine.biometrics.bounds import MediaOutOfBounds, probe_media

    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise TimelineError(f"{where}: the background video {path.name} is not a video file.")
    try:
        info = probe_media(path, scan_limit=3600)
    except MediaOutOfBounds as error:
        raise TimelineError(f"{where}: the background video {path.name} cannot be read.") from error
    if not info.has_video:
        raise TimelineError(f"{where}: the background video {path.name} has no picture.")
