"""Encode: stream RGB frames into ffmpeg (H.264) muxed with the speech (AAC) in an MP4 that says
it is synthetic in its metadata."""

from __future__ import annotations

import contextlib
import functools
import re
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from engine import __version__
from engine.errors import EngineError
from engine.tools import require_tool

GENERATOR = f"Likeness engine/{__version__}"
# The H.264 settings of every video the engine makes. Chunks encoded apart (``join_chunks``) are
# only joined by stream copy when they share these, so they are part of each chunk's cache key.
VIDEO_CODEC_ARGS = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20")
# ffmpeg's fast AAC coder: half the CPU of its default (two-loop search), which every variant of
# a campaign pays on its whole track; on a 30 s render its decoded speech is 42 dB from the source
# (two-loop: 37 dB, by a different trade of noise for loudness), both far past hearing at 128k.
AUDIO_CODEC_ARGS = ("-c:a", "aac", "-aac_coder", "fast", "-b:a", "128k")
# Two channels (the mono voice in both): some players and editors take mono AAC as left only.
AUDIO_CHANNELS = 2


def audio_codec_args(bandwidth_hz: float | None = None) -> list[str]:
    """AAC settings for a track whose sound ends at ``bandwidth_hz`` (None: ffmpeg's own choice
    by bitrate). The encoder's low-pass is set at that edge: the bits go to the band the voice
    has, and the file does not claim (nor fill with coding noise) a band it lacks."""
    args = [*AUDIO_CODEC_ARGS, "-ac", str(AUDIO_CHANNELS)]
    if bandwidth_hz:
        args += ["-cutoff", str(round(bandwidth_hz))]
    return args


MP4_FLAGS = ("-movflags", "+faststart+use_metadata_tags")
# A chapter of the MP4: (start seconds, end seconds, title), as engine.captions.chapter_spans.
Chapter = tuple[float, float, str]


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
        chapters: Sequence[Chapter] = (),
        audio_bandwidth_hz: float | None = None,
    ):
        """``chapters``: the MP4's own chapters (``ffprobe -show_chapters``); none by default.
        ``audio_bandwidth_hz``: where the sound of ``audio_wav`` ends (``audio_codec_args``);
        its sample rate is kept."""
        self.out_path = Path(out_path)
        self.width, self.height = width, height
        self.frames = 0
        self._yuv = Yuv420Converter(width, height)
        ffmpeg = require_tool("ffmpeg")
        cmd = [ffmpeg, "-y", "-v", "error", "-nostdin"]
        # Frames go in as yuv420p, converted here (``Yuv420Converter``): half the bytes through the
        # pipe and no conversion in ffmpeg, which doubled its throughput at 720p on 2 cores.
        cmd += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}"]
        cmd += ["-framerate", str(fps), "-i", "pipe:0"]
        self._chapters_file = write_ffmetadata(chapters, self.out_path)
        if audio_wav is not None:
            cmd += ["-i", str(audio_wav)]
        cmd += _chapter_input(self._chapters_file)
        if audio_wav is not None:
            cmd += ["-map", "0:v:0", "-map", "1:a:0"]
            cmd += audio_codec_args(audio_bandwidth_hz)
        elif self._chapters_file is not None:
            cmd += ["-map", "0:v:0"]
        cmd += _chapter_map(self._chapters_file, 2 if audio_wav is not None else 1)
        cmd += VIDEO_CODEC_ARGS
        cmd += MP4_FLAGS
        cmd += _metadata_args(metadata)
        cmd += ["-f", "mp4", str(self.out_path)]
        # Lives as long as the encoder; closed in finish() or abort().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._log)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
        except BaseException:
            self._log.close()
            self._remove_chapters_file()
            raise

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise EngineError(
                f"A frame has shape {frame.shape}; the video is {self.width}x{self.height}."
            )
        try:
            for plane in self._yuv.convert(frame):
                self._proc.stdin.write(memoryview(plane).cast("B"))
        except BrokenPipeError as error:
            self._proc.wait()
            raise EngineError(f"ffmpeg stopped while encoding: {self._error_line()}") from error
        self.frames += 1

    def end_input(self) -> None:
        """No more frames: ffmpeg encodes what it holds while the caller goes on (``finish``
        waits for it)."""
        if not self._proc.stdin.closed:
            self._proc.stdin.close()

    def finish(self) -> None:
        self.end_input()
        code = self._proc.wait()
        self._remove_chapters_file()
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
        self._remove_chapters_file()
        self.out_path.unlink(missing_ok=True)

    def _remove_chapters_file(self) -> None:
        if self._chapters_file is not None:
            self._chapters_file.unlink(missing_ok=True)

    def _error_line(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:300] if lines else "no message"


