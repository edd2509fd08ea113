"""What a media file says about itself: streams, metadata, whether the visible label shows, its
C2PA manifest (valid? trusted? who signed?) and the invisible watermarks (payload, confidence).

The file may come from anyone: its size, its streams' dimensions and its duration are checked
against ``MediaLimits`` before a frame is decoded, and every ffprobe/ffmpeg run has a timeout.
"""

from __future__ import annotations

import json
import math
import subprocess  # nosec B404: runs ffprobe and ffmpeg with argument lists, never through a shell
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from engine.c2pa import read_manifest
from engine.errors import EngineError
from engine.label import detect_label
from engine.tools import require_tool
from engine.voice.bandwidth import sound_bandwidth_hz
from engine.watermark import MAX_FRAME_PIXELS, TOOL_SECONDS, read_file

LABEL_SAMPLES = 5
BANDWIDTH_SECONDS = 30  # of sound read to measure its bandwidth: a long-term spectrum, bounded
UNREADABLE = "is not a video or audio file we can read"


class UnreadableMedia(EngineError):
    default_message = f"The file {UNREADABLE}."


class MediaTooLarge(EngineError):
    default_message = "The file is larger than we check."


@dataclass(frozen=True)
class MediaLimits:
    """The most work one file may ask for: bytes on disk, seconds of media, pixels a frame, and
    seconds each ffprobe/ffmpeg run may take."""

    max_bytes: int = 4 * 1024**3
    max_seconds: float = 24 * 3600
    max_side: int = 8192
    max_pixels: int = MAX_FRAME_PIXELS
    tool_seconds: float = TOOL_SECONDS


