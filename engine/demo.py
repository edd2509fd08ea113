"""The demo presenter: an illustrated face drawn here (not a photo of anyone), with its landmarks,
and a voice sample spoken by festival's synthetic SLT voice.

The drawing and the landmarks come from the same curves, so the warp moves exactly what is drawn.
Points the warp does not use are placed on the nose tip; the layout is mediapipe's 478 points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from engine.face import topology as T
from engine.voice import get_voice_engine

SIZE = 768
SUPERSAMPLE = 2
VOICE_SAMPLE_TEXT = (
    "Hello, I am the Likeness demo presenter. I am an illustration, not a real person. "
    "Every video made with me is labeled as synthetic."
)

SKIN = (236, 194, 160)
SKIN_SHADE = (214, 166, 132)
HAIR = (74, 48, 36)
LIP = (190, 96, 100)
LIP_DARK = (150, 64, 72)
IRIS = (70, 110, 150)
SHIRT = (46, 120, 128)


@dataclass
class DemoAssets:
    portrait_path: str
    landmarks: list[list[float]]
    voice_sample_path: str


class _Face:
    """Curves of the presenter's face in output pixels."""

    cx, cy = 384.0, 345.0
    half_w, half_h = 132.0, 178.0
    eye_y, eye_dx, eye_w = 330.0, 58.0, 54.0
    mouth_y, mouth_w = 458.0, 88.0

    def oval(self, count: int) -> np.ndarray:
        """Points clockwise from the forehead top, like mediapipe's face oval."""
        theta = -np.pi / 2 + 2 * np.pi * np.arange(count) / count
        x, y = np.cos(theta), np.sin(theta)
        narrowing = 1.0 - 0.22 * np.clip(y, 0, None) ** 2  # a softer, narrower jaw and chin
        return np.stack([self.cx + self.half_w * x * narrowing, self.cy + self.half_h * y], axis=1)

    def lip_curves(self, count: int = 11) -> dict[str, np.ndarray]:
        t = np.linspace(-1.0, 1.0, count)
        x = self.cx + t * self.mouth_w / 2
        bulge = 1.0 - t**2
        bow = 3.0 * np.exp(-((t * 6) ** 2))  # the dip of the cupid's bow
        inner_x = self.cx + t * (self.mouth_w / 2 - 5)
        return {
            "upper_outer": np.stack([x, self.mouth_y - 11.0 * bulge**0.7 + bow], axis=1),
            "lower_outer": np.stack([x, self.mouth_y + 15.0 * bulge**0.8], axis=1),
            "upper_inner": np.stack([inner_x, self.mouth_y - 1.0 * bulge], axis=1),
            "lower_inner": np.stack([inner_x, self.mouth_y + 1.0 * bulge], axis=1),
        }

    def eye(self, side: int, count: int = 9) -> tuple[np.ndarray, np.ndarray]:
        """(upper lid, lower lid) from the outer to the inner corner; side -1 image-left."""
        ex = self.cx + side * self.eye_dx
        t = np.linspace(-1.0, 1.0, count) * -side  # outer corner first
        x = ex + t * self.eye_w / 2
        bulge = 1.0 - t**2
        upper = np.stack([x, self.eye_y - 13.0 * bulge**0.8 - 2.0 * t * side], axis=1)
        lower = np.stack([x, self.eye_y + 8.0 * bulge**0.9], axis=1)
        return upper, lower

    def brow(self, side: int, count: int = 5) -> np.ndarray:
        ex = self.cx + side * self.eye_dx
        t = np.linspace(-1.0, 0.9, count) * -side
        x = ex + t * 34.0
        return np.stack([x, self.eye_y - 38.0 - 8.0 * (1 - t**2) + 3.0 * t * side], axis=1)


def presenter_landmarks() -> np.ndarray:
    """478 landmarks (x, y) of the drawn presenter in a 768x768 image."""
    face = _Face()
    points = np.tile([face.cx, 410.0], (T.LANDMARK_COUNT, 1))  # unused points: the nose tip
    points[T.FACE_OVAL] = face.oval(len(T.FACE_OVAL))
    lips = face.lip_curves()
    points[T.LIPS_UPPER_OUTER] = lips["upper_outer"]
    points[T.LIPS_LOWER_OUTER] = lips["lower_outer"]
    points[T.LIPS_UPPER_INNER] = lips["upper_inner"]
    points[T.LIPS_LOWER_INNER] = lips["lower_inner"]
    for side, upper_ids, lower_ids, brow_ids in (
        (-1, T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER, T.LEFT_BROW),
        (1, T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER, T.RIGHT_BROW),
    ):
        upper, lower = face.eye(side)
        points[upper_ids] = upper
        points[lower_ids] = lower
        points[brow_ids] = face.brow(side)
    points[T.NOSE_TIP] = [face.cx, 410.0]
    return points