def _metadata_args(metadata: dict[str, str]) -> list[str]:
    args = []
    for key, value in metadata.items():
        args += ["-metadata", f"{key}={value}"]
    return args


def ffmetadata(chapters: Sequence[Chapter]) -> str:
    """An FFMETADATA1 file of ``chapters`` (start, end seconds, title), times in milliseconds."""
    lines = [";FFMETADATA1"]
    for start, end, title in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(start * 1000)}",
            f"END={round(end * 1000)}",
            f"title={ffmetadata_escape(title)}",
        ]
    return "\n".join(lines) + "\n"


def ffmetadata_escape(text: str) -> str:
    """``text`` as an FFMETADATA value: '=', ';', '#', '\\' and a newline escaped with a
    backslash (a title is user text), other control characters dropped."""
    text = "\n".join(text.splitlines())
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def write_ffmetadata(chapters: Sequence[Chapter], out_path: Path) -> Path | None:
    """The chapters' FFMETADATA file beside ``out_path`` for ffmpeg to read, None without
    chapters (the command is then what it was before chapters existed)."""
    if not chapters:
        return None
    path = out_path.with_name(f".{out_path.name}.chapters.txt")
    path.write_text(ffmetadata(chapters), encoding="utf-8")
    return path


def _chapter_input(path: Path | None) -> list[str]:
    return [] if path is None else ["-f", "ffmetadata", "-i", str(path)]


def _chapter_map(path: Path | None, index: int) -> list[str]:
    """The chapters of input ``index`` (the FFMETADATA file) into the MP4, nothing else of it."""
    return [] if path is None else ["-map_chapters", str(index)]


@functools.cache
def encoder_identity() -> str:
    """The ffmpeg build that encodes (its version line): chunks from another build may carry
    other stream parameters, so they are cached apart."""
    ffmpeg = require_tool("ffmpeg")
    done = subprocess.run([ffmpeg, "-version"], capture_output=True, check=False, timeout=30)  # nosec B603: an argument list with the tool's absolute path, no shell
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return lines[0].strip() if lines else "ffmpeg"


