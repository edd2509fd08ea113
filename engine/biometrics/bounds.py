"""Bounds on a recording, checked from its container before anything is decoded.

A byte limit alone does not bound the work: a 6 MB WebM can hold an hour of tiny frames, and a
WAV header can claim 1 sample a second for 20,000 s. ``probe_media`` asks ffprobe what the file
says about itself (demuxing at most, never decoding), and the ``check_*`` functions refuse what
is too long or sampled too coarsely, with a message a user can act on.

Browsers' MediaRecorder writes WebM without a duration in its header; then the packets'
timestamps are read (demuxing only) and the scan stops as soon as it passes the limit, so an
hour-long file costs no more than a limit-long one.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs ffprobe with argument lists, never through a shell
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from engine.errors import EngineError
from engine.tools import require_tool

MAX_CLIP_SECONDS = 30.0  # a consent clip: the challenge sentence takes 4-8 s to read
MIN_CLIP_SAMPLE_RATE = 16000  # Hz; the speech checks work on 16 kHz sound
MAX_VOICE_SAMPLE_SECONDS = 300.0  # a reference voice sample: a few minutes at most
MIN_VOICE_SAMPLE_RATE = 16000  # Hz
PROBE_TIMEOUT_SECONDS = 30


class MediaOutOfBounds(EngineError):
    default_message = "The recording is outside the limits this site accepts."


class NotAMediaFile(MediaOutOfBounds):
    default_message = "The file is not a video or audio recording we can read; record it again."


class CorruptClip(NotAMediaFile):
    default_message = "The consent clip cannot be played; record it again."


class RecordingTooLong(MediaOutOfBounds):
    default_message = "The recording is too long; record a shorter one."


class ClipTooLong(RecordingTooLong):
    default_message = (
        f"The consent clip is longer than {MAX_CLIP_SECONDS:.0f} s; record just the sentence."
    )


class SampleRateTooLow(MediaOutOfBounds):
    default_message = "The sound is sampled too coarsely; record with an ordinary microphone."


class NoSound(MediaOutOfBounds):
    default_message = "The recording has no sound; allow the microphone and record again."


class NoPicture(MediaOutOfBounds):
    default_message = "The clip has no picture; allow the camera and record again."


@dataclass(frozen=True)
class MediaInfo:
    """What a container says about itself. ``seconds`` is at least ``scan_limit`` when the scan
    of packet timestamps stopped early (``complete`` False)."""

    seconds: float
    sample_rate: int | None  # Hz of the first audio stream; None without sound
    has_video: bool
    fps: float | None = None  # average frame rate of the first video stream, when it says
    complete: bool = True
    video_start: float = 0.0  # seconds on the container's clock where picture and sound begin
    audio_start: float = 0.0


def _ffprobe_json(path: Path, *entries: str) -> dict:
    command = [require_tool("ffprobe"), "-v", "error", "-print_format", "json", *entries, str(path)]
    try:
        proc = subprocess.run(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise NotAMediaFile(f"{path.name} could not be read in time; record it again.") from error
    if proc.returncode != 0:
        raise NotAMediaFile(
            f"{path.name} is not a video or audio recording we can read; record it again."
        )
    try:
        return json.loads(proc.stdout or "{}")
    except ValueError as error:
        raise NotAMediaFile() from error


def _rate(text: str | None) -> float | None:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return None
    return float(value) if value > 0 else None


def _last_timestamp(path: Path, limit: float) -> tuple[float, bool]:
    """The latest packet time of the file (demuxing only), and whether the scan read to the end.
    Stops as soon as a packet passes ``limit`` seconds."""
    command = [require_tool("ffprobe"), "-v", "error", "-show_entries", "packet=pts_time"]
    command += ["-of", "csv=p=0", str(path)]
    latest = 0.0
    with subprocess.Popen(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                try:
                    latest = max(latest, float(line.strip().strip(",")))
                except ValueError:
                    continue  # N/A
                if latest > limit:
                    proc.kill()
                    return latest, False
            proc.wait(timeout=PROBE_TIMEOUT_SECONDS)
        finally:
            if proc.poll() is None:
                proc.kill()
    return latest, True


def probe_media(path: str | Path, *, scan_limit: float = MAX_CLIP_SECONDS) -> MediaInfo:
    """Duration, audio sample rate and whether there is a picture, from the container alone.

    When the header gives no duration (browser recordings), packet timestamps are scanned up to
    ``scan_limit`` seconds. Raises NotAMediaFile for a missing or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise NotAMediaFile(f"The file {path.name} does not exist.")
    if path.stat().st_size == 0:
        raise NotAMediaFile(f"The file {path.name} is empty; record it again.")
    info = _ffprobe_json(path, "-show_format", "-show_streams")
    streams = info.get("streams") or []
    # Cover art (an attached picture) is no video.
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        raise NotAMediaFile(f"{path.name} holds neither sound nor picture; record it again.")
    sample_rate = None
    if audio:
        try:
            sample_rate = int(audio[0].get("sample_rate") or 0)
        except ValueError:
            sample_rate = 0
    declared = [info.get("format", {}).get("duration")]
    declared += [s.get("duration") for s in video + audio]
    seconds = max((float(d) for d in declared if _is_number(d)), default=None)
    complete = True
    if seconds is None:
        seconds, complete = _last_timestamp(path, scan_limit)
    return MediaInfo(
        seconds=round(float(seconds), 3),
        sample_rate=sample_rate,
        has_video=bool(video),
        fps=_rate(video[0].get("avg_frame_rate")) if video else None,
        complete=complete,
        video_start=_start(video),
        audio_start=_start(audio),
    )


