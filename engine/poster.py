"""A render's poster: one frame of the finished video, as a JPEG beside it. It is the player's
poster, the share page's preview image (emails, chat apps) and the picture in lists of renders.
It shows what viewers see, visible label included: the frame as it went to the encoder
(``PosterFrame``), or, when that frame was copied from the cache as part of an encoded chunk,
decoded from the finished file."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from engine.probe import read_frame

INTO_SPEECH_SECONDS = 0.4  # the presenter mid-word, not at rest before the first word
JPEG_QUALITY = 85


def poster_path(video_path: str | Path) -> Path:
    """Where a render's poster lies: beside the video, same name."""
    return Path(video_path).with_suffix(".jpg")


def poster_seconds(video_seconds: float, speech_starts: float, card_seconds: float = 0.0) -> float:
    """When to take the poster: just into the speech, after any opening disclosure card."""
    wanted = max(speech_starts, card_seconds) + INTO_SPEECH_SECONDS
    return max(0.0, min(wanted, video_seconds - 0.1))


def poster_frame_index(seconds: float, fps: int) -> int:
    """The frame ``read_frame`` decodes at ``seconds`` (to the millisecond): the first that
    starts there or later."""
    return max(0, math.ceil(round(seconds, 3) * fps - 1e-6))


class PosterFrame:
    """The poster's frame kept as it passes on its way to the encoder (labelled and marked), so
    no decode of the finished file is needed: a campaign's every variant spared one."""

    def __init__(self, seconds: float, fps: int):
        self.seconds, self.index = seconds, poster_frame_index(seconds, fps)
        self.frame: np.ndarray | None = None

    def offer(self, index: int, frame: np.ndarray) -> None:
        """Frame ``index`` of the video, final: kept if it is the poster's."""
        if index == self.index:
            self.frame = frame.copy()

    def passing(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``frames`` (the whole video's, in order) as they are, the poster's kept."""
        for index, frame in enumerate(frames):
            self.offer(index, frame)
            yield frame

    def write(self, video_path: str | Path, width: int, height: int) -> Path | None:
        """The poster beside the video: the kept frame, else decoded from the file."""
        if self.frame is not None:
            return save_poster(self.frame, video_path)
        return write_poster(video_path, self.seconds, width, height)


def write_poster(video_path: str | Path, seconds: float, width: int, height: int) -> Path | None:
    """Decode the frame shown at ``seconds`` and save it as the poster; None if none decodes."""
    frame = read_frame(Path(video_path), seconds, width, height)
    if frame is None:
        return None
    return save_poster(frame, video_path)


def save_poster(frame: np.ndarray, video_path: str | Path) -> Path:
    path = poster_path(video_path)
    Image.fromarray(frame).save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return path
