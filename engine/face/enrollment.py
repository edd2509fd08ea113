"""Enrollment measures of a portrait: head pose, sharpness and lighting of the face.

Each measure is a plain function over an RGB image and its 478 mediapipe landmarks, so the
thresholds in ``landmarks.inspect_portrait`` can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

import engine.face.topology as T

# A neutral, frontal face puts the nose tip (mediapipe point 1) this far from the eye line
# towards the mouth line (measured: 0.75 on a frontal NASA portrait, 0.63 on the drawn presenter).
NEUTRAL_NOSE_DROP = 0.70
# How far the nose tip stands in front of the eyes, relative to the eye-corner distance (yaw)
# and to the eye-to-mouth distance (pitch): a simple rigid-head model.
NOSE_DEPTH_PER_EYE_SPAN = 0.45
NOSE_DEPTH_PER_EYE_MOUTH = 0.70
SHARPNESS_WIDTH = 128  # the face is resampled to this width before the blur measure


@dataclass
class FaceMeasures:
    yaw_degrees: float  # + turned towards image right
    pitch_degrees: float  # + chin down
    sharpness: float  # variance of the Laplacian of the face at 128 px wide (grey levels²)
    brightness: float  # mean luma of the face, 0..255
    clipped: float  # share of face pixels at or above 250 (blown highlights)
    side_balance: float  # darker cheek side / brighter cheek side, 0..1


def head_pose(landmarks: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees from the nose tip's place between the eyes and the mouth."""
    pts = np.asarray(landmarks, dtype=np.float64)
    outer_left, outer_right = pts[33], pts[263]
    span = float(np.hypot(*(outer_right - outer_left)))
    if span < 1e-6:
        return 0.0, 0.0
    across = (outer_right - outer_left) / span
    down = np.array([-across[1], across[0]])
    eyes = (outer_left + outer_right) / 2
    mouth = (pts[T.MOUTH_LEFT] + pts[T.MOUTH_RIGHT]) / 2
    nose = pts[T.NOSE_TIP]
    eye_mouth = max(float((mouth - eyes) @ down), 1e-6)
    sideways = float((nose - eyes) @ across) / span
    drop = float((nose - eyes) @ down) / eye_mouth
    yaw = np.degrees(np.arctan(sideways / NOSE_DEPTH_PER_EYE_SPAN))
    pitch = np.degrees(np.arctan((drop - NEUTRAL_NOSE_DROP) / NOSE_DEPTH_PER_EYE_MOUTH))
    return float(yaw), float(pitch)


def _face_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[T.FACE_OVAL]).astype(np.int32)], 1)
    return mask.astype(bool)


def measure_face(rgb: np.ndarray, landmarks: np.ndarray) -> FaceMeasures:
    """Pose, sharpness and lighting of the face outlined by ``landmarks`` in ``rgb``."""
    pts = np.asarray(landmarks, dtype=np.float64)
    yaw, pitch = head_pose(pts)
    height, width = rgb.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    mask = _face_mask((height, width), pts)
    if not mask.any():
        return FaceMeasures(yaw, pitch, 0.0, 0.0, 0.0, 1.0)
    face = grey[mask].astype(np.float64)
    brightness = float(face.mean())
    clipped = float((face >= 250).mean())
    # Cheeks: the face left and right of the nose, between the eyes and the mouth.
    ys, xs = np.nonzero(mask)
    nose_x = pts[T.NOSE_TIP][0]
    band = (ys > pts[[33, 263], 1].mean()) & (ys < pts[[T.MOUTH_LEFT, T.MOUTH_RIGHT], 1].mean())
    left = grey[ys[band & (xs < nose_x)], xs[band & (xs < nose_x)]]
    right = grey[ys[band & (xs > nose_x)], xs[band & (xs > nose_x)]]
    balance = 1.0
    if len(left) and len(right):
        lo, hi = sorted([float(left.mean()), float(right.mean())])
        balance = lo / max(hi, 1.0)
    # Blur: the inner face (eyes, nose, mouth), resampled to a fixed width.
    inner = pts[T.LEFT_EYE_UPPER + T.RIGHT_EYE_UPPER + T.LIPS_LOWER_OUTER + T.LEFT_BROW]
    x0, y0 = np.floor(inner.min(axis=0)).astype(int)
    x1, y1 = np.ceil(inner.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    sharpness = 0.0
    if x1 - x0 > 4 and y1 - y0 > 4:
        crop = grey[y0:y1, x0:x1]
        scale = SHARPNESS_WIDTH / (x1 - x0)
        crop = cv2.resize(
            crop,
            None,
            fx=scale,
            fy=scale,
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        )
        sharpness = float(cv2.Laplacian(crop.astype(np.float64), cv2.CV_64F).var())
    return FaceMeasures(
        yaw_degrees=round(yaw, 2),
        pitch_degrees=round(pitch, 2),
        sharpness=round(sharpness, 2),
        brightness=round(brightness, 2),
        clipped=round(clipped, 4),
        side_balance=round(balance, 3),
    )
