"""Invisible watermarks carrying the provenance id: frames (64 bits) and audio (32 bits).

``mark_*`` functions embed; ``read_file`` decodes a media file with ffmpeg and looks for both.
Reading is bounded: frames over ``max_pixels`` are refused before decoding, every ffmpeg run has a
timeout, and at most ``MAX_FRAMES`` frames are read.
"""

from __future__ import annotations

import subprocess  # nosec B404: runs ffprobe and ffmpeg with argument lists, never through a shell
import threading
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import EngineError
from engine.tools import require_tool
from engine.watermark.audio import AudioMark, detect_audio, embed_audio
from engine.watermark.video import VideoMark, VideoWatermarker, detect_mean_chroma, detect_video

__all__ = [
    "MAX_FRAME_PIXELS",
    "TOOL_SECONDS",
    "AudioMark",
    "VideoMark",
    "VideoWatermarker",
    "WatermarkReadTimeout",
    "audio_payload",
    "detect_audio",
    "detect_video",
    "embed_audio",
    "read_audio_mark",
    "read_file",
    "read_video_mark",
]

READ_SECONDS = 12.0  # the detector needs 3 s; a little more helps and bounds the work
MAX_FRAMES = 12 * 120  # 12 s at 120 fps; a file claiming a higher rate is read no further
MAX_FRAME_PIXELS = 7680 * 4320  # 8K UHD
TOOL_SECONDS = 60.0  # the most one ffprobe/ffmpeg run may take


class WatermarkReadTimeout(EngineError):
    default_message = "Reading the file's watermark took too long."


def audio_payload(provenance_id: int) -> int:
    """The 32 bits of the 64-bit provenance id that the audio carries (the top half)."""
    return (provenance_id >> 32) & 0xFFFFFFFF


def read_video_mark(
    path: str | Path,
    *,
    start: float = 0.0,
    seconds: float = READ_SECONDS,
    known_prefix: int | None = None,
    max_pixels: int = MAX_FRAME_PIXELS,
    timeout: float = TOOL_SECONDS,
) -> VideoMark | None:
    """The video mark of a file (None when it has no video stream with frames of a size).
    ``known_prefix``: the audio mark's 32 bits, when found, to help decode the frames (see
    ``detect_mean_chroma``). Raises EngineError for frames over ``max_pixels`` (before decoding)
    and WatermarkReadTimeout when ffprobe or ffmpeg runs past ``timeout`` seconds."""
    cmd = [require_tool("ffprobe"), "-v", "error", "-select_streams", "v:0"]
    cmd += ["-show_entries", "stream=width,height", "-of", "csv=p=0", str(path)]
    try:
        probe = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    except subprocess.TimeoutExpired as error:
        raise WatermarkReadTimeout() from error
    try:
        width, height = (int(v) for v in probe.stdout.strip().split(",")[:2])
    except ValueError:
        return None
    if width <= 0 or height <= 0:  # a truncated image or stream: nothing to decode
        return None
    if width * height > max_pixels:
        raise EngineError(f"Frames of {width}x{height} are larger than we read for a watermark.")
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin"]
    if start:
        cmd += ["-ss", f"{start:.3f}"]
    # -max_pixels: the decoder refuses frames that grow past what was probed.
    cmd += ["-t", f"{seconds:.3f}", "-max_pixels", str(max_pixels), "-i", str(path)]
    cmd += ["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    # The mark lives on Cb + Cr: the last two planes of each yuv420p frame, at half resolution.
    chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
    frame_bytes = width * height + 2 * chroma_w * chroma_h
    total = np.zeros((2, chroma_h, chroma_w), np.float64)
    count = 0
    timed_out = threading.Event()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours

        def stop() -> None:  # a stalled or endless decode cannot hold the caller
            timed_out.set()
            proc.kill()

        watchdog = threading.Timer(timeout, stop)
        watchdog.start()
        try:
            while count < MAX_FRAMES:
                raw = proc.stdout.read(frame_bytes)
                if len(raw) < frame_bytes:  # end of stream, a short frame, or killed
                    break
                chroma = np.frombuffer(raw, np.uint8, offset=width * height)
                total += chroma.reshape(2, chroma_h, chroma_w)
                count += 1
        finally:
            watchdog.cancel()
            proc.kill()  # done reading: MAX_FRAMES reached, or the stream ended
    if timed_out.is_set():
        raise WatermarkReadTimeout()
    if count == 0:
        return None
    mean_chroma = (total.sum(axis=0) / (2 * count)).astype(np.float32)  # (Cb + Cr) / 2
    return detect_mean_chroma(mean_chroma, known_prefix=known_prefix)


def read_audio_mark(
    path: str | Path,
    *,
    start: float = 0.0,
    seconds: float = READ_SECONDS,
    timeout: float = TOOL_SECONDS,
) -> AudioMark | None:
    """The audio mark of a file (None when it has no audio stream). Raises
    WatermarkReadTimeout when ffmpeg runs past ``timeout`` seconds."""
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin"]
    if start:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-t", f"{seconds:.3f}", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "16000"]
    cmd += ["-f", "f32le", "pipe:1"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    except subprocess.TimeoutExpired as error:
        raise WatermarkReadTimeout() from error
    if proc.returncode != 0 or not proc.stdout:
        return None
    return detect_audio(np.frombuffer(proc.stdout, np.float32), 16000)


def read_file(
    path: str | Path, *, max_pixels: int = MAX_FRAME_PIXELS, timeout: float = TOOL_SECONDS
) -> dict[str, Any]:
    """Both watermarks of a media file, JSON-ready. The audio is read first: its 32 bits help the
    video decoder. ``max_pixels`` and ``timeout``: see ``read_video_mark``."""
    audio = read_audio_mark(path, timeout=timeout)
    prefix = audio.payload if audio is not None else None
    video = read_video_mark(path, known_prefix=prefix, max_pixels=max_pixels, timeout=timeout)
    return {
        "video": video.to_dict() if video else None,
        "audio": audio.to_dict() if audio else None,
    }
