"""The visible "AI-generated" badge burned into every frame, and a detector that finds it.

The badge is drawn once per (text, frame size, corner) with PIL and alpha-blended per frame on
its own small region. ``detect_label`` really looks at pixels: normalised cross-correlation of
each frame corner against the badge as it would look over a neutral background.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
DEFAULT_TEXT = "AI-generated"
CORNERS = ("top-right", "top-left", "bottom-right", "bottom-left")
BOX_OPACITY = 0.62
DETECTION_THRESHOLD = 0.6
SEARCH_SLACK = 6  # pixels the badge may be off its place (scaling, rounding) and still be found


@dataclass(frozen=True)
class Badge:
    colour: np.ndarray  # (h, w, 3) float32, badge colour already multiplied by alpha
    alpha: np.ndarray  # (h, w, 1) float32 0..1
    x: int  # top-left corner in the frame
    y: int
    corner: str

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_PATH, size)
    except OSError:  # no DejaVu: PIL's own scalable font keeps the label visible
        return ImageFont.load_default(size)


@lru_cache(maxsize=32)
def make_badge(
    text: str = DEFAULT_TEXT, width: int = 512, height: int = 512, corner: str = "top-right"
) -> Badge:
    """The badge for frames of ``width`` x ``height``, placed in ``corner``."""
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
    text = " ".join(text.split()) or DEFAULT_TEXT
    font_size = max(11, round(min(width, height) * 0.042))
    font = _font(font_size)
    left, top, right, bottom = font.getbbox(text)
    pad_x, pad_y = round(font_size * 0.55), round(font_size * 0.35)
    box_w = min(width - 4, right - left + 2 * pad_x)
    box_h = bottom - top + 2 * pad_y
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    opacity = round(255 * BOX_OPACITY)
    draw.rounded_rectangle([0, 0, box_w - 1, box_h - 1], radius=pad_y, fill=(0, 0, 0, opacity))
    text_layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    ImageDraw.Draw(text_layer).text((pad_x - left, pad_y - top), text, font=font, fill="white")
    image = Image.alpha_composite(image, text_layer)
    rgba = np.asarray(image).astype(np.float32) / 255.0
    alpha = rgba[..., 3:4]
    colour = rgba[..., :3] * alpha * 255.0
    margin = max(4, round(min(width, height) * 0.03))
    x = width - box_w - margin if corner.endswith("right") else margin
    y = margin if corner.startswith("top") else height - box_h - margin
    return Badge(colour=colour, alpha=alpha, x=x, y=y, corner=corner)


def apply_label(frame: np.ndarray, badge: Badge) -> np.ndarray:
    """Blend the badge into ``frame`` (RGB uint8) in place and return it."""
    w, h = badge.size
    region = frame[badge.y : badge.y + h, badge.x : badge.x + w]
    blended = region.astype(np.float32) * (1.0 - badge.alpha) + badge.colour
    region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return frame


@lru_cache(maxsize=32)
def _template(text: str, width: int, height: int, corner: str) -> tuple[np.ndarray, Badge]:
    badge = make_badge(text, width, height, corner)
    over_grey = np.clip(128.0 * (1.0 - badge.alpha) + badge.colour, 0, 255).astype(np.uint8)
    return cv2.cvtColor(over_grey, cv2.COLOR_RGB2GRAY).astype(np.float32), badge


def detect_label(frame: np.ndarray, text: str = DEFAULT_TEXT) -> tuple[bool, float, str | None]:
    """(found, score -1..1, corner) for the visible badge in an RGB frame.

    Score is the best normalised cross-correlation of a corner against the badge template.
    """
    height, width = frame.shape[:2]
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    best_score, best_corner = -1.0, None
    for corner in CORNERS:
        template, badge = _template(text, width, height, corner)
        w, h = badge.size
        x0, y0 = max(0, badge.x - SEARCH_SLACK), max(0, badge.y - SEARCH_SLACK)
        x1 = min(width, badge.x + w + SEARCH_SLACK)
        y1 = min(height, badge.y + h + SEARCH_SLACK)
        window = grey[y0:y1, x0:x1]
        if window.shape[0] < h or window.shape[1] < w:
            continue
        score = float(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED).max())
        if np.isfinite(score) and score > best_score:
            best_score, best_corner = score, corner
    found = best_score >= DETECTION_THRESHOLD
    return found, round(best_score, 4), best_corner if found else None
