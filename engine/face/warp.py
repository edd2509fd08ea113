"""Default face engine "warp": a talking head from one portrait by warping mouth, jaw and lids.

Everything that depends only on the portrait is computed once (``FaceRig``): the framed base
image, the landmarks in output pixels, and displacement weight maps for the lower face and the
eyes. Per frame the lower-face region and, while blinking, the eye regions are remapped with
``cv2.remap``; a dark mouth cavity with a hint of teeth fills the gap between the lips. Pixels
outside those regions move only with the whole head (a small affine sway of the frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.audio import read_wav
from engine.face import topology as T
from engine.face.drive import blink_schedule, frame_count, head_motion, mouth_openness
from engine.face.framing import Framing, frame_portrait
from engine.face.landmarks import load_rgb

CAVITY_RGB = np.array([52, 16, 22], dtype=np.float32)
UPPER_TEETH_RGB = np.array([232, 226, 214], dtype=np.float32)
LOWER_TEETH_RGB = np.array([196, 188, 178], dtype=np.float32)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


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

    def weight_at(self, points: np.ndarray) -> np.ndarray:
        xs = np.clip(np.round(points[:, 0]).astype(int) - self.x0, 0, self.x1 - self.x0 - 1)
        ys = np.clip(np.round(points[:, 1]).astype(int) - self.y0, 0, self.y1 - self.y0 - 1)
        return self.weight[ys, xs]


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
        self.max_drop = min(
            0.32 * self.mouth_width, 0.12 * self.face_height
        )  # jaw travel at full opening, pixels
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

    def _along(self, indices: list[int], origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = self.points[indices] - origin
        s, v = rel @ self.right, rel @ self.down
        order = np.argsort(s)
        return s[order], v[order]

    def _mouth_region(self) -> _Region:
        pts, fh = self.points, self.face_height
        centre = (pts[13] + pts[14]) / 2
        oval = pts[T.FACE_OVAL]
        falloff = 0.25 * fh  # the neck and cheeks stretch over this distance
        lower = oval[(oval - centre) @ self.down > -0.08 * fh]
        box = np.vstack([lower, pts[T.LIPS_UPPER_OUTER]])
        x0, y0 = box.min(axis=0) - falloff - 2
        x1, y1 = box.max(axis=0) + falloff + 2
        region = _Region.around(x0, y0, x1, y1, self.width, self.height)
        s, v = self._face_coords(region, centre)
        # 1. The jaw: inside the lower face oval, fading out over ``falloff`` beyond it.
        inside = np.zeros(region.grid_x.shape, np.uint8)
        angles = np.arctan2((lower - centre) @ self.down, (lower - centre) @ self.right)
        polygon = lower[np.argsort(angles)] - [region.x0, region.y0]
        cv2.fillPoly(inside, [np.round(polygon).astype(np.int32)], 1)
        outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
        jaw = _smoothstep(1.0 - outside / falloff)
        # 2. Nothing above the upper lip's inner edge moves; the lower lip starts just below it.
        line_s, line_v = self._along(T.LIPS_UPPER_INNER, centre)
        below = v - np.interp(s, line_s, line_v)
        lip_gap = max(1.0, 0.035 * self.mouth_width)
        cut = _smoothstep(below / lip_gap)
        # 3. Near the lips the corners stay put; lower down the whole jaw moves.
        half = 0.5 * float(np.ptp(line_s)) * 1.1
        profile = np.sqrt(np.clip(1.0 - (s / half) ** 2, 0.0, 1.0))
        chin_v = float((pts[T.CHIN] - centre) @ self.down)
        depth = _smoothstep(below / max(0.6 * chin_v, 1.0))
        taper = profile + (1.0 - profile) * depth
        region.set_weight(jaw * cut * taper * _edge_fade(jaw.shape, 3), self.down)
        return region

    def _eye_region(self, upper: list[int], lower: list[int], brow: list[int]) -> _Region:
        pts = self.points
        centre = pts[upper + lower].mean(axis=0)
        eye_width = float(np.hypot(*(pts[upper[-1]] - pts[upper[0]])))
        brow_v = float(((pts[brow] - centre) @ self.down).mean())
        box = np.vstack([pts[upper], pts[lower], pts[brow]])
        x0, y0 = box.min(axis=0) - 0.25 * eye_width
        x1, y1 = box.max(axis=0) + 0.25 * eye_width
        region = _Region.around(x0, y0, x1, y1, self.width, self.height)
        s, v = self._face_coords(region, centre)
        us, uv = self._along(upper, centre)
        ls, lv = self._along(lower, centre)
        top, bottom = np.interp(s, us, uv), np.interp(s, ls, lv)
        opening = np.clip(bottom - top, 0.0, None)
        eye_height = max(float(opening.max()), 1.0)
        above = _smoothstep(1.0 - (top - v) / max(0.55 * (top.mean() - brow_v), 2.0))
        weight = np.where(v < top, above, 1.0)
        weight = np.where(v > bottom, _smoothstep(1.0 - (v - bottom) / 1.5), weight)
        beyond = np.clip(np.maximum(us[0] - s, s - us[-1]), 0.0, None)
        weight = weight * _smoothstep(1.0 - beyond / (0.2 * eye_width))
        # The lid travels as far as the eye is open at that point: corners barely move.
        local = opening / eye_height
        weight = weight * np.maximum(local, 0.15 * (beyond == 0)) * _edge_fade(weight.shape, 2)
        region.set_weight(weight, self.down)
        region.eye_height = eye_height  # type: ignore[attr-defined]
        return region

    # -- per frame ------------------------------------------------------------------------------

    def render(self, opening: float, blink: float = 0.0, head=(0.0, 0.0, 0.0)) -> np.ndarray:
        """One RGB frame: mouth ``opening`` 0..1, eyelid ``blink`` 0..1, head (dx, dy, degrees)."""
        frame = self.base.copy()
        drop = float(opening) * self.max_drop
        if drop > 0.05:
            self.mouth.remap(self.base, frame, drop)
            self._paint_cavity(frame, drop)
        if blink > 0.02:
            for eye in self.eyes:
                eye.remap(self.base, frame, blink * eye.eye_height)  # type: ignore[attr-defined]
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

    def _paint_cavity(self, frame: np.ndarray, drop: float) -> None:
        pts = self.points
        upper = pts[T.LIPS_UPPER_INNER]
        lower = pts[T.LIPS_LOWER_INNER].copy()
        # Where the lower lip's inner edge lands: solve q = p + drop * w(q) * down, twice.
        moved = lower.copy()
        for _ in range(2):
            moved = lower + drop * self.mouth.weight_at(moved + self.down)[:, None] * self.down
        gap = (moved - upper) @ self.down
        if gap.max() < 1.0:
            return
        polygon = np.vstack([upper, moved[::-1]])
        x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 3
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width), min(y1, self.height)
        if x1 <= x0 or y1 <= y0:
            return
        shape = (y1 - y0, x1 - x0)
        offset = np.array([x0, y0])
        cavity = np.zeros(shape, np.uint8)
        _fill(cavity, polygon - offset)
        teeth_top = np.zeros(shape, np.uint8)
        tooth = min(0.38 * float(gap.max()), 0.1 * self.mouth_width)
        centre_s = (upper - upper.mean(axis=0)) @ self.right
        span = max(float(np.ptp(centre_s)), 1.0)
        taper = np.sqrt(np.clip(1.0 - (2.0 * centre_s / (span * 0.95)) ** 2, 0.0, 1.0))
        band = upper + (tooth * taper)[:, None] * self.down
        _fill(teeth_top, np.vstack([upper, band[::-1]]) - offset)
        teeth_low = np.zeros(shape, np.uint8)
        if gap.max() > 0.3 * self.max_drop:
            low_band = moved - (0.45 * tooth * taper)[:, None] * self.down
            _fill(teeth_low, np.vstack([low_band, moved[::-1]]) - offset)
        alpha = cv2.GaussianBlur(cavity.astype(np.float32) / 255.0, (3, 3), 0)[..., None]
        top = (teeth_top.astype(np.float32) / 255.0)[..., None] * 0.9
        low = (teeth_low.astype(np.float32) / 255.0)[..., None] * 0.55
        colour = CAVITY_RGB * (1 - top - low) + UPPER_TEETH_RGB * top + LOWER_TEETH_RGB * low
        patch = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (patch * (1 - alpha) + colour * alpha).astype(np.uint8)


def _edge_fade(shape: tuple[int, ...], width: int) -> np.ndarray:
    """1 inside, falling to 0 at the border of a region, so a clipped region never shows a seam."""
    rows = np.clip(np.minimum(np.arange(shape[0]), np.arange(shape[0])[::-1]) / width, 0, 1)
    cols = np.clip(np.minimum(np.arange(shape[1]), np.arange(shape[1])[::-1]) / width, 0, 1)
    return np.outer(rows, cols).astype(np.float32)


def _fill(mask: np.ndarray, polygon: np.ndarray) -> None:
    """Anti-aliased polygon fill at quarter-pixel precision."""
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)


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
    ) -> Iterator[np.ndarray]:
        del words  # phonemes carry the timing this engine uses
        rig = FaceRig(load_rgb(portrait_path), landmarks, size)
        samples, rate = read_wav(audio_wav)
        frames = frame_count(len(samples) / rate, fps)
        opening = mouth_openness(samples, rate, fps, frames, phonemes)
        blinks = blink_schedule(frames, fps)
        motion = head_motion(frames, fps, opening)
        for i in range(frames):
            if progress is not None and i % 5 == 0:
                progress(i / frames)
            yield rig.render(float(opening[i]), float(blinks[i]), tuple(motion[i]))
        if progress is not None:
            progress(1.0)
