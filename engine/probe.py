"""What a media file says about itself: streams, metadata, whether the visible label shows, its
C2PA manifest (valid? trusted? who signed?) and the invisible watermarks (payload, confidence).
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from engine.c2pa import read_manifest
from engine.errors import EngineError
from engine.label import detect_label
from engine.tools import require_tool
from engine.watermark import read_file

LABEL_SAMPLES = 5


def probe(
    path: str | Path,
    label_text: str | None = None,
    trust_anchor_pem: bytes | None = None,
    *,
    watermarks: bool = True,
) -> dict[str, Any]:
    """A JSON-ready description of the file at ``path``. Raises EngineError if it is unreadable.

    ``trust_anchor_pem``: the root certificate(s) whose signatures count as trusted.
    ``label_text``: the visible label to look for; None tries every language the engine draws.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"The file {path.name} does not exist.")
    info = _ffprobe(path)
    fmt = info.get("format", {})
    tags = {str(k).lower(): v for k, v in fmt.get("tags", {}).items()}
    streams = [_stream(s) for s in info.get("streams", [])]
    duration = float(fmt.get("duration") or 0.0)
    video = next((s for s in streams if s["type"] == "video"), None)
    synthetic = tags.get("synthetic") == "true" or tags.get("ai_generated") == "true"
    return {
        "path": str(path),
        "format": fmt.get("format_name"),
        "duration": round(duration, 3),
        "size_bytes": int(fmt.get("size") or path.stat().st_size),
        "streams": streams,
        "tags": tags,
        "synthetic": synthetic,
        "visible_label": _visible_label(path, video, duration, label_text) if video else None,
        "c2pa": read_manifest(path, trust_anchor_pem),
        "watermark": _watermarks(path) if watermarks else None,
    }


def _watermarks(path: Path) -> dict[str, Any]:
    marks = read_file(path)
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


def _ffprobe(path: Path) -> dict[str, Any]:
    cmd = [require_tool("ffprobe"), "-v", "error", "-print_format", "json"]
    cmd += ["-show_format", "-show_streams", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise EngineError(f"The file {path.name} is not a video or audio file we can read.")
    return json.loads(proc.stdout or "{}")


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
            width=raw.get("width"),
            height=raw.get("height"),
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


def read_frame(path: Path, seconds: float, width: int, height: int) -> np.ndarray | None:
    """The RGB frame shown at ``seconds``, or None past the end."""
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-ss", f"{seconds:.3f}"]
    cmd += ["-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or len(proc.stdout) != width * height * 3:
        return None
    return np.frombuffer(proc.stdout, np.uint8).reshape(height, width, 3)


def _visible_label(path: Path, video: dict, duration: float, text: str | None) -> dict[str, Any]:
    width, height = video["width"], video["height"]
    duration = video.get("duration") or duration
    times = [(i + 0.5) * duration / LABEL_SAMPLES for i in range(LABEL_SAMPLES)]
    results = []
    for t in times:
        frame = read_frame(path, t, width, height)
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