def draw_presenter() -> Image.Image:
    """The presenter as a 768x768 RGB image (deterministic)."""
    k = SUPERSAMPLE
    face = _Face()
    size = SIZE * k
    # Soft background: a vertical gradient with a warm glow behind the head.
    ys = np.linspace(0, 1, size)[:, None, None]
    top, bottom = np.array([206, 222, 236]), np.array([236, 226, 214])
    background = top * (1 - ys) + bottom * ys
    yy, xx = np.mgrid[0:size, 0:size] / size
    glow = np.exp(-(((xx - 0.5) ** 2 + (yy - 0.42) ** 2) / 0.08))[..., None]
    background = background * (1 - 0.25 * glow) + np.array([250, 244, 232]) * 0.25 * glow
    image = Image.fromarray(np.broadcast_to(background, (size, size, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)

    def s(points) -> list[tuple[float, float]]:
        return [(float(x) * k, float(y) * k) for x, y in np.asarray(points)]

    def ellipse(cx, cy, rx, ry, fill, outline=None, width=1):
        box = [(cx - rx) * k, (cy - ry) * k, (cx + rx) * k, (cy + ry) * k]
        draw.ellipse(box, fill=fill, outline=outline, width=width * k)

    # Shoulders and shirt, neck, hair behind the head, ears.
    draw.rounded_rectangle([150 * k, 600 * k, 618 * k, 900 * k], radius=150 * k, fill=SHIRT)
    draw.polygon(s([(340, 600), (384, 650), (428, 600)]), fill=SKIN_SHADE)
    draw.rectangle([346 * k, 470 * k, 422 * k, 610 * k], fill=SKIN_SHADE)
    ellipse(face.cx, 300, 158, 170, HAIR)
    draw.rectangle([226 * k, 300 * k, 542 * k, 470 * k], fill=HAIR)
    ellipse(face.cx - face.half_w + 2, 352, 16, 28, SKIN_SHADE)
    ellipse(face.cx + face.half_w - 2, 352, 16, 28, SKIN_SHADE)
    # The face.
    draw.polygon(s(face.oval(240)), fill=SKIN)
    # Fringe over the forehead.
    draw.chord([(face.cx - 150) * k, 150 * k, (face.cx + 150) * k, 330 * k], 180, 360, fill=HAIR)
    draw.polygon(s([(250, 240), (300, 205), (330, 270)]), fill=HAIR)
    # Cheeks.
    for side in (-1, 1):
        ellipse(face.cx + side * 78, 412, 26, 14, (240, 170, 150))
    # Eyes: white, iris, pupil, highlight, lash line; brows.
    for side in (-1, 1):
        upper, lower = face.eye(side, 31)
        draw.polygon(s(np.vstack([upper, lower[::-1]])), fill=(250, 250, 248))
        ex = face.cx + side * face.eye_dx
        ellipse(ex, face.eye_y - 2, 11, 11, IRIS)
        ellipse(ex, face.eye_y - 2, 5, 5, (20, 20, 28))
        ellipse(ex + 3, face.eye_y - 6, 2.5, 2.5, (255, 255, 255))
        draw.line(s(upper), fill=(50, 34, 30), width=4 * k, joint="curve")
        draw.line(s(lower), fill=(150, 110, 96), width=1 * k)
        draw.line(s(face.brow(side, 15)), fill=HAIR, width=7 * k, joint="curve")
    # Nose: a soft bridge and the tip with nostrils.
    draw.line(s([(380, 345), (376, 395)]), fill=SKIN_SHADE, width=3 * k)
    draw.arc([362 * k, 392 * k, 406 * k, 420 * k], 10, 170, fill=(190, 140, 112), width=3 * k)
    ellipse(371, 410, 4, 2.5, (170, 116, 96))
    ellipse(397, 410, 4, 2.5, (170, 116, 96))
    # Lips: upper and lower shapes, the line between them.
    lips = face.lip_curves(41)
    draw.polygon(s(np.vstack([lips["upper_outer"], lips["upper_inner"][::-1]])), fill=LIP_DARK)
    draw.polygon(s(np.vstack([lips["lower_inner"], lips["lower_outer"][::-1]])), fill=LIP)
    draw.line(s(lips["upper_inner"]), fill=(110, 46, 54), width=2 * k)
    image = image.filter(ImageFilter.GaussianBlur(0.6 * k))
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def write_demo_assets(directory: str | Path) -> DemoAssets:
    """Write presenter.png, presenter_landmarks.json and voice_sample.wav into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    portrait = directory / "presenter.png"
    draw_presenter().save(portrait)
    landmarks = [[round(float(x), 2), round(float(y), 2)] for x, y in presenter_landmarks()]
    (directory / "presenter_landmarks.json").write_text(json.dumps(landmarks))
    voice = directory / "voice_sample.wav"
    if not voice.is_file():
        get_voice_engine("festival").speak(VOICE_SAMPLE_TEXT, [], str(voice))
    return DemoAssets(str(portrait), landmarks, str(voice))
