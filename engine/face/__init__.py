"""Face stage: portrait checks, landmarks, and engines that turn portrait + audio into frames.

Engines are plugins chosen by name (``get_face_engine("warp")``), each a ``FaceEngine``:

- ``warp`` (default, CPU): landmark-driven warp of mouth, jaw and lids (``warp.py``).
- ``neural`` (GPU): MuseTalk-style lip sync from local weights in ``weights_dir`` (the site's
  setting ``FACE_NEURAL_WEIGHTS_DIR``; ``neural.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.face.base import FaceEngine
from engine.face.landmarks import PortraitReport, inspect_portrait


@dataclass(frozen=True)
class _Registration:
    factory: Callable[..., FaceEngine]
    options: frozenset[str]  # keyword options of the factory (the engine's settings)


_REGISTRY: dict[str, _Registration] = {}


def register_face_engine(
    name: str, factory: Callable[..., FaceEngine], *, options: Iterable[str] = ()
) -> None:
    """Register ``factory`` as ``name``; ``options``: the keyword options it takes."""
    _REGISTRY[name] = _Registration(factory, frozenset(options))


def face_engine_names() -> list[str]:
    return sorted(_REGISTRY)


def face_engine_options(name: str) -> frozenset[str]:
    """The keyword options the engine ``name`` takes (e.g. "weights_dir")."""
    return _registration(name).options


def get_face_engine(name: str, **options: str) -> FaceEngine:
    """The face engine registered as ``name``, built with those of ``options`` it takes (a site
    sets every engine's options and uses one); ValueError lists the known names."""
    registration = _registration(name)
    known = set().union(*(r.options for r in _REGISTRY.values()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"No face engine takes the option {', '.join(unknown)}.")
    return registration.factory(
        **{key: value for key, value in options.items() if key in registration.options}
    )


def _registration(name: str) -> _Registration:
    if name not in _REGISTRY:
        known = ", ".join(face_engine_names())
        raise ValueError(f"Unknown face engine '{name}'; choose one of: {known}.")
    return _REGISTRY[name]


def _warp() -> FaceEngine:
    from engine.face.warp import WarpFaceEngine

    return WarpFaceEngine()


def _neural(*, weights_dir: str = "") -> FaceEngine:
    from engine.face.neural import NeuralFaceEngine

    return NeuralFaceEngine(weights_dir)


register_face_engine("warp", _warp)
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
