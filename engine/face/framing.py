"""Place the portrait in the output frame: head and shoulders, face centred, aspect kept."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.face.topology import FACE_OVAL

FACE_HEIGHT_FRACTION = 0.46  # face (forehead to chin) as a share of the output height
FACE_CENTRE_Y = 0.44  # where the face centre sits, as a share of the output height
MAX_OUTPUT_HEIGHT, MAX_OUTPUT_WIDTH = 1080, 1920  # "the portrait's resolution, up to 1080p"


def portrait_output_size(portrait_width: int, portrait_height: int) -> tuple[int, int]:
    """The portrait's own resolution, scaled down to fit 1080p, in even numbers (H.264 4:2:0)."""
    scale = min(1.0, MAX_OUTPUT_HEIGHT / portrait_height, MAX_OUTPUT_WIDTH / portrait_width)
    width = max(64, int(portrait_width * scale) // 2 * 2)
    height = max(64, int(portrait_height * scale) // 2 * 2)
    return width, height


@dataclass
class Framing:
    """An affine map from portrait pixels to output pixels."""

    matrix: np.ndarray  # 2x3, float64
    width: int
    height: int

    def apply(self, portrait: np.ndarray) -> np.ndarray:
        """The portrait cropped and scaled to the output size (edges repeat where it runs out)."""
        return cv2.warpAffine(
            portrait,
            self.matrix,
            (self.width, self.height),
            flags=cv2.INTER_AREA if self.matrix[0, 0] < 1 else cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def map_points(self, points: np.ndarray | list) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64)
        return pts @ self.matrix[:, :2].T + self.matrix[:, 2]


def frame_portrait(
    landmarks: np.ndarray | list, portrait_width: int, portrait_height: int, width: int, height: int
) -> Framing:
    """Scale so the face fills a head-and-shoulders shot; crop inside the photo where it can.

    Asked for the portrait's own resolution (``portrait_output_size``), the whole photo is shown
    as it is, never cropped or enlarged.
    """
    if (width, height) == portrait_output_size(portrait_width, portrait_height):
        scale = min(width / portrait_width, height / portrait_height)
        matrix = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
        return Framing(matrix=matrix, width=width, height=height)
    pts = np.asarray(landmarks, dtype=np.float64)
    oval = pts[FACE_OVAL] if len(pts) > max(FACE_OVAL) else pts
    left, top = oval.min(axis=0)
    right, bottom = oval.max(axis=0)
    face_height = max(bottom - top, 1.0)
    scale = FACE_HEIGHT_FRACTION * height / face_height
    # Zoom in enough that the crop stays inside the photo (no repeated edges) when possible.
    scale = max(scale, width / portrait_width, height / portrait_height)
    scale = min(scale, 4.0 * FACE_HEIGHT_FRACTION * height / face_height)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    tx = width / 2 - scale * cx
    ty = FACE_CENTRE_Y * height - scale * cy
    # Slide the crop back inside the photo where the photo is large enough.
    crop_w, crop_h = width / scale, height / scale
    x0, y0 = -tx / scale, -ty / scale
    if crop_w <= portrait_width:
        x0 = min(max(x0, 0.0), portrait_width - crop_w)
    if crop_h <= portrait_height:
        y0 = min(max(y0, 0.0), portrait_height - crop_h)
    matrix = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    return Framing(matrix=matrix, width=width, height=height)
