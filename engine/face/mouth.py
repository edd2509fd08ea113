"""The inside of the photo engine's mouth: where the jaw parts from the skull, and what shows in the
gap when it does.

A portrait is read once (``read_mouth``). Between its inner lips it shows nothing (a closed mouth),
teeth (a smile) or teeth and a dark cavity (a mouth caught open). The split, the line the lower
jaw parts along, is found in the pixels: per column across the mouth, the darkest row of the lower
part of the gap (the occlusal line between upper and lower teeth, the cavity of an open mouth, or
the lower lip under a row of upper teeth), then one smooth curve through those rows, so the upper
teeth stay whole with the skull and the cut never runs between two teeth (which left dark
saw-tooth wedges when the split was a fixed share of the gap).

What the jaw uncovers (``paint_gap``) is painted in the portrait's own colours: the cavity in the
shade of its own open mouth (or its lips in deep shade), darkest under the upper teeth and at the
corners; the lower teeth at the bottom, moving with the jaw, drawn from the portrait's own upper
teeth turned over (or a soft tooth row where it shows none) unless the portrait already shows
lower teeth, which the jaw carries down itself; the upper teeth under the lip of a portrait that
shows none; the tongue low in a wide-open mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

COLUMNS, ROWS = 41, 32  # samples across the mouth and down the gap when reading the portrait
TEETH_PATCH = (16, 64)  # rows (gum to tip) and columns of a tooth-row texture
TEETH_SPAN = 0.36  # teeth show across this share of the mouth width either side of its centre
MIN_GAP_PX = 3.0  # a gap narrower than this shows nothing to read
LOWER_TEETH_FROM = 0.4  # lower teeth show past this opening (of the engine's widest)


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


@dataclass(frozen=True)
class Frame:
    """Face coordinates: ``s`` to the subject's left across the mouth (the image's right), ``v``
    down the face, both in pixels from the mouth centre."""

    centre: np.ndarray
    right: np.ndarray
    down: np.ndarray

    def coords(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = np.asarray(points, np.float64) - self.centre
        return rel @ self.right, rel @ self.down

    def points(self, s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image x and y of face coordinates (arrays of one shape)."""
        x = self.centre[0] + s * self.right[0] + v * self.down[0]
        y = self.centre[1] + s * self.right[1] + v * self.down[1]
        return x.astype(np.float32), y.astype(np.float32)