def probe(
    path: str | Path,
    label_text: str | None = None,
    trust_anchor_pem: bytes | None = None,
    *,
    watermarks: bool = True,
    limits: MediaLimits | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """A JSON-ready description of the file at ``path``. Raises UnreadableMedia when it is not
    a video or audio file with a duration, MediaTooLarge when it is beyond ``limits`` (checked
    before any decoding), EngineError when a tool fails or runs out of time.

    ``trust_anchor_pem``: the root certificate(s) whose signatures count as trusted.
    ``label_text``: the visible label to look for; None tries every language the engine draws.
    ``name``: the file's name in messages (an upload's own name rather than a temporary one).
    """
    path = Path(path)
    limits = limits or MediaLimits()
    name = name or path.name
    if not path.is_file():
        raise EngineError(f"The file {name} does not exist.")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableMedia(f"The file {name} is empty: it {UNREADABLE}.")
    if size > limits.max_bytes:
        raise MediaTooLarge(f"The file {name} is larger than {limits.max_bytes // 2**20} MB.")
    info = _ffprobe(path, name, limits.tool_seconds)
    fmt = info.get("format", {})
    tags = {str(k).lower(): v for k, v in fmt.get("tags", {}).items()}
    streams = [_stream(s) for s in info.get("streams", [])]
    duration = _seconds(fmt.get("duration"))
    _check_bounds(streams, duration, name, limits)
    sound = next((s for s in streams if s["type"] == "audio"), None)
    if sound is not None:
        sound["bandwidth_hz"] = _sound_bandwidth(path, sound["sample_rate"], limits)
    video = next((s for s in streams if s["type"] == "video"), None)
    synthetic = tags.get("synthetic") == "true" or tags.get("ai_generated") == "true"
    return {
        "path": str(path),
        "format": fmt.get("format_name"),
        "duration": round(duration, 3),
        "size_bytes": size,
        "streams": streams,
        "tags": tags,
        "synthetic": synthetic,
        "visible_label": (
            _visible_label(path, video, duration, label_text, limits) if video else None
        ),
        "c2pa": read_manifest(path, trust_anchor_pem),
        "watermark": _watermarks(path, limits) if watermarks else None,
    }


def _seconds(value: Any) -> float:
    try:
        seconds = float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _check_bounds(streams: list[dict], duration: float, name: str, limits: MediaLimits) -> None:
    """Refuse, before decoding, what is not media (an image, a truncated file: no duration, or a
    frame of 0x0) and what would cost too much (huge frames, absurd durations)."""
    media = [s for s in streams if s["type"] in ("video", "audio")]
    if not media or duration <= 0:
        raise UnreadableMedia(f"The file {name} {UNREADABLE}.")
    for stream in media:
        if stream["type"] != "video":
            continue
        width, height = stream.get("width") or 0, stream.get("height") or 0
        if width <= 0 or height <= 0:
            raise UnreadableMedia(f"The file {name} {UNREADABLE}: its frames have no size.")
        if max(width, height) > limits.max_side or width * height > limits.max_pixels:
            raise MediaTooLarge(
                f"The file {name} has frames of {width}x{height}; we check videos up to"
                f" {limits.max_side} pixels a side and {limits.max_pixels // 10**6} megapixels."
            )
    if duration > limits.max_seconds:
        raise MediaTooLarge(
            f"The file {name} lasts {duration / 60:.0f} minutes; we check up to"
            f" {limits.max_seconds / 60:.0f}."
        )


def _watermarks(path: Path, limits: MediaLimits) -> dict[str, Any]:
    marks = read_file(path, max_pixels=limits.max_pixels, timeout=limits.tool_seconds)
    video, audio = marks["video"], marks["audio"]
    provenance_id = video["payload"] if video and video["found"] else None
    audio_id = audio["payload"] if audio and audio["found"] else None
    return {
        **marks,
        # The 64-bit id from the frames; the audio alone gives its top 32 bits.
        "provenance_id": provenance_id,
        "provenance_id_prefix": (provenance_id[:8] if provenance_id else audio_id),
        "agree": (provenance_id[:8] == audio_id) if provenance_id and audio_id else None,
    }


def _ffprobe(path: Path, name: str, timeout: float) -> dict[str, Any]:
    cmd = [require_tool("ffprobe"), "-v", "error", "-print_format", "json"]
    cmd += ["-show_format", "-show_streams", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    except subprocess.TimeoutExpired as error:
        raise UnreadableMedia(f"The file {name} {UNREADABLE} in {timeout:.0f} s.") from error
    if proc.returncode != 0:
        raise UnreadableMedia(f"The file {name} {UNREADABLE}.")
    try:
        info = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError as error:
        raise UnreadableMedia(f"The file {name} {UNREADABLE}.") from error
    return info if isinstance(info, dict) else {}


def _stream(raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw.get("codec_type")
    stream: dict[str, Any] = {
        "type": kind,
        "codec": raw.get("codec_name"),
        "duration": round(float(raw["duration"]), 3) if raw.get("duration") else None,
    }
    if kind == "video":
        rate = raw.get("avg_frame_rate") or raw.get("r_frame_rate") or "0/1"
        fps = float(Fraction(rate)) if rate not in ("0/0", "") else None
        stream.update(
            width=_int(raw.get("width")),
            height=_int(raw.get("height")),
            fps=round(fps, 3) if fps else None,
            frames=int(raw["nb_frames"]) if raw.get("nb_frames") else None,
            pix_fmt=raw.get("pix_fmt"),
        )
    elif kind == "audio":
        stream.update(
            sample_rate=int(raw.get("sample_rate") or 0),
            channels=raw.get("channels"),
        )
    return stream


def _sound_bandwidth(path: Path, rate: int, limits: MediaLimits) -> int | None:
    """Where the first audio stream's sound ends (Hz), measured on its first BANDWIDTH_SECONDS:
    a stream at 48 kHz says nothing of the band its source had (None: silence, or unreadable)."""
    if rate <= 0:
        return None
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-t", str(BANDWIDTH_SECONDS)]
    cmd += ["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=limits.tool_seconds, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        return None
    edge = sound_bandwidth_hz(np.frombuffer(proc.stdout, np.float32), rate)
    return round(edge) if edge is not None else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_frame(
    path: Path, seconds: float, width: int, height: int, *, timeout: float = TOOL_SECONDS
) -> np.ndarray | None:
    """The RGB frame shown at ``seconds``, or None past the end (or when it takes longer than
    ``timeout`` seconds, or its frames are not ``width`` x ``height``)."""
    if width <= 0 or height <= 0:
        return None
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-ss", f"{seconds:.3f}"]
    # The decoder refuses frames far larger than probed (a stream that grows mid-way).
    cmd += ["-max_pixels", str(2 * width * height + 65536), "-i", str(path), "-frames:v", "1"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0 or len(proc.stdout) != width * height * 3:
        return None
    return np.frombuffer(proc.stdout, np.uint8).reshape(height, width, 3)


def _visible_label(
    path: Path, video: dict, duration: float, text: str | None, limits: MediaLimits
) -> dict[str, Any]:
    width, height = video["width"], video["height"]
    duration = video.get("duration") or duration
    times = [(i + 0.5) * duration / LABEL_SAMPLES for i in range(LABEL_SAMPLES)]
    results = []
    for t in times:
        frame = read_frame(path, t, width, height, timeout=limits.tool_seconds)
        if frame is not None:
            results.append(detect_label(frame, text))
    if not results:
        return {"found": False, "score": None, "fraction": 0.0, "corner": None, "frames": 0}
    found = [r for r in results if r[0]]
    corners = [r[2] for r in found]
    return {
        "found": len(found) == len(results),
        "score": round(float(np.mean([r[1] for r in results])), 4),
        "fraction": round(len(found) / len(results), 3),
        "corner": max(set(corners), key=corners.count) if corners else None,
        "frames": len(results),
    }
