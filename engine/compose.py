"""One scene's frames: the background, the presenter placed by the layout, the text on screen.

Everything that does not change from frame to frame is prepared once, when the compositor is
made: the background picture (a colour, an image cover-fitted, a PDF page letterboxed), the
presenter's mask and ring, and the text drawn with Pillow. Per frame the work is a copy of the
prepared background (or the next frame of a background video), the presenter pasted or blended
through its mask, and the text blended where it is: a few milliseconds at 1280x720.

    with SceneCompositor(scene, fmt) as compositor:
        size = compositor.presenter_size        # ask the face engine for this size (or None)
        for index, face in enumerate(presenter_frames):
            encoder.write(compositor.frame(index, face))
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from engine.captions import Cue
from engine.documents import render_page
from engine.timeline import Background, OnScreenText, OutputFormat, Scene, TimelineError
from engine.tools import require_tool

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"

# Shares of the frame's shorter side (its height, in landscape).
MARGIN = 0.04  # from the frame's edges to the presenter and the text
TITLE_SIZE = 0.068
BULLET_SIZE = 0.046
LOWER_THIRD_SIZE = 0.044
PADDING = 0.026  # inside a text panel
# Text that does not fit is shrunk in these steps, at the last one cut with an ellipsis.
SHRINK_STEPS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42, 0.35)

PANEL = (14, 18, 26, 205)  # dark, four fifths opaque: text reads on a busy slide
TITLE_COLOR = (255, 255, 255, 255)
BULLET_COLOR = (236, 239, 244, 255)
ACCENT = (255, 184, 0, 255)  # the bullet marks and the lower third's bar
RING = (245, 245, 245)  # the light border around a corner presenter, on any background
RING_WIDTH = 0.012  # share of the presenter's side
SHADOW_WIDTH = 0.02  # outside the ring, share of the presenter's side
CORNER_RADIUS = 0.08  # a rectangle presenter's rounded corners, share of its side
# Burned captions: centred at the bottom on a dark box that lets a little of the picture through.
CAPTION_SIZE = 0.062  # share of the frame's shorter side (11 px at 180p, 45 px at 720p)
CAPTION_LINES = 2
CAPTION_BOX = (8, 10, 14, 185)
CAPTION_COLOR = (255, 255, 255, 255)


class SceneCompositor:
    """Composes the frames of one scene at the output format's size.

    ``presenter_size`` is the (width, height) the face engine should render the presenter at
    for this layout, or None for a voice-over. ``frame(index, presenter)`` returns frame number
    ``index`` of the scene (from 0) as an RGB uint8 array, height x width x 3, C-contiguous.
    The array is a buffer the compositor reuses: write it (or copy it) before the next call.
    A background video is decoded by ffmpeg as the frames are asked for; ``close()`` (or the
    ``with`` block) ends that process.
    """

    def __init__(self, scene: Scene, fmt: OutputFormat):
        self.scene, self.format = scene, fmt
        self.width, self.height = fmt.width, fmt.height
        self.layout = scene.layout.kind
        unit = min(self.width, self.height)
        self._margin = max(2, round(MARGIN * unit))
        self._color = _rgb(scene.background.color)
        self.presenter_size, self._box = _presenter_box(scene, self.width, self.height, unit)
        self._frame = np.empty((self.height, self.width, 3), np.uint8)

        self._mask: _Piece | None = None  # the corner presenter's shape (alpha only)
        self._ring: _Piece | None = None
        if self.layout == "corner":
            self._mask, self._ring = _corner_shape(self._box, scene.layout.shape)

        self._video: _VideoBackground | None = None
        self._background: np.ndarray | None = None  # static pictures, prepared once
        if self.layout != "full" and scene.background.kind == "video":
            self._video = _VideoBackground(
                Path(scene.background.path), self.width, self.height, fmt.fps, scene.background.mode
            )
        else:
            self._background = _background_picture(
                scene.background if self.layout != "full" else Background(kind="color"),
                self.width,
                self.height,
                self._color,
            )

        area = _text_area(
            self.layout, self._box, scene.layout.side, self.width, self.height, self._margin
        )
        self._text = _text_pieces(scene.text, area, self.width, self.height, unit)
        # On a still background the ring and the text (kept clear of the presenter) are blended
        # into the background once; per frame only the presenter is placed.
        if self._background is not None and self.layout != "full":
            for piece in [self._ring, *self._text]:
                if piece is not None:
                    piece.blend_into(self._background)
            self._ring, self._text = None, []

    def frame(self, index: int, presenter: np.ndarray | None) -> np.ndarray:
        """Frame ``index`` of the scene with ``presenter`` (an RGB uint8 frame at
        ``presenter_size``; another size is resized) placed by the layout. A None presenter
        leaves the background showing where the presenter would be."""
        out = self._frame
        if self.layout == "full" and presenter is not None:
            np.copyto(out, self._presenter(presenter))
        elif self._video is not None:
            np.copyto(out, self._video.at(index))
        else:
            np.copyto(out, self._background)
        if self._ring is not None:
            self._ring.blend_into(out)
        if presenter is not None and self.layout in ("corner", "half"):
            x, y, w, h = self._box
            picture = self._presenter(presenter)
            if self._mask is None:
                out[y : y + h, x : x + w] = picture
            else:
                roi = out[y : y + h, x : x + w]
                cv2.blendLinear(picture, roi, self._mask.alpha, self._mask.rest, dst=roi)
        for piece in self._text:
            piece.blend_into(out)
        return out

    @property
    def moves(self) -> bool:
        """Whether the background changes from frame to frame (a video): then a frame depends
        on its index in the scene."""
        return self._video is not None

    @property
    def presenter_box(self) -> tuple[int, int, int, int] | None:
        """Where the presenter is in the frame: (left, top, right, bottom), None without one."""
        if self.presenter_size is None:
            return None
        x, y, w, h = self._box
        return x, y, x + w, y + h

    def close(self) -> None:
        if self._video is not None:
            self._video.close()

    def __enter__(self) -> SceneCompositor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _presenter(self, picture: np.ndarray) -> np.ndarray:
        if picture.dtype != np.uint8 or picture.ndim != 3 or picture.shape[2] not in (3, 4):
            raise TimelineError(
                f"A presenter frame has shape {picture.shape} and type {picture.dtype}; "
                "the compositor takes RGB uint8 frames."
            )
        if picture.shape[2] == 4:
            picture = np.ascontiguousarray(picture[..., :3])
        width, height = self.presenter_size
        if picture.shape[:2] != (height, width):
            picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
        return picture


def crossfade(a: np.ndarray, b: np.ndarray, t: float, out: np.ndarray | None = None) -> np.ndarray:
    """The frame ``t`` (0: all ``a``, 1: all ``b``) of the crossfade from ``a`` to ``b``, two
    frames of one size; written into ``out`` when given."""
    t = min(max(float(t), 0.0), 1.0)
    return cv2.addWeighted(a, 1.0 - t, b, t, 0.0, dst=out)


# The presenter's place ------------------------------------------------------------------------


def _presenter_box(
    scene: Scene, width: int, height: int, unit: int
) -> tuple[tuple[int, int] | None, tuple[int, int, int, int]]:
    """(presenter_size, (x, y, w, h) where it goes in the frame)."""
    layout = scene.layout
    if layout.kind == "full":
        return (width, height), (0, 0, width, height)
    if layout.kind == "half":
        half = _even(width / 2, down=True)
        x = width - half if layout.side == "right" else 0
        return (half, height), (x, 0, half, height)
    if layout.kind == "corner":
        margin = max(2, round(MARGIN * unit))
        side = min(_even(layout.size * height), _even(min(width, height) - 2 * margin, down=True))
        x = width - margin - side if layout.position.endswith("right") else margin
        y = height - margin - side if layout.position.startswith("bottom") else margin
        return (side, side), (x, y, side, side)
    return None, (0, 0, 0, 0)  # voice_over


def _corner_shape(box: tuple[int, int, int, int], shape: str) -> tuple[_Piece, _Piece]:
    """The presenter's mask and its border, anti-aliased: a circle, or a rectangle with slightly
    rounded corners (a signed distance to the edge, in pixels), inside a light ring and a soft
    dark shadow, so that the edge reads on a light or a dark background."""
    x, y, side, _ = box
    shadow = max(2.0, SHADOW_WIDTH * side)
    half = side / 2 - shadow  # the ring's outer edge
    radius = half if shape == "circle" else CORNER_RADIUS * side
    d = np.abs(np.arange(side, dtype=np.float32) - (side - 1) / 2)
    qx, qy = d[None, :] - (half - radius), d[:, None] - (half - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    distance = outside + np.minimum(np.maximum(qx, qy), 0) - radius  # < 0 inside
    ring_width = max(2.0, RING_WIDTH * side)
    shape_alpha = np.clip(0.5 - distance, 0, 1)
    presenter_alpha = np.clip(0.5 - (distance + ring_width), 0, 1)
    ring_alpha = np.clip(shape_alpha - presenter_alpha, 0, 1) * 0.92
    shadow_alpha = 0.35 * np.clip(1 - distance / shadow, 0, 1) ** 2 * (1 - shape_alpha)
    alpha = ring_alpha + shadow_alpha
    ring_rgb = np.empty((side, side, 3), np.uint8)
    ring_rgb[:] = (np.float32(RING) * (ring_alpha / np.maximum(alpha, 1e-6))[..., None]).round()
    return _Piece(x, y, None, presenter_alpha), _Piece(x, y, ring_rgb, alpha)


def _text_area(
    layout: str, box: tuple[int, int, int, int], side: str, width: int, height: int, margin: int
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): where text may go, clear of the presenter."""
    full = (margin, margin, width - margin, height - margin)
    x, y, w, h = box
    if layout == "half":
        if side == "right":
            return (margin, margin, x - margin, height - margin)
        return (x + w + margin, margin, width - margin, height - margin)
    if layout == "corner":
        # The larger of the columns beside the presenter and the rows above or below it.
        if x > width / 2 - w / 2:
            beside = (margin, margin, x - margin, height - margin)
        else:
            beside = (x + w + margin, margin, width - margin, height - margin)
        if y > height / 2 - h / 2:
            across = (margin, margin, width - margin, y - margin)
        else:
            across = (margin, y + h + margin, width - margin, height - margin)
        return max(beside, across, key=lambda r: (r[2] - r[0]) * (r[3] - r[1]))
    return full