def curve(points: np.ndarray, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """A lip contour as v over increasing s."""
    s, v = frame.coords(points)
    order = np.argsort(s)
    return s[order], v[order]


@dataclass(frozen=True)
class MouthReading:
    """What the portrait shows between its lips (see the module's docstring)."""

    split_s: np.ndarray  # the split line, v over increasing s, in face coordinates
    split_v: np.ndarray
    opening: float  # how far the portrait's mouth is caught open (its dark gap / its width)
    shows_teeth: bool
    shows_lower_teeth: bool
    teeth: np.ndarray  # a row of upper teeth, gum at the top: float32 RGB, TEETH_PATCH
    cavity_rgb: np.ndarray  # the shade inside the mouth, float32 RGB


def read_mouth(
    image: np.ndarray,
    upper_inner: np.ndarray,
    lower_inner: np.ndarray,
    frame: Frame,
    mouth_width: float,
    lip_rgb: np.ndarray,
    teeth_rgb: np.ndarray,
) -> MouthReading:
    """Read the portrait's mouth (``image`` RGB uint8, inner lip contours in pixels)."""
    us, uv = curve(upper_inner, frame)
    ls, lv = curve(lower_inner, frame)
    lo, hi = max(us[0], ls[0]), min(us[-1], ls[-1])
    s = np.linspace(lo + 0.04 * (hi - lo), hi - 0.04 * (hi - lo), COLUMNS)
    top, bottom = np.interp(s, us, uv), np.interp(s, ls, lv)
    gap = np.clip(bottom - top, 0.0, None)
    shows_teeth = bool(gap.max() > 0.06 * mouth_width)
    midline = top + 0.5 * gap
    plain = MouthReading(
        s,
        midline,
        0.0,
        False,
        False,
        soft_teeth(teeth_rgb),
        (lip_rgb * 0.26).astype(np.float32),
    )
    if not shows_teeth:
        return plain
    # The gap sampled on a grid: ROWS from the upper lip (0) to the lower (1), per column.
    t = np.linspace(0.0, 1.0, ROWS)[:, None]
    grid_s = np.broadcast_to(s, (ROWS, COLUMNS))
    grid_v = top + t * gap
    rgb = sample(image, *frame.points(grid_s, grid_v))
    light = cv2.GaussianBlur(luminance(rgb), (3, 3), 0)
    readable = gap >= MIN_GAP_PX
    low = int(0.3 * (ROWS - 1))
    darkest = low + np.argmin(light[low:], axis=0)
    split = top + darkest / (ROWS - 1) * gap
    # One smooth curve through the darkest rows (a parabola across the mouth, weighted by how
    # much of the gap each column shows), never above a fifth of the gap nor below the lower lip.
    weights = np.where(readable, gap, 0.0)
    if weights.sum() > 0 and readable.sum() >= 3:
        fitted = np.polyval(np.polyfit(s, split, 2, w=np.sqrt(weights)), s)
    else:
        fitted = midline
    # Never above the tips of the upper teeth (a canine reaching below the curve would be torn
    # off and dragged down as a white streak): per column, the lowest bright row above the
    # darkest, widened to its neighbours; clipped into every column's gap, unreadable ones too.
    bright = light > 0.5 * (np.percentile(light, 90) + light.min())
    rows_down = np.arange(ROWS)[:, None]
    tips = np.where(bright & (rows_down < darkest), rows_down, -1).max(axis=0)
    tips = np.maximum.reduce([tips, np.roll(tips, 1), np.roll(tips, -1)])
    tip_v = np.where(readable & (tips >= 0), top + (tips + 1.5) / (ROWS - 1) * gap, -np.inf)
    split_v = np.clip(np.maximum(fitted, tip_v), top + 0.2 * gap, bottom)
    split_v = np.convolve(np.pad(split_v, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    rows = np.clip(np.round((split_v - top) / np.maximum(gap, 1e-6) * (ROWS - 1)), 0, ROWS - 1)
    above = (np.arange(ROWS)[:, None] < rows) & readable
    below = (np.arange(ROWS)[:, None] > rows + 1) & readable
    teeth_light = float(light[above].mean()) if above.any() else 0.0
    below_light = float(light[below].mean()) if below.any() else 0.0
    # Bright below the split as well: the portrait shows lower teeth, which the jaw carries.
    shows_lower = bool(below.sum() > 6 and below_light > 0.8 * teeth_light and teeth_light > 90)
    # The cavity's shade: the portrait's own where the split runs through a dark open mouth.
    at_split = rgb[np.clip(rows.astype(int), 0, ROWS - 1), np.arange(COLUMNS)][readable]
    dark = at_split[luminance(at_split) < 70]
    caught_open = len(dark) >= 3
    cavity = np.median(dark, axis=0) if caught_open else lip_rgb * 0.26
    opening = float(gap.max() / max(mouth_width, 1.0)) if caught_open else 0.0
    teeth = upper_teeth(image, frame, us, uv, s, split_v, mouth_width)
    return MouthReading(
        s,
        split_v,
        opening,
        True,
        shows_lower,
        teeth if teeth is not None else soft_teeth(teeth_rgb),
        np.asarray(cavity, np.float32),
    )


def sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at float pixel positions, as float32."""
    return cv2.remap(image, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(
        np.float32
    )


def upper_teeth(image, frame, us, uv, s, split_v, mouth_width) -> np.ndarray | None:
    """The portrait's upper teeth as a patch, gum (top) to tips (bottom), over the middle of the
    mouth; None where they are too thin to read."""
    rows, cols = TEETH_PATCH
    span = np.linspace(-TEETH_SPAN * mouth_width, TEETH_SPAN * mouth_width, cols)
    top = np.interp(span, us, uv)
    bottom = np.interp(span, s, split_v)
    if np.median(bottom - top) < MIN_GAP_PX:
        return None
    t = np.linspace(0.08, 0.92, rows)[:, None]  # clear of the lip's edge and of the cut
    grid_v = top + t * (bottom - top)
    return sample(image, *frame.points(np.broadcast_to(span, (rows, cols)), grid_v))


def soft_teeth(teeth_rgb: np.ndarray) -> np.ndarray:
    """A tooth row for a portrait that shows none: the teeth colour, a little darker at the gum
    and between teeth (soft, low contrast: hard dark gaps read as a jack-o'-lantern)."""
    rows, cols = TEETH_PATCH
    across = np.linspace(-1.0, 1.0, cols)
    # Incisors in the middle, narrowing towards the corners.
    phase = np.sign(across) * np.abs(across) ** 0.8 * 4.0
    between = 0.5 + 0.5 * np.cos(2 * np.pi * phase)
    row = 1.0 - 0.07 * between**4
    down = np.linspace(0.0, 1.0, rows)[:, None]
    shade = (0.86 + 0.14 * smoothstep(down / 0.4)) * row[None, :]
    return (teeth_rgb[None, None, :] * shade[..., None]).astype(np.float32)


def paint_gap(
    patch: np.ndarray,
    reading: MouthReading,
    s: np.ndarray,
    below: np.ndarray,
    reach: np.ndarray,
    *,
    mouth_width: float,
    openness: float,
    lip_rgb: np.ndarray,
) -> None:
    """Paint, in place, what the parted jaw uncovers in ``patch`` (RGB uint8, the warped mouth
    region). Per pixel: ``s`` across the mouth, ``below`` its distance below the split (negative
    above it) and ``reach`` how far the jaw moved there; the gap is where the jaw moved further
    than the pixel lies below the split, between the upper jaw's edge and the lower's."""
    inside = (reach - below > 0.0) & (below > -0.5) & (reach > 0.25)
    if not inside.any():
        return
    rows, cols = np.nonzero(inside)
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    s, below, reach = s[y0:y1, x0:x1], below[y0:y1, x0:x1], reach[y0:y1, x0:x1]
    # Soft at the upper jaw's edge and the lower's, and nothing where the jaw did not move.
    alpha = (
        np.clip(reach - below, 0.0, 1.0)
        * np.clip(below + 0.5, 0.0, 1.0)
        * np.clip(reach - 0.25, 0.0, 1.0)
    )
    deepest = float(reach.max())
    t = np.clip(below / np.maximum(reach, 1e-3), 0.0, 1.0)  # 0 at the upper jaw, 1 at the lower
    half = 0.5 * mouth_width
    across = np.clip(np.abs(s) / half, 0.0, 1.0)
    # The cavity: its own shade, deepest under the upper teeth and at the corners, a little
    # light reaching the floor of the mouth; the tongue low in the middle of a wide opening.
    shade = (0.75 + 0.45 * t) * (1.0 - 0.5 * across**2)
    colour = reading.cavity_rgb * shade[..., None]
    tongue = smoothstep((t - 0.5) / 0.5) * (1.0 - across**2) * openness
    tongue_rgb = lip_rgb * 0.5 * (0.75 + 0.25 * (1.0 - across[..., None]))
    colour = colour * (1 - tongue[..., None]) + tongue_rgb * tongue[..., None]
    teeth_across = np.clip(s / (TEETH_SPAN * mouth_width), -1.0, 1.0)
    fade = smoothstep((1.0 - np.abs(s) / (TEETH_SPAN * mouth_width)) / 0.3)
    if not reading.shows_teeth:
        # Upper teeth under the upper lip, still with the skull.
        tall = min(0.32 * deepest, 0.09 * mouth_width)
        row = below / max(tall, 0.5)
        teeth = _patch_at(reading.teeth, row, teeth_across)
        lit = (0.72 + 0.28 * smoothstep(row / 0.5)) * (1.0 - 0.4 * across**2)
        strength = 0.9 * smoothstep((1.0 - row) / 0.25) * fade * min(1.0, 2.0 * openness + 0.2)
        colour = _over(colour, teeth * lit[..., None], strength)
    if not reading.shows_lower_teeth and openness > LOWER_TEETH_FROM:
        # The tips of the lower teeth just above the lower lip, moving with the jaw, mostly
        # hidden by it and in the shade of the upper lip.
        tall = min(0.28 * deepest, 0.055 * mouth_width)
        rise = (reach - below) / max(tall, 0.5)  # 0 at the lip, 1 at the tips
        teeth = _patch_at(reading.teeth, 0.55 + 0.45 * rise, teeth_across)
        strength = (
            0.85
            * smoothstep((1.0 - rise) / 0.35)
            * fade
            * smoothstep((openness - LOWER_TEETH_FROM) / 0.3)
            * smoothstep((deepest - 4.0) / 6.0)  # a narrow gap has no room to show them
        )
        colour = _over(colour, teeth * (0.85 - 0.25 * across[..., None] ** 2), strength)
    a = alpha[..., None]
    region = patch[y0:y1, x0:x1].astype(np.float32)
    patch[y0:y1, x0:x1] = np.clip(region * (1 - a) + colour * a, 0, 255).astype(np.uint8)


def _patch_at(patch: np.ndarray, row: np.ndarray, across: np.ndarray) -> np.ndarray:
    """``patch`` sampled at fractional ``row`` (0 top .. 1 bottom) and ``across`` (-1 .. 1)."""
    rows, cols = patch.shape[:2]
    y = (np.clip(row, 0.0, 1.0) * (rows - 1)).astype(np.float32)
    x = ((across + 1.0) * 0.5 * (cols - 1)).astype(np.float32)
    return cv2.remap(patch, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _over(colour: np.ndarray, layer: np.ndarray, strength: np.ndarray) -> np.ndarray:
    a = np.clip(strength, 0.0, 1.0)[..., None]
    return colour * (1 - a) + layer * a
