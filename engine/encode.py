"""Encode: stream RGB frames into ffmpeg (H.264) muxed with the speech (AAC) in an MP4 that says
it is synthetic in its metadata."""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from engine import __version__
from engine.errors import EngineError
from engine.tools import require_tool

GENERATOR = f"Likeness engine/{__version__}"


def synthetic_metadata(label_text: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """MP4 tags: the caller's entries first, then the synthetic-media tags (which always win)."""
    tags: dict[str, str] = {}
    for key, value in (extra or {}).items():
        clean_key = re.sub(r"[^a-z0-9_]", "_", str(key).lower())[:64]
        if clean_key:
            tags[clean_key] = " ".join(str(value).split())[:500]
    disclosure = "Synthetic video: AI-generated face and voice, made with the subject's consent."
    tags.update(
        {
            "comment": disclosure,
            "description": disclosure,
            "synthetic": "true",
            "ai_generated": "true",
            "visible_label": label_text,
            "generator": GENERATOR,
        }
    )
    return tags


class VideoEncoder:
    """Feed frames with ``write``; ``finish`` waits for ffmpeg; ``abort`` kills it and cleans up."""

    def __init__(
        self,
        out_path: str | Path,
        width: int,
        height: int,
        fps: int,
        audio_wav: str | Path | None,
        metadata: dict[str, str],
    ):
        self.out_path = Path(out_path)
        self.width, self.height = width, height
        self.frames = 0
        ffmpeg = require_tool("ffmpeg")
        cmd = [ffmpeg, "-y", "-v", "error", "-nostdin"]
        cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
        cmd += ["-framerate", str(fps), "-i", "pipe:0"]
        if audio_wav is not None:
            cmd += ["-i", str(audio_wav), "-map", "0:v:0", "-map", "1:a:0"]
            cmd += ["-c:a", "aac", "-b:a", "128k"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        cmd += ["-movflags", "+faststart+use_metadata_tags"]
        for key, value in metadata.items():
            cmd += ["-metadata", f"{key}={value}"]
        cmd += ["-f", "mp4", str(self.out_path)]
        # Lives as long as the encoder; closed in finish() or abort().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise EngineError(
                f"A frame has shape {frame.shape}; the video is {self.width}x{self.height}."
            )
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except BrokenPipeError as error:
            self._proc.wait()
            raise EngineError(f"ffmpeg stopped while encoding: {self._error_line()}") from error
        self.frames += 1

    def finish(self) -> None:
        self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            raise EngineError(f"ffmpeg could not encode the video: {self._error_line()}")
        self._log.close()

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdin and not self._proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        self._log.close()
        self.out_path.unlink(missing_ok=True)

    def _error_line(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:300] if lines else "no message"
