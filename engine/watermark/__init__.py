"""Invisible watermarks carrying the provenance id: frames (64 bits) and audio (32 bits).

``mark_*`` functions embed; ``read_file`` decodes a media file with ffmpeg and looks for both.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from engine.tools import require_tool
from engine.watermark.audio import AudioMark, detect_audio, embed_audio
from engine.watermark.video import VideoMark, VideoWatermarker, detect_mean_chroma, detect_video

__all__ = [
    "AudioMark",
    "VideoMark",
    "VideoWatermarker",
    "audio_payload",
    "detect_audio",
    "detect_video",
    "embed_audio",
    "read_audio_mark",
    "read_file",
    "read_video_mark",
]

READ_SECONDS = 12.0  # the detector needs 3 s; a little more helps and bounds the work


def audio_payload(provenance_id: int) -> int:
    """The 32 bits of the 64-bit provenance id that the audio carries (the top half)."""
    return (provenance_id >> 32) & 0xFFFFFFFF


def read_video_mark(
    path: str | Path,
    *,
    start: float = 0.0,
    seconds: float = READ_SECONDS,
    known_prefix: int | None = None,
) -> VideoMark | None:
    """The video mark of a file (None when it has no video stream). ``known_prefix``: the audio
    mark's 32 bits, when found, to help decode the frames (see ``detect_mean_chroma``)."""
    cmd = [require_tool("ffprobe"), "-v", "error", "-select_streams", "v:0"]
    cmd += ["-show_entries", "stream=width,height", "-of", "csv=p=0", str(path)]
    probe = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    try:
        width, height = (int(v) for v in probe.stdout.strip().split(",")[:2])
    except ValueError:
        return None
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin"]
    if start:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-t", f"{seconds:.3f}", "-i", str(path), "-map", "0:v:0"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    # The mark lives on Cb + Cr: the last two planes of each yuv420p frame, at half resolution.
    chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
    frame_bytes = width * height + 2 * chroma_w * chroma_h
    total = np.zeros((2, chroma_h, chroma_w), np.float64)
    count = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        while True:
            raw = proc.stdout.read(frame_bytes)
            if len(raw) < frame_bytes:
                break
            chroma = np.frombuffer(raw, np.uint8, offset=width * height)
            total += chroma.reshape(2, chroma_h, chroma_w)
            count += 1
    if count == 0:
        return None
    mean_chroma = (total.sum(axis=0) / (2 * count)).astype(np.float32)  # (Cb + Cr) / 2
    return detect_mean_chroma(mean_chroma, known_prefix=known_prefix)


def read_audio_mark(
    path: str | Path, *, start: float = 0.0, seconds: float = READ_SECONDS
) -> AudioMark | None:
    """The audio mark of a file (None when it has no audio stream)."""
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin"]
    if start:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-t", f"{seconds:.3f}", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "16000"]
    cmd += ["-f", "f32le", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0 or not proc.stdout:
        return None
    return detect_audio(np.frombuffer(proc.stdout, np.float32), 16000)


def read_file(path: str | Path) -> dict[str, Any]:
    """Both watermarks of a media file, JSON-ready. The audio is read first: its 32 bits help the
    video decoder."""
    audio = read_audio_mark(path)
    prefix = audio.payload if audio is not None else None
    video = read_video_mark(path, known_prefix=prefix)
    return {
        "video": video.to_dict() if video else None,
        "audio": audio.to_dict() if audio else None,
    }
