"""Portrait checks and facial landmarks from mediapipe 0.10.21 (models inside the package).

One FaceDetection and one FaceMesh per process, created on first use and guarded by a lock
(mediapipe graphs are not safe to run from two threads at once).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import (
    FaceTiltedUpOrDown,
    FaceTooSmall,
    FaceTurnedAside,
    MultipleFacesFound,
    NoFaceFound,
    NotAnImage,
    PortraitBlurry,
    PortraitTooBright,
    PortraitTooDark,
    PortraitTooSmall,
    PortraitUnevenlyLit,
)
from engine.face.enrollment import measure_face

MIN_FACE_PIXELS = 80  # narrower faces (eyebrow to chin span) blur when framed at 512x512
MIN_PORTRAIT_PIXELS = 256  # the photo's shorter side
MAX_YAW_DEGREES = 30.0
MAX_PITCH_DEGREES = 25.0
# Laplacian variance of the face at 128 px wide: a sharp NASA portrait 114, blurred 1.2 px 9.
MIN_SHARPNESS = 10.0
MIN_BRIGHTNESS, MAX_BRIGHTNESS = 60.0, 225.0  # mean luma of the face
MAX_CLIPPED = 0.2  # share of blown-out face pixels
MIN_SIDE_BALANCE = 0.5  # darker cheek / brighter cheek
DETECTION_CONFIDENCE = 0.6

_lock = threading.Lock()
_models: dict[str, object] = {}


@dataclass
class PortraitReport:
    width: int
    height: int
    face_count: int
    landmarks: list[list[float]]  # 478 [x, y] pixel coordinates in the portrait
    face_box: list[float]  # [left, top, right, bottom] pixels, from the landmarks
    yaw_degrees: float = 0.0  # head turned, + towards image right (estimated from landmarks)
    pitch_degrees: float = 0.0  # head tilted, + chin down
    sharpness: float = 0.0  # blur measure of the face (higher is sharper)
    brightness: float = 0.0  # mean luma of the face, 0..255


def load_rgb(path: str | Path) -> np.ndarray:
    """The image as an RGB uint8 array (EXIF orientation applied). Raises NotAnImage."""
    path = Path(path)
    if not path.is_file():
        raise NotAnImage(f"The portrait file {path.name} does not exist.")
    if path.stat().st_size == 0:
        raise NotAnImage(f"The portrait file {path.name} is empty; upload the photo again.")
    try:
        with Image.open(path) as image:
            from PIL import ImageOps

            image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage(
            f"The file {path.name} is not an image we can read; upload a JPEG or PNG photo."
        ) from error


def _mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import mediapipe as mp

    return mp


def _model(name: str):
    if name not in _models:
        mp = _mediapipe()
        if name == "detector":
            _models[name] = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=DETECTION_CONFIDENCE
            )
        else:
            _models[name] = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=2, refine_landmarks=True
            )
    return _models[name]


def _detect_boxes(rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
    height, width = rgb.shape[:2]
    result = _model("detector").process(rgb)
    boxes = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        left, top = box.xmin * width, box.ymin * height
        boxes.append((left, top, left + box.width * width, top + box.height * height))
    return boxes


def _mesh(rgb: np.ndarray) -> list[np.ndarray]:
    height, width = rgb.shape[:2]
    result = _model("mesh").process(rgb)
    faces = []
    for face in result.multi_face_landmarks or []:
        faces.append(np.array([[p.x * width, p.y * height] for p in face.landmark], np.float64))
    return faces


def _square_crop(rgb: np.ndarray, box, scale: float = 2.2) -> tuple[np.ndarray, float, float]:
    """A square crop around ``box`` (padded with edge pixels) and its top-left corner."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top) * scale
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    side = round(side)
    height, width = rgb.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge") if pad else rgb
    crop = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    return np.ascontiguousarray(crop), float(x0), float(y0)


def find_faces(rgb: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """(number of faces, landmarks of each face found by the mesh) in an RGB image."""
    with _lock:
        boxes = _detect_boxes(rgb)
        if len(boxes) > 1:
            return len(boxes), []
        if len(boxes) == 1:
            # The mesh's own detector is short-range: give it a crop where the face is large.
            crop, x0, y0 = _square_crop(rgb, boxes[0])
            faces = [f + np.array([x0, y0]) for f in _mesh(crop)]
            if len(faces) == 1:
                return 1, faces
        faces = _mesh(rgb)
        return max(len(boxes), len(faces)), faces


def inspect_portrait(path: str | Path) -> PortraitReport:
    """Check that a photo is fit to animate and return the face's landmarks and measures.

    Exactly one face, large enough, frontal (yaw and pitch), sharp and well lit. Raises
    NotAnImage, NoFaceFound, MultipleFacesFound, FaceTooSmall, PortraitTooSmall, FaceTurnedAside,
    FaceTiltedUpOrDown, PortraitTooDark, PortraitTooBright, PortraitUnevenlyLit or PortraitBlurry.
    """
    rgb = load_rgb(path)
    height, width = rgb.shape[:2]
    count, faces = find_faces(rgb)
    if count > 1 or len(faces) > 1:
        raise MultipleFacesFound()
    if not faces:
        raise NoFaceFound()
    landmarks = faces[0]
    left, top = landmarks.min(axis=0)
    right, bottom = landmarks.max(axis=0)
    if min(right - left, bottom - top) < MIN_FACE_PIXELS:
        raise FaceTooSmall(
            f"The face is only {right - left:.0f} pixels wide; upload a photo where it is at least"
            f" {MIN_FACE_PIXELS} pixels wide."
        )
    if min(width, height) < MIN_PORTRAIT_PIXELS:
        raise PortraitTooSmall(
            f"The photo is only {width}x{height} pixels; upload one at least"
            f" {MIN_PORTRAIT_PIXELS} pixels across."
        )
    measures = measure_face(rgb, landmarks)
    _check_measures(measures)
    return PortraitReport(
        width=width,
        height=height,
        face_count=1,
        landmarks=[[round(float(x), 2), round(float(y), 2)] for x, y in landmarks],
        face_box=[round(float(v), 2) for v in (left, top, right, bottom)],
        yaw_degrees=measures.yaw_degrees,
        pitch_degrees=measures.pitch_degrees,
        sharpness=measures.sharpness,
        brightness=measures.brightness,
    )


def _check_measures(m) -> None:
    """Raise the specific error for the first measure out of bounds (lighting before blur: a
    dark photo also measures soft)."""
    if abs(m.yaw_degrees) > MAX_YAW_DEGREES:
        raise FaceTurnedAside(
            f"The face is turned about {abs(m.yaw_degrees):.0f}° to the side; upload a photo where"
            " the person looks straight at the camera."
        )
    if abs(m.pitch_degrees) > MAX_PITCH_DEGREES:
        way = "down" if m.pitch_degrees > 0 else "up"
        raise FaceTiltedUpOrDown(
            f"The head is tilted {way} about {abs(m.pitch_degrees):.0f}°; upload a photo taken at"
            " eye level, looking straight ahead."
        )
    if m.brightness < MIN_BRIGHTNESS:
        raise PortraitTooDark()
    if m.brightness > MAX_BRIGHTNESS or m.clipped > MAX_CLIPPED:
        raise PortraitTooBright()
    if m.side_balance < MIN_SIDE_BALANCE:
        raise PortraitUnevenlyLit()
    if m.sharpness < MIN_SHARPNESS:
        raise PortraitBlurry()