# Backgrounds ----------------------------------------------------------------------------------


def _background_picture(
    background: Background, width: int, height: int, color: tuple[int, int, int]
) -> np.ndarray:
    if background.kind == "image":
        return _cover(Path(background.path), width, height, color)
    if background.kind == "document":
        return render_page(background.path, background.page, width, height, background=color)
    picture = np.empty((height, width, 3), np.uint8)
    picture[:] = color
    return picture


def _cover(path: Path, width: int, height: int, color: tuple[int, int, int]) -> np.ndarray:
    """The image scaled to fill the frame, its middle kept (the overflow cropped evenly)."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                flat = Image.new("RGBA", image.size, (*color, 255))
                image = Image.alpha_composite(flat, image)
            image = image.convert("RGB")
            scale = max(width / image.width, height / image.height)
            crop_w, crop_h = width / scale, height / scale
            left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
            image = image.resize(
                (width, height),
                Image.Resampling.LANCZOS,
                box=(left, top, left + crop_w, top + crop_h),
                reducing_gap=3.0,
            )
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise TimelineError(f"The background image {path.name} cannot be read.") from error
    return np.array(image)  # a writable copy: the text is blended into it


class _VideoBackground:
    """A background clip decoded by ffmpeg through a pipe at the frame's size and rate, one
    frame at a time. ``loop`` starts it again after its end; ``freeze`` holds its last frame."""

    def __init__(self, path: Path, width: int, height: int, fps: int, mode: str):
        self.path, self.mode = path, mode
        self._command = [
            require_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path), "-an", "-sn",
            "-vf", f"fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1",
            "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
        ]  # fmt: skip
        self._current = np.zeros((height, width, 3), np.uint8)
        self._spare = np.empty_like(self._current)
        self._position = -1  # the clip's frame number held in _current
        self._length: int | None = None  # frames in the clip, known once its end is read
        self._proc: subprocess.Popen | None = None
        self._log = None

    def at(self, index: int) -> np.ndarray:
        """The background for the scene's frame ``index``."""
        target = self._clip_index(index)
        if target < self._position:
            self._stop()
        while self._position < target:
            if self._read_next():
                continue
            self._length = self._position + 1
            if self._length == 0:
                raise TimelineError(
                    f"The background video {self.path.name} has no picture that can be read"
                    f" ({self._error_line()})."
                )
            target = self._clip_index(index)
            if target < self._position:  # looping: from the start again
                self._stop()
        return self._current

    def close(self) -> None:
        self._stop()

    def _clip_index(self, index: int) -> int:
        if self._length is None:
            return index
        if self.mode == "loop":
            return index % self._length
        return min(index, self._length - 1)

    def _read_next(self) -> bool:
        """Read the clip's next frame into _current; False at its end."""
        if self._proc is None:
            if self._log is not None:
                self._log.close()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _stop()
            self._proc = subprocess.Popen(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
                self._command, stdout=subprocess.PIPE, stderr=self._log, bufsize=1 << 20
            )
        buffer = memoryview(self._spare).cast("B")
        got = 0
        while got < len(buffer):
            n = self._proc.stdout.readinto(buffer[got:])
            if not n:  # the end: _current keeps the last frame (a part frame is dropped)
                self._end_process()
                return False
            got += n
        self._current, self._spare = self._spare, self._current
        self._position += 1
        return True

    def _end_process(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc.stdout.close()
            self._proc = None

    def _stop(self) -> None:
        """End ffmpeg; the next frame read is the clip's first."""
        self._end_process()
        self._position = -1
        if self._log is not None:
            self._log.close()
            self._log = None

    def _error_line(self) -> str:
        if self._log is None:
            return "no message"
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:200] if lines else "no message"