def join_chunks(
    chunks: list[Path],
    out_path: Path,
    audio_wav: Path,
    metadata: dict[str, str],
    chapters: Sequence[Chapter] = (),
    audio_bandwidth_hz: float | None = None,
) -> None:
    """One MP4 at ``out_path`` from H.264 chunks (each starting with an IDR frame, all encoded
    with ``VIDEO_CODEC_ARGS`` at one size and rate), copied, not encoded again, and the sound of
    ``audio_wav`` encoded as AAC (``audio_codec_args``); with ``chapters``, the MP4's own.
    ffmpeg's concat demuxer shifts each chunk's timestamps by the length of those before it,
    B-frame delays included."""
    if not chunks:
        raise EngineError("There are no frames to join.")
    ffmpeg = require_tool("ffmpeg")
    listing = out_path.with_name(f".{out_path.name}.chunks.txt")
    # The demuxer reads quoted paths: a quote inside one is written as '\''.
    listing.write_text(
        "ffconcat version 1.0\n"
        + "".join("file '{}'\n".format(str(p.resolve()).replace("'", "'\\''")) for p in chunks)
    )
    chapters_file = None
    try:
        chapters_file = write_ffmetadata(chapters, out_path)
        cmd = [ffmpeg, "-y", "-v", "error", "-nostdin", "-f", "concat", "-safe", "0"]
        cmd += ["-i", str(listing), "-i", str(audio_wav), *_chapter_input(chapters_file)]
        cmd += ["-map", "0:v:0", "-map", "1:a:0", *_chapter_map(chapters_file, 2)]
        cmd += ["-c:v", "copy", *audio_codec_args(audio_bandwidth_hz), *MP4_FLAGS]
        cmd += _metadata_args(metadata)
        cmd += ["-f", "mp4", str(out_path)]
        done = subprocess.run(cmd, capture_output=True, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    finally:
        listing.unlink(missing_ok=True)
        if chapters_file is not None:
            chapters_file.unlink(missing_ok=True)
    if done.returncode != 0:
        out_path.unlink(missing_ok=True)
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EngineError(f"ffmpeg could not join the video: {lines[-1][:300] if lines else ''}")


# Full-range chroma (JPEG's, what OpenCV's YCrCb gives) to the limited range of video (16-240).
_LIMITED_CHROMA = np.round(128 + (np.arange(256) - 128) * 224 / 255).astype(np.uint8)
_LIMITED_LUMA = np.round(16 + np.arange(256) * 219 / 255).astype(np.uint8)  # 16-235


class Yuv420Converter:
    """RGB frames of one size to Y, Cb and Cr planes (BT.601, limited range, as ffmpeg converts
    by default). Each chroma sample is the mean of its 2 x 2 pixels: OpenCV's own I420
    conversion picks one of them, which aliases coloured edges.

    Only what changed since the last frame is converted again: in a lesson most of the picture
    is a still slide and a corner presenter moves (a tenth of the pixels at 720p). Finding the
    change costs one difference of the two frames.
    """

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.planes = (
            np.empty((height, width), np.uint8),
            np.empty(((height + 1) // 2, (width + 1) // 2), np.uint8),
            np.empty(((height + 1) // 2, (width + 1) // 2), np.uint8),
        )
        self._last: np.ndarray | None = None  # the last frame converted
        self._whole = width % 2 or height % 2  # odd sizes: whole frames, no 2 x 2 alignment

    def convert(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._last is None or self._whole:
            self._last = frame.copy()
            self._convert(frame, 0, 0, self.width, self.height)
            return self.planes
        changed = cv2.absdiff(frame, self._last).reshape(self.height, self.width * 3)
        x, y, w, h = cv2.boundingRect(changed)
        if w and h:
            # In whole pixels (three bytes each), widened to the 2 x 2 chroma grid.
            end = -(-(x + w) // 3)
            x0, x1 = x // 3 // 2 * 2, min(self.width, (end + 1) // 2 * 2)
            y0, y1 = y // 2 * 2, min(self.height, (y + h + 1) // 2 * 2)
            self._last[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
            self._convert(frame, x0, y0, x1, y1)
        return self.planes

    def _convert(self, frame: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
        region = frame[y0:y1, x0:x1]
        luma, cb, cr = self.planes
        height, width = region.shape[:2]
        if width % 2 == 0 and height % 2 == 0:
            luma[y0:y1, x0:x1] = cv2.cvtColor(region, cv2.COLOR_RGB2YUV_I420)[:height]
        else:  # an odd-sized frame: the same figures, computed whole
            luma[y0:y1, x0:x1] = cv2.LUT(cv2.cvtColor(region, cv2.COLOR_RGB2GRAY), _LIMITED_LUMA)
        half = cv2.resize(
            region, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA
        )
        ycrcb = cv2.cvtColor(half, cv2.COLOR_RGB2YCrCb)
        cy0, cx0 = y0 // 2, x0 // 2
        cb[cy0 : cy0 + half.shape[0], cx0 : cx0 + half.shape[1]] = cv2.LUT(
            ycrcb[:, :, 2], _LIMITED_CHROMA
        )
        cr[cy0 : cy0 + half.shape[0], cx0 : cx0 + half.shape[1]] = cv2.LUT(
            ycrcb[:, :, 1], _LIMITED_CHROMA
        )
