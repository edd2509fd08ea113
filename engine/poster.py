"""A render's poster: one frame of the finished video, as a JPEG beside it. It is the player's
poster, the share page's preview image (emails, chat apps) and the picture in lists of renders,
and it is taken from the encoded file, so it shows what viewers see, visible label included."""

from __future__ import annotations

from pathlib import Path

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


def write_poster(video_path: str | Path, seconds: float, width: int, height: int) -> Path | None:
    """Decode the frame shown at ``seconds`` and save it as the poster; None if none decodes."""
    frame = read_frame(Path(video_path), seconds, width, height)
    if frame is None:
        return None
    path = poster_path(video_path)
    Image.fromarray(frame).save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return path