# Burned captions ------------------------------------------------------------------------------


class BurnedCaptions:
    """A video's caption cues (seconds on the video's clock) drawn into its frames: each cue
    centred near the bottom, at most two lines on a dark translucent box, kept above
    ``keep_clear`` (left, top, right, bottom: the visible label, when it sits at the bottom).

    Frame ``index`` shows the cue whose start <= index / fps < end, as a caption player would.
    A cue's picture is made when first drawn and kept while it shows.
    """

    def __init__(
        self,
        cues: Sequence[Cue],
        fmt: OutputFormat,
        keep_clear: tuple[int, int, int, int] | None = None,
    ):
        self.width, self.height, self.fps = fmt.width, fmt.height, fmt.fps
        self.keep_clear = keep_clear
        self.spans: list[tuple[int, int, tuple[str, ...]]] = []  # (first frame, end, lines)
        for cue in cues:
            first, end = self._frame_at(cue.start), self._frame_at(cue.end)
            if cue.lines and end > first:
                self.spans.append((first, end, tuple(cue.lines)))
        self._firsts = [first for first, _, _ in self.spans]
        self._shown: tuple[int, _Piece] | None = None

    def cue_at(self, index: int) -> int | None:
        """The number (in ``spans``) of the cue shown on frame ``index``, None between cues."""
        number = bisect.bisect_right(self._firsts, index) - 1
        if number >= 0 and index < self.spans[number][1]:
            return number
        return None

    def draw(self, frame: np.ndarray, index: int) -> np.ndarray:
        """The cue of frame ``index`` (of the whole video, from 0) blended into ``frame``."""
        number = self.cue_at(index)
        if number is not None:
            if self._shown is None or self._shown[0] != number:
                self._shown = (number, self._piece(self.spans[number][2]))
            self._shown[1].blend_into(frame)
        return frame

    def key(self, start: int, frames: int) -> list:
        """What is drawn over frames ``start`` to ``start + frames - 1``: each cue's lines and
        the frames it covers, counted from ``start`` (a part of an encoded chunk's cache key)."""
        end = start + frames
        return [
            [max(first, start) - start, min(last, end) - start, list(lines)]
            for first, last, lines in self.spans
            if first < end and last > start
        ]

    def _frame_at(self, seconds: float) -> int:
        """The first frame shown at or after ``seconds``."""
        return max(0, math.ceil(round(seconds * self.fps, 6)))

    def _piece(self, lines: tuple[str, ...]) -> _Piece:
        width, height = self.width, self.height
        unit = min(width, height)
        margin = max(2, round(MARGIN * unit))
        pad_x = max(3, round(PADDING * unit))
        pad_y = max(2, round(PADDING * unit * 0.5))
        room = width - 2 * margin - 2 * pad_x
        rows, font = _caption_rows(lines, unit, room)
        advance = _advance(font)
        text_width = max(math.ceil(font.getlength(row)) for row in rows)
        box_w = min(width - 2 * margin, text_width + 2 * pad_x)
        box_h = len(rows) * advance + 2 * pad_y
        x = (width - box_w) // 2
        bottom = height - margin
        if self.keep_clear is not None:
            left, top, right, low = self.keep_clear
            if left < x + box_w and right > x and top < bottom and low > bottom - box_h:
                bottom = top - margin // 2
        y = max(0, bottom - box_h)
        layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        ImageDraw.Draw(layer).rounded_rectangle(
            (0, 0, box_w - 1, box_h - 1), radius=max(2, pad_y), fill=CAPTION_BOX
        )
        text = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(text)
        for number, row in enumerate(rows):
            indent = (box_w - font.getlength(row)) / 2  # each row centred
            draw.text((indent, pad_y + number * advance), row, font=font, fill=CAPTION_COLOR)
        overlay = np.asarray(Image.alpha_composite(layer, text))
        overlay = overlay[: height - y, : width - x]
        return _Piece(
            x, y, np.ascontiguousarray(overlay[..., :3]), overlay[..., 3] / np.float32(255)
        )


