"""Face stage: portrait checks, landmarks, and engines that turn portrait + audio into frames.

Engines are plugins chosen by name (``get_face_engine("warp")``), each a ``FaceEngine``:

- ``warp`` (default, CPU): landmark-driven warp of mouth, jaw and lids (``warp.py``).
- ``footage`` (CPU): the subject's own footage with mouths chosen from it by the sounds spoken
  (unit selection, ``rewrite.py``); the footage in ``footage_path``, its analysis kept in
  ``analysis_dir``.
- ``neural`` (GPU): MuseTalk-style lip sync from local weights in ``weights_dir`` (the site's
  setting ``FACE_NEURAL_WEIGHTS_DIR``; ``neural.py``).
"""

from __future__ import annotations

from engine.face.base import FaceEngine
from engine.face.landmarks import PortraitReport, inspect_portrait
from engine.plugins import Plugins

_ENGINES: Plugins[FaceEngine] = Plugins("face")
register_face_engine = _ENGINES.register
face_engine_names = _ENGINES.names
face_engine_options = _ENGINES.options
get_face_engine = _ENGINES.get


def _warp() -> FaceEngine:
    from engine.face.warp import WarpFaceEngine

    return WarpFaceEngine()


def _neural(*, weights_dir: str = "") -> FaceEngine:
    from engine.face.neural import NeuralFaceEngine

    return NeuralFaceEngine(weights_dir)


def _footage(*, footage_path: str = "", analysis_dir: str = "") -> FaceEngine:
    from engine.face.rewrite import FootageFaceEngine

    return FootageFaceEngine(footage_path, analysis_dir)


register_face_engine("warp", _warp)
register_face_engine("footage", _footage, options=("footage_path", "analysis_dir"))
register_face_engine("neural", _neural, options=("weights_dir",))

__all__ = [
    "FaceEngine",
    "PortraitReport",
    "face_engine_names",
    "face_engine_options",
    "get_face_engine",
    "inspect_portrait",
    "register_face_engine",
]
