"""What every face engine is: the ``FaceEngine`` protocol.

The plugins (``warp``, ``neural``) live beside it, and the package that registers them
(``engine.face``) re-exports it, so no plugin imports its own registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np


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
        motion: str = "natural",
    ) -> Iterator[np.ndarray]:
        """RGB uint8 frames (height, width, 3), round(fps x audio seconds) of them; ``motion``:
        a setting of engine.face.drive.MOTION_STYLES (head motion and expression)."""
        ...