def _caption_rows(
    lines: tuple[str, ...], unit: int, room: int
) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """The cue's lines as they fit ``room`` pixels across: its own lines when they fit, else
    its words wrapped again, at most ``CAPTION_LINES`` rows (smaller type before an ellipsis)."""
    words = " ".join(lines)
    for k in SHRINK_STEPS:
        font = _font(True, CAPTION_SIZE * unit * k)
        if len(lines) <= CAPTION_LINES and all(font.getlength(line) <= room for line in lines):
            return list(lines), font
        rows = _wrap(words, font, room)
        if len(rows) <= CAPTION_LINES:
            return rows, font
    rows = rows[:CAPTION_LINES]
    rows[-1] = _ellipsis(rows[-1], font, room)
    return rows, font


# Text -----------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """A part of the frame to blend: ``rgb`` (None for a mask only) with ``alpha`` (float32,
    0 to 1) at (x, y)."""

    x: int
    y: int
    rgb: np.ndarray | None
    alpha: np.ndarray

    def __post_init__(self) -> None:
        self.alpha = np.ascontiguousarray(self.alpha, dtype=np.float32)
        self.rest = 1.0 - self.alpha

    def blend_into(self, frame: np.ndarray) -> None:
        h, w = self.alpha.shape
        roi = frame[self.y : self.y + h, self.x : self.x + w]
        cv2.blendLinear(self.rgb, roi, self.alpha, self.rest, dst=roi)


@dataclass
class _Line:
    x: int
    y: int
    text: str
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int, int]
    advance: int


def _text_pieces(
    text: OnScreenText, area: tuple[int, int, int, int], width: int, height: int, unit: int
) -> list[_Piece]:
    """The title and bullets in a panel at the top of ``area``, the lower third in a band at
    its bottom: drawn once with Pillow, each panel a piece to blend."""
    x0, y0, x1, y1 = area
    pad = max(3, round(PADDING * unit))
    free_width = x1 - x0 - 2 * pad
    if (
        free_width < 8
        or y1 - y0 < 2 * pad + 8
        or not (text.title or text.bullets or text.lower_third)
    ):
        return []
    panels: list[tuple[tuple[int, int, int, int], list[_Line], bool]] = []
    bottom = y1
    if text.lower_third:
        bar = max(2, round(pad * 0.35))
        lines = _fit(
            lambda k: _lower_third_lines(text.lower_third, k, unit, free_width - 2 * bar, bar),
            (y1 - y0) // 3 - 2 * pad,
            free_width - 2 * bar,
        )
        if lines:
            w, h = _extent(lines)
            top = y1 - h - 2 * pad
            panels.append(((x0, top, x0 + w + 2 * pad, y1), lines, True))
            bottom = top - pad
    if text.title or text.bullets:
        lines = _fit(
            lambda k: _main_lines(text, k, unit, free_width), bottom - y0 - 2 * pad, free_width
        )
        if lines:
            w, h = _extent(lines)
            panels.append(((x0, y0, x0 + w + 2 * pad, y0 + h + 2 * pad), lines, False))

    panel_layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    text_layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    panel_draw, text_draw = ImageDraw.Draw(panel_layer), ImageDraw.Draw(text_layer)
    for (left, top, right, low), lines, has_bar in panels:
        panel_draw.rounded_rectangle(
            (left, top, right - 1, low - 1), radius=max(2, pad // 2), fill=PANEL
        )
        if has_bar:
            bar = max(2, round(pad * 0.35))
            panel_draw.rectangle((left, top, left + bar - 1, low - 1), fill=ACCENT)
        for line in lines:
            text_draw.text(
                (left + pad + line.x, top + pad + line.y), line.text, font=line.font, fill=line.fill
            )
    if not panels:
        return []
    overlay = np.asarray(Image.alpha_composite(panel_layer, text_layer))
    pieces = []
    for (left, top, right, low), _, _ in panels:
        left, top = max(0, left), max(0, top)
        right, low = min(width, right), min(height, low)
        crop = overlay[top:low, left:right]
        pieces.append(
            _Piece(left, top, np.ascontiguousarray(crop[..., :3]), crop[..., 3] / np.float32(255))
        )
    return pieces


def _fit(layout, max_height: int, max_width: int) -> list[_Line]:
    """The lines at the largest size that fits ``max_height``; at the smallest, cut with an
    ellipsis. ``layout(k)`` lays the text out at k times its normal size."""
    for k in SHRINK_STEPS:
        lines = layout(k)
        if _extent(lines)[1] <= max_height:
            return lines
    kept = [line for line in lines if line.y + line.advance <= max_height]
    if kept and len(kept) < len(lines):
        last = kept[-1]
        kept[-1] = _Line(
            last.x,
            last.y,
            _ellipsis(last.text, last.font, max_width - last.x),
            last.font,
            last.fill,
            last.advance,
        )
    return kept


def _main_lines(text: OnScreenText, k: float, unit: int, width: int) -> list[_Line]:
    lines: list[_Line] = []
    y = 0
    if text.title:
        font = _font(True, TITLE_SIZE * unit * k)
        advance = _advance(font)
        for row in _wrap(text.title, font, width):
            lines.append(_Line(0, y, row, font, TITLE_COLOR, advance))
            y += advance
    if text.bullets:
        font = _font(False, BULLET_SIZE * unit * k)
        advance = _advance(font)
        if text.title:
            y += round(advance * 0.45)
        mark = "•"
        indent = round(font.getlength(mark + "  "))
        for bullet in text.bullets:
            for number, row in enumerate(_wrap(bullet, font, width - indent)):
                if number == 0:
                    lines.append(_Line(0, y, mark, font, ACCENT, advance))
                lines.append(_Line(indent, y, row, font, BULLET_COLOR, advance))
                y += advance
            y += round(advance * 0.25)
    return lines


def _lower_third_lines(text: str, k: float, unit: int, width: int, bar: int) -> list[_Line]:
    font = _font(True, LOWER_THIRD_SIZE * unit * k)
    advance = _advance(font)
    return [
        _Line(bar * 2, number * advance, row, font, TITLE_COLOR, advance)
        for number, row in enumerate(_wrap(text, font, width))
    ]


def _extent(lines: list[_Line]) -> tuple[int, int]:
    """(width, height) the lines cover."""
    if not lines:
        return 0, 0
    width = max(line.x + math.ceil(line.font.getlength(line.text)) for line in lines)
    height = max(line.y + line.advance for line in lines)
    return width, height


def _wrap(text: str, font, width: int) -> list[str]:
    """Lines no wider than ``width``: broken between words, a word too long for a line
    broken inside."""
    rows = []
    for paragraph in text.splitlines() or [""]:
        row = ""
        for word in paragraph.split():
            candidate = f"{row} {word}" if row else word
            if font.getlength(candidate) <= width:
                row = candidate
                continue
            if row:
                rows.append(row)
            while font.getlength(word) > width and len(word) > 1:
                cut = _longest_prefix(word, font, width)
                rows.append(word[:cut])
                word = word[cut:]
            row = word
        if row:
            rows.append(row)
    return rows


def _longest_prefix(word: str, font, width: int) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsis(text: str, font, width: int) -> str:
    text = text.rstrip()
    while text and font.getlength(text + "…") > width:
        text = text[:-1].rstrip()
    return text + "…"


def _advance(font) -> int:
    ascent, descent = font.getmetrics()
    return math.ceil((ascent + descent) * 1.08)


@functools.lru_cache(maxsize=128)
def _font(bold: bool, size: float):
    size = max(8, round(size))
    path = BOLD_FONT if bold else REGULAR_FONT
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        _warn_missing_font(path)
        return ImageFont.load_default(size)


@functools.cache
def _warn_missing_font(path: Path) -> None:
    log.warning("The font %s is missing (install fonts-dejavu-core); using Pillow's own.", path)


# Small helpers --------------------------------------------------------------------------------


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _even(value: float, down: bool = False) -> int:
    """The even whole number nearest ``value`` (or the one below), at least 2."""
    number = int(value) // 2 * 2 if down else round(value / 2) * 2
    return max(2, number)
