"""Default face engine "warp": a talking head from one portrait by warping mouth, jaw and lids.

Everything that depends only on the portrait is computed once (``FaceRig``): the framed base
image, the landmarks in output pixels, and displacement weight maps for the lower face and the
eyes. Per frame the lower-face region and, while blinking, the eye regions are remapped with
``cv2.remap``; the gap the jaw opens shows a mouth (``engine.face.mouth``). Pixels
outside those regions move only with the whole head (a small affine sway of the frame).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import engine.face.topology as T
from engine.audio import read_wav
from engine.face.drive import (
    DEFAULT_MOTION,
    blink_schedule,
    frame_count,
    head_motion,
    lip_spread,
    motion_style,
    mouth_openness,
)
from engine.face.framing import Framing, frame_portrait
from engine.face.landmarks import load_rgb
from engine.face.mouth import Frame, curve, paint_gap, read_mouth, smoothstep

# Teeth the portrait does not show, relative to the light on its skin.
TEETH_RGB = np.array([222, 214, 200], dtype=np.float32)
LASH_PIXELS = 1.3  # the dark line of lashes at a closing lid's edge
LASH_SHADE = 0.5
MAX_SPREAD = 0.08  # lip corners move this share of the half mouth width at full spread/round


@dataclass
class _Region:
    """A rectangle of the frame with precomputed sampling grid and displacement weights."""

    x0: int
    y0: int
    x1: int
    y1: int
    grid_x: np.ndarray  # float32 absolute x of each pixel of the region
    grid_y: np.ndarray
    weight_x: np.ndarray  # displacement per unit of movement, x and y components
    weight_y: np.ndarray
    weight: np.ndarray  # scalar weight 0..1

    @classmethod
    def around(cls, x0: float, y0: float, x1: float, y1: float, width: int, height: int):
        x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
        xs = np.arange(x0, x1, dtype=np.float32)
        ys = np.arange(y0, y1, dtype=np.float32)
        grid_x, grid_y = np.meshgrid(xs, ys)
        empty = np.zeros_like(grid_x)
        return cls(x0, y0, x1, y1, grid_x, grid_y, empty, empty, empty)

    def set_weight(self, weight: np.ndarray, direction: np.ndarray) -> None:
        self.weight = weight.astype(np.float32)
        self.weight_x = (weight * direction[0]).astype(np.float32)
        self.weight_y = (weight * direction[1]).astype(np.float32)

    def remap(self, source: np.ndarray, target: np.ndarray, amount: float) -> None:
        """Write into ``target`` the region of ``source`` moved by ``amount`` pixels x weight."""
        map_x = self.grid_x - amount * self.weight_x
        map_y = self.grid_y - amount * self.weight_y
        target[self.y0 : self.y1, self.x0 : self.x1] = cv2.remap(
            source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )


@dataclass
class _Lid:
    """An eye's upper lid. A blink slides it down over the eye: the eye's own pixels stay in
    place under it and nothing above it moves (brows, hair, the rims of glasses). The lid is
    painted, not pulled down from above, in the colour of the portrait's own lid skin (the
    clean skin between the lash line and the first dark row above it, so a rim of glasses close
    over the eye is never dragged into the eye), shaded towards a dark lash line at its edge."""

    region: _Region
    t: np.ndarray  # per pixel: how far below the open lid's edge, along the face's down
    travel: np.ndarray  # per pixel: how far the edge comes down when the eye shuts
    lid_rgb: np.ndarray

    def close(self, source: np.ndarray, target: np.ndarray, closure: float) -> None:
        """Write into ``target`` the eye of ``source`` with its lid ``closure`` (0..1) shut."""
        r = self.region
        depth = closure * self.travel
        # Coverage 1 above the lid's edge, fading over one pixel below it (no jagged edge).
        cover = np.clip(depth + 1.0 - self.t, 0.0, 1.0) * (self.t >= -0.5) * (depth > 0.05)
        if not cover.any():
            return
        # Lighter at the crease, darker towards the lashes, which are a dark line at the edge.
        towards_edge = np.clip(self.t / np.maximum(depth, 1e-3), 0.0, 1.0)
        shade = 1.0 - 0.12 * towards_edge
        shade = np.where(self.t > depth - LASH_PIXELS, LASH_SHADE, shade)
        lid = self.lid_rgb[np.newaxis, np.newaxis, :] * shade[..., np.newaxis]
        patch = source[r.y0 : r.y1, r.x0 : r.x1].astype(np.float32)
        alpha = cover[..., np.newaxis]
        patch = patch * (1.0 - alpha) + lid * alpha
        target[r.y0 : r.y1, r.x0 : r.x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)


class FaceRig:
    """A portrait prepared for animation at one output size."""

    def __init__(self, portrait: np.ndarray, landmarks: Sequence[Sequence[float]], size):
        width, height = size
        self.width, self.height = width, height
        self.framing: Framing = frame_portrait(
            landmarks, portrait.shape[1], portrait.shape[0], width, height
        )
        self.base = np.ascontiguousarray(self.framing.apply(portrait))
        self.points = self.framing.map_points(landmarks)
        pts = self.points
        self.right = pts[T.MOUTH_RIGHT] - pts[T.MOUTH_LEFT]
        self.mouth_width = float(np.hypot(*self.right))
        self.right = self.right / max(self.mouth_width, 1e-6)
        self.down = np.array([-self.right[1], self.right[0]])
        oval = pts[T.FACE_OVAL]
        self.face_height = float(np.ptp(oval @ self.down))
        self.mouth_centre = (pts[13] + pts[14]) / 2
        self.face = Frame(self.mouth_centre, self.right, self.down)
        self._colours()
        # The jaw moves what lies below the split, which runs where the portrait's own mouth
        # parts: teeth it shows stay whole with the skull (engine.face.mouth).
        self.reading = read_mouth(
            self.base,
            pts[T.LIPS_UPPER_INNER],
            pts[T.LIPS_LOWER_INNER],
            self.face,
            self.mouth_width,
            self.lip_rgb,
            self.teeth_rgb,
        )
        self.shows_teeth = self.reading.shows_teeth
        self.split = np.stack(self.face.points(self.reading.split_s, self.reading.split_v), 1)
        chin_v = float((pts[T.CHIN] - self.mouth_centre) @ self.down)
        lip_v = float(((pts[T.LIPS_LOWER_OUTER] - self.mouth_centre) @ self.down).max())
        self.chin_room = max(chin_v - lip_v, 2.0)  # lower lip to chin, pixels
        # Jaw travel at full opening: the chin stays on the face outline, so the skin between
        # lip and chin takes the opening; keep it a modest share of that room.
        self.max_drop = min(0.24 * self.mouth_width, 0.07 * self.face_height, 0.4 * self.chin_room)
        # A mouth the photo caught open opens less further: its own gap is part of the opening.
        self.max_drop *= float(np.clip(1.0 - (self.reading.opening - 0.1) / 0.3, 0.4, 1.0))
        self.mouth = self._mouth_region()
        self.eyes = [
            self._eye_region(T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER, T.LEFT_BROW),
            self._eye_region(T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER, T.RIGHT_BROW),
        ]
        self.pivot = pts[T.CHIN] + 0.35 * self.face_height * self.down  # the neck

    # -- precomputation -------------------------------------------------------------------------

    def _face_coords(self, region: _Region, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = region.grid_x - origin[0], region.grid_y - origin[1]
        return dx * self.right[0] + dy * self.right[1], dx * self.down[0] + dy * self.down[1]

    def _along(self, points: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return curve(points, Frame(origin, self.right, self.down))

    def _mouth_region(self) -> _Region:
        pts, centre = self.points, self.mouth_centre
        oval = pts[T.FACE_OVAL]
        lips = pts[T.LIPS_UPPER_OUTER + T.LIPS_LOWER_OUTER]
        lower = oval[(oval - centre) @ self.down > -0.05 * self.face_height]
        box = np.vstack([lower, lips])
        x0, y0 = box.min(axis=0) - 2
        x1, y1 = box.max(axis=0) + 2
        region = _Region.around(x0, y0, x1, y1, self.width, self.height)
        s, v = self._face_coords(region, centre)
        # 1. Only inside the face outline, fading to nothing at it: hair, neck and background
        #    beside and below the face never bend with the jaw.
        inside = np.zeros(region.grid_x.shape, np.uint8)
        cv2.fillPoly(inside, [np.round(oval - [region.x0, region.y0]).astype(np.int32)], 1)
        depth_in = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
        outline = smoothstep(depth_in / (0.85 * self.chin_room))
        # 2. Nothing above the split line moves; below it the lower lip follows at once.
        line_s, line_v = self._along(self.split, centre)
        below = v - np.interp(s, line_s, line_v)
        lip_gap = max(1.0, 0.035 * self.mouth_width)
        cut = smoothstep(below / lip_gap)
        # 3. Near the lips the corners stay put; lower down the whole jaw moves.
        half = 0.5 * float(np.ptp(line_s)) * 1.1
        profile = np.sqrt(np.clip(1.0 - (s / half) ** 2, 0.0, 1.0))
        depth = smoothstep(below / max(0.5 * self.chin_room, 1.0))
        taper = profile + (1.0 - profile) * depth
        jaw = cut * taper * outline
        region.set_weight(jaw, self.down)
        # How far below the split each pixel lies: the jaw never shows what lies above it (the
        # upper teeth again, torn into streaks); the gap the jaw opens is painted instead.
        region.below_split = below.astype(np.float32)  # type: ignore[attr-defined]
        region.s = s.astype(np.float32)  # type: ignore[attr-defined]
        # Only between the mouth's corners does the jaw open a gap: beyond them the split line
        # is only extended, and the skin there stretches as before (a gap there drew a dark
        # line across the face).
        inner = 0.5 * float(np.ptp(line_s))
        between = smoothstep((inner - np.abs(s)) / max(0.06 * self.mouth_width, 1.0))
        region.between_corners = between.astype(np.float32)  # type: ignore[attr-defined]
        # Lip shape: the lips and the skin just around them scale sideways about the centre.
        lip_height = max(float(np.ptp(lips @ self.down)), 2.0)
        ellipse = (s / (0.5 * self.mouth_width * 1.45)) ** 2 + (v / (1.4 * lip_height)) ** 2
        lips_w = smoothstep(1.6 * (1.0 - ellipse)) * outline
        region.spread_x = (lips_w * s * self.right[0]).astype(np.float32)  # type: ignore[attr-defined]
        region.spread_y = (lips_w * s * self.right[1]).astype(np.float32)  # type: ignore[attr-defined]
        return region

    def _colours(self) -> None:
        """Lip and skin colours sampled from the portrait, so the inner mouth matches its light."""
        pts = self.points
        mask = np.zeros((self.height, self.width), np.uint8)
        lip_ring = np.vstack([pts[T.LIPS_UPPER_OUTER], pts[T.LIPS_LOWER_OUTER][::-1]])
        cv2.fillPoly(mask, [np.round(lip_ring).astype(np.int32)], 1)
        inner = np.vstack([pts[T.LIPS_UPPER_INNER], pts[T.LIPS_LOWER_INNER][::-1]])
        cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 0)
        lip = self.base[mask.astype(bool)]
        self.lip_rgb = (
            np.median(lip, axis=0).astype(np.float32)
            if len(lip)
            else np.array([170, 90, 90], np.float32)
        )
        cheek = np.round(
            pts[T.NOSE_TIP]
            + 0.6 * self.mouth_width * self.right
            - 0.1 * self.mouth_width * self.down
        ).astype(int)
        x, y = np.clip(cheek, [2, 2], [self.width - 3, self.height - 3])
        skin = self.base[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).astype(np.float32).mean(0)
        self.cheek_rgb = skin
        light = float(np.clip(skin.mean() / 170.0, 0.45, 1.1))
        self.teeth_rgb = np.clip(TEETH_RGB * light, 0, 240).astype(np.float32)

    def _eye_region(self, upper: list[int], lower: list[int], brow: list[int]) -> _Lid:
        pts = self.points
        centre = pts[upper + lower].mean(axis=0)
        eye_width = float(np.hypot(*(pts[upper[-1]] - pts[upper[0]])))
        brow_v = float(((pts[brow] - centre) @ self.down).mean())
        box = np.vstack([pts[upper], pts[lower], pts[brow]])
        x0, y0 = box.min(axis=0) - 0.25 * eye_width
        x1, y1 = box.max(axis=0) + 0.25 * eye_width
        region = _Region.around(x0, y0, x1, y1, self.width, self.height)
        s, v = self._face_coords(region, centre)
        us, uv = self._along(pts[upper], centre)
        ls, lv = self._along(pts[lower], centre)
        top, bottom = np.interp(s, us, uv), np.interp(s, ls, lv)
        opening = np.clip(bottom - top, 0.0, None)
        # The lid travels as far as the eye is open at that point: corners barely move.
        beyond = np.clip(np.maximum(us[0] - s, s - us[-1]), 0.0, None)
        travel = opening * smoothstep(1.0 - beyond / (0.2 * eye_width))
        travel = travel * _edge_fade(travel.shape, 2)
        return _Lid(
            region,
            (v - top).astype(np.float32),
            travel.astype(np.float32),
            self._lid_colour(region, v, top, brow_v, float(opening.max())),
        )

    def _lid_colour(self, region, v, top, brow_v, eye_height) -> np.ndarray:
        """The lid skin's colour: the skin between the lash line and the first dark row above
        it (a brow, the rim of glasses), per column; the cheek's where there is none."""
        patch = self.base[region.y0 : region.y1, region.x0 : region.x1].astype(np.float32)
        weights = np.float32([0.299, 0.587, 0.114])
        lum = patch @ weights
        skin_lum = float(self.cheek_rgb @ weights)
        lashes = 1.5 + 0.15 * eye_height
        dark = (lum < 0.72 * skin_lum) & (v < top - lashes) & (v > brow_v)
        nearest = np.where(dark, v, -np.inf).max(axis=0)[np.newaxis, :]
        band = (v < top - lashes) & (v > nearest + 1.0) & (v > top - lashes - 0.4 * (top - brow_v))
        band &= (lum >= 0.72 * skin_lum) & (lum <= 1.35 * skin_lum)
        if band.sum() < 6:
            return self.cheek_rgb.astype(np.float32)
        return np.median(patch[band], axis=0).astype(np.float32)

    # -- per frame ------------------------------------------------------------------------------

    def render(
        self,
        opening: float,
        blink: float = 0.0,
        head=(0.0, 0.0, 0.0),
        spread: float = 0.0,
        base: np.ndarray | None = None,
    ) -> np.ndarray:
        """One RGB frame: mouth ``opening`` 0..1, eyelid ``blink`` 0..1, head (dx, dy, degrees),
        lip ``spread`` -1 rounded .. +1 spread. ``base``: another framed image to animate (the
        neural engine's frame), else the portrait."""
        source = self.base if base is None else base
        frame = source.copy()
        drop = float(opening) * self.max_drop
        widen = float(np.clip(spread, -1.0, 1.0)) * MAX_SPREAD
        if widen < 0:  # rounding pulls the corners in over the cheeks: keep it gentler
            widen *= 0.6
        if drop > 0.05 or abs(widen) > 1e-3:
            self._warp_mouth(source, frame, drop, widen)
        if blink > 0.02:
            for eye in self.eyes:
                eye.close(source, frame, blink)
        dx, dy, angle = head
        if abs(dx) + abs(dy) + abs(angle) > 1e-3:
            matrix = cv2.getRotationMatrix2D((float(self.pivot[0]), float(self.pivot[1])), angle, 1)
            matrix[:, 2] += (dx, dy)
            frame = cv2.warpAffine(
                frame,
                matrix,
                (self.width, self.height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        return frame

    def _warp_mouth(self, source: np.ndarray, frame: np.ndarray, drop: float, widen: float):
        """The lower face moved by the jaw and the lips spread; the gap the jaw opens, which
        would otherwise show what lies above the split again, painted as a mouth."""
        m = self.mouth
        reach = drop * m.weight
        between = m.between_corners  # type: ignore[attr-defined]
        held = np.maximum(reach - np.clip(m.below_split, 0.0, None), 0.0)  # type: ignore[attr-defined]
        jaw = reach - between * held
        map_x = m.grid_x - jaw * self.down[0] - widen * m.spread_x  # type: ignore[attr-defined]
        map_y = m.grid_y - jaw * self.down[1] - widen * m.spread_y  # type: ignore[attr-defined]
        patch = cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if drop > 0.05:
            paint_gap(
                patch,
                self.reading,
                m.s,  # type: ignore[attr-defined]
                m.below_split,  # type: ignore[attr-defined]
                reach * between,
                mouth_width=self.mouth_width,
                openness=min(drop / max(self.max_drop, 1.0), 1.0),
                lip_rgb=self.lip_rgb,
            )
        frame[m.y0 : m.y1, m.x0 : m.x1] = patch


_rigs: OrderedDict[tuple, FaceRig] = OrderedDict()
_rigs_lock = threading.Lock()
RIG_CACHE_SIZE = 8


def prepared_rig(
    portrait_path: str, landmarks: Sequence[Sequence[float]], size: tuple[int, int]
) -> FaceRig:
    """The rig of a portrait at one size, built once per process and reused by later renders of
    the same avatar (keyed by file, modification time, landmarks and size). Rigs are read-only
    once built, so renders may share one."""
    path = Path(portrait_path)
    stat = path.stat() if path.is_file() else None
    points = np.asarray(landmarks, dtype=np.float64)
    key = (
        str(path.resolve()),
        stat.st_mtime_ns if stat else None,
        stat.st_size if stat else None,
        hashlib.sha256(points.tobytes()).hexdigest(),
        tuple(size),
    )
    with _rigs_lock:
        if key in _rigs:
            _rigs.move_to_end(key)
            return _rigs[key]
    rig = FaceRig(load_rgb(portrait_path), landmarks, size)
    with _rigs_lock:
        _rigs[key] = rig
        while len(_rigs) > RIG_CACHE_SIZE:
            _rigs.popitem(last=False)
    return rig


def _edge_fade(shape: tuple[int, ...], width: int) -> np.ndarray:
    """1 inside, falling to 0 at the border of a region, so a clipped region never shows a seam."""
    rows = np.clip(np.minimum(np.arange(shape[0]), np.arange(shape[0])[::-1]) / width, 0, 1)
    cols = np.clip(np.minimum(np.arange(shape[1]), np.arange(shape[1])[::-1]) / width, 0, 1)
    return np.outer(rows, cols).astype(np.float32)


class WarpFaceEngine:
    """The CPU face engine. ``animate`` yields RGB uint8 frames of ``size`` (width, height)."""

    name = "warp"

    def animate(
        self,
        portrait_path: str,
        landmarks: Sequence[Sequence[float]],
        audio_wav: str,
        fps: int,
        size: tuple[int, int],
        words: Sequence[tuple[str, float, float]] | None = None,
        phonemes: Sequence[tuple[str, float, float]] | None = None,
        progress: Callable[[float], None] | None = None,
        motion: str = DEFAULT_MOTION,
    ) -> Iterator[np.ndarray]:
        del words  # phonemes carry the timing this engine uses
        head, expression = motion_style(motion)
        rig = prepared_rig(portrait_path, landmarks, size)
        samples, rate = read_wav(audio_wav)
        frames = frame_count(len(samples) / rate, fps)
        opening = np.clip(expression * mouth_openness(samples, rate, fps, frames, phonemes), 0, 1)
        spread = np.clip(expression * lip_spread(samples, rate, fps, frames, phonemes), -1, 1)
        blinks = blink_schedule(frames, fps)
        motion = head * head_motion(frames, fps, opening, scale=min(size) / 512)
        for i in range(frames):
            if progress is not None and i % 5 == 0:
                progress(i / frames)
            yield rig.render(
                float(opening[i]), float(blinks[i]), tuple(motion[i]), float(spread[i])
            )
        if progress is not None:
            progress(1.0)
