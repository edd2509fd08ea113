"""Face identity: 128-d dlib ResNet embeddings; Euclidean distance, 0.6 separates people.

Measured here: the same person about 0.2-0.4, another person about 0.8. Detection uses dlib's HOG
detector with a score threshold (it gives weak false positives) and the 5-point aligner; both models
ship inside pip packages (`dlib-bin`, `face_recognition_models`, public domain).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import NoFaceFound

MATCH_DISTANCE = 0.6
MIN_DETECTION_SCORE = 0.3  # HOG scores below this were false positives on textures

_lock = threading.Lock()
_models: dict[str, object] = {}


def _load():
    with _lock:
        if not _models:
            import dlib

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # face_recognition_models imports pkg_resources
                import face_recognition_models as files

            _models["detector"] = dlib.get_frontal_face_detector()
            _models["aligner"] = dlib.shape_predictor(
                files.pose_predictor_five_point_model_location()
            )
            _models["encoder"] = dlib.face_recognition_model_v1(
                files.face_recognition_model_location()
            )
        return _models["detector"], _models["aligner"], _models["encoder"]


@dataclass
class FaceEmbedding:
    vector: np.ndarray  # (128,) float64
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    score: float  # detector confidence


def face_embeddings(rgb: np.ndarray, upsample: int = 1) -> list[FaceEmbedding]:
    """Every face in an RGB uint8 image, largest first."""
    detector, aligner, encoder = _load()
    image = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    with _lock:  # dlib's models are not documented as thread-safe
        boxes, scores, _ = detector.run(image, upsample, 0.0)
        found = []
        for box, score in zip(boxes, scores, strict=True):
            if score < MIN_DETECTION_SCORE:
                continue
            shape = aligner(image, box)
            vector = np.array(encoder.compute_face_descriptor(image, shape, 1))
            found.append(
                FaceEmbedding(
                    vector, (box.left(), box.top(), box.right(), box.bottom()), float(score)
                )
            )
    return sorted(found, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def face_embedding(rgb: np.ndarray) -> FaceEmbedding:
    """The largest face; NoFaceFound if there is none."""
    faces = face_embeddings(rgb)
    if not faces:
        raise NoFaceFound()
    return faces[0]


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def image_or_video_embedding(path: str | Path, max_frames: int = 12) -> np.ndarray:
    """Mean embedding of the largest face in an image, or in frames spread over a video."""
    from engine.face.landmarks import load_rgb

    path = Path(path)
    if path.suffix.lower() in {".mp4", ".mov", ".webm", ".mkv", ".avi", ".y4m"}:
        vectors = [
            faces[0].vector
            for frame in sample_video_frames(path, max_frames)
            if (faces := face_embeddings(frame))
        ]
        if not vectors:
            raise NoFaceFound(f"No face was found in any frame of {path.name}.")
        return np.mean(vectors, axis=0)
    return face_embedding(load_rgb(path)).vector


def sample_video_frames(path: str | Path, count: int) -> list[np.ndarray]:
    """`count` RGB frames spread evenly over a video, decoded with OpenCV."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
        frames = []
        if total > 0:
            for index in np.linspace(0, total - 1, min(count, total)).astype(int):
                capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
                ok, bgr = capture.read()
                if ok:
                    frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        else:  # streams without a frame count (webm from MediaRecorder): read and subsample
            everything = []
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                everything.append(bgr)
            for index in np.linspace(0, len(everything) - 1, min(count, len(everything))).astype(
                int
            ):
                frames.append(cv2.cvtColor(everything[int(index)], cv2.COLOR_BGR2RGB))
        return frames
    finally:
        capture.release()
