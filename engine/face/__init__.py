"""Face stage: portrait checks, landmarks, and engines that turn portrait + audio into frames.

Engines are plugins chosen by name (``get_face_engine("warp")``), each a ``FaceEngine``:

- ``warp`` (default, CPU): landmark-driven warp of mouth, jaw and lids (``warp.py``).
- ``neural`` (GPU): MuseTalk-style lip sync from local weights (``neural.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from engine.face.landmarks import PortraitReport, inspect_portrait


class FaceEngine(Protocol):
    name: str

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
        """RGB uint8 frames (height, width, 3), round(fps x audio seconds) of them."""
        ...


_REGISTRY: dict[str, Callable[[], FaceEngine]] = {}


def register_face_engine(name: str, factory: Callable[[], FaceEngine]) -> None:
    _REGISTRY[name] = factory


def face_engine_names() -> list[str]:
    return sorted(_REGISTRY)


def get_face_engine(name: str) -> FaceEngine:
    """The face engine registered as ``name``; ValueError lists the known names."""
    if name not in _REGISTRY:
        known = ", ".join(face_engine_names())
        raise ValueError(f"Unknown face engine '{name}'; choose one of: {known}.")
    return _REGISTRY[name]()


def _warp() -> FaceEngine:
    from engine.face.warp import WarpFaceEngine

    return WarpFaceEngine()


def _neural() -> FaceEngine:
    from engine.face.neural import NeuralFaceEngine

    return NeuralFaceEngine()


register_face_engine("warp", _warp)
register_face_engine("neural", _neural)

__all__ = [
    "FaceEngine",
    "PortraitReport",
    "face_engine_names",
    "get_face_engine",
    "inspect_portrait",
    "register_face_engine",
]