def _start(streams: list[dict]) -> float:
    value = streams[0].get("start_time") if streams else None
    return float(value) if _is_number(value) else 0.0


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _check_rate(info: MediaInfo, min_rate: int, what: str) -> None:
    if info.sample_rate is None:
        raise NoSound(f"The {what} has no sound; allow the microphone and record again.")
    if info.sample_rate < min_rate:
        raise SampleRateTooLow(
            f"The {what}'s sound is sampled at {info.sample_rate} Hz; at least {min_rate} Hz is"
            f" needed: record at {min_rate / 1000:g} kHz or more with an ordinary microphone."
        )


def check_clip_bounds(
    path: str | Path,
    *,
    max_seconds: float = MAX_CLIP_SECONDS,
    min_rate: int = MIN_CLIP_SAMPLE_RATE,
) -> MediaInfo:
    """A consent clip's container: picture and sound, at most ``max_seconds``, sound sampled at
    ``min_rate`` Hz or more. Raises ClipTooLong, SampleRateTooLow, NoSound, NoPicture or
    CorruptClip before anything is decoded."""
    try:
        info = probe_media(path, scan_limit=max_seconds)
    except NotAMediaFile as error:
        raise CorruptClip() from error  # the stored name means nothing to the subject
    if info.seconds > max_seconds:
        raise ClipTooLong(
            f"The consent clip lasts {_length(info)}; the limit is {max_seconds:.0f} s. Record"
            " yourself reading just the sentence."
        )
    if not info.has_video:
        raise NoPicture()
    _check_rate(info, min_rate, "consent clip")
    return info


def check_audio_bounds(
    path: str | Path,
    max_seconds: float = MAX_VOICE_SAMPLE_SECONDS,
    min_rate: int = MIN_VOICE_SAMPLE_RATE,
) -> MediaInfo:
    """A voice sample (any audio or video file with sound): at most ``max_seconds`` long, sampled
    at ``min_rate`` Hz or more. Raises RecordingTooLong, SampleRateTooLow, NoSound or
    NotAMediaFile before anything is decoded."""
    info = probe_media(path, scan_limit=max_seconds)
    if info.seconds > max_seconds:
        raise RecordingTooLong(
            f"The recording lasts {_length(info)}; the limit is {max_seconds:.0f} s. Upload a"
            " shorter sample."
        )
    _check_rate(info, min_rate, "recording")
    return info


def _length(info: MediaInfo) -> str:
    seconds = info.seconds
    if seconds >= 7200:
        text = f"{seconds / 3600:.1f} h"
    elif seconds >= 120:
        text = f"{seconds / 60:.0f} min"
    else:
        text = f"{seconds:.0f} s"
    return text if info.complete else f"more than {text}"
