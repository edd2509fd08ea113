"""Measuring rendered files: decode them with ffprobe/ffmpeg, never trust our own numbers."""

import json
import subprocess

import numpy as np


def ffprobe(path) -> dict:
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def stream(info: dict, kind: str) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def decode_frames(path, width: int, height: int, pix_fmt: str = "gray") -> np.ndarray:
    """Every frame of a video, gray (frames, height, width) or rgb24 (..., 3)."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8)
    return frames.reshape(-1, height, width, *((3,) if pix_fmt == "rgb24" else ()))


def write_webm(
    out, *, image=None, audio=None, seconds: float = 4, blank_video: bool = True, bitrate="300k"
):
    """A VP8/Opus WebM like Chromium's MediaRecorder writes: a still `image` (else a gray picture,
    or no video stream when `blank_video` is False) with `audio` (else silence)."""
    args = ["ffmpeg", "-v", "error", "-y"]
    if image is not None:
        args += ["-loop", "1", "-framerate", "10", "-i", str(image)]
    elif blank_video:
        args += ["-f", "lavfi", "-i", "color=c=gray:s=320x240:r=10"]
    args += ["-i", str(audio)] if audio else ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]
    args += ["-t", str(seconds), "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"]
    args += ["-b:v", bitrate, "-pix_fmt", "yuv420p", "-c:a", "libopus", str(out)]
    subprocess.run(args, check=True)
    return out
