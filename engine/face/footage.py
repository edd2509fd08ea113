"""Footage avatars: checks of the subject's own video, its still frame and its sound.

An avatar made from footage (one to five minutes of the subject speaking to the camera) keeps the
footage's own head motion, blinks and light; the footage face engine (``engine.face.rewrite``)
replaces only the mouth. Before that, ``check_footage`` refuses footage that cannot serve: too
short or long, several faces, a face that looks away or leaves, cuts, too dark. It samples frames
rather than reading every one with the face model, so a five-minute upload is checked in seconds.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs ffprobe and ffmpeg with argument lists, never through a shell
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.errors import (
    FootageHasCuts,
    FootageHasNoSound,
    FootageLooksAway,
    FootageSeveralFaces,
    FootageTooDark,
    FootageTooLong,
    FootageTooShort,
    NoFaceFound,
    NotAVideo,
)
from engine.face.enrollment import head_pose, measure_face
from engine.face.landmarks import MAX_PITCH_DEGREES, MAX_YAW_DEGREES, MIN_BRIGHTNESS
from engine.tools import require_tool

TOOL_SECONDS = 300.0
FACE_SAMPLES = 40  # frames the face model reads, spread over the footage
SAMPLE_HEIGHT = 360  # they are read at this height (the face model needs no more)
CUT_SIDE = 48  # frames are compared at 48 x 48 grey to find cuts
# A cut changes the whole picture at once: the mean change from one frame to the next (grey
# levels at 48 px) is over CUT_LEVELS and CUT_RATIO times the usual change around it. A talking
# head changes 0.5-3 levels a frame; a cut to another shot 20 and more.
CUT_LEVELS = 14.0
CUT_RATIO = 6.0
MAX_AWAY_SHARE = 0.2  # of sampled frames where the face is turned away or gone
MIN_FACE_SHARE = 0.2  # below this share of frames with a face: no face at all
MAX_SEVERAL_SHARE = 0.1  # of sampled frames that show more than one face


@dataclass(frozen=True)
class FootageReport:
    """What ``check_footage`` learnt: length (s), frame rate, frame size (px), sound."""

    seconds: float
    fps: float
    width: int
    height: int
    has_audio: bool


@dataclass(frozen=True)
class _Probe:
    seconds: float  # 0 when the container does not say (MediaRecorder's WebM)
    fps: float
    width: int
    height: int
    has_audio: bool
    nominal_fps: float = 0.0  # the stream's own rate (r_frame_rate), 0 when implausible


def _probe(path: Path) -> _Probe:
    if not path.is_file() or path.stat().st_size == 0:
        raise NotAVideo(f"The file {path.name} is missing or empty; upload the recording again.")
    cmd = [require_tool("ffprobe"), "-v", "error", "-print_format", "json"]
    cmd += ["-show_format", "-show_streams", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)  # nosec B603: an argument list with the tool's absolute path, no shell
        info = json.loads(proc.stdout or "{}") if proc.returncode == 0 else {}
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        info = {}
    streams = info.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video"]
    # A still image probes as a one-frame "video" stream: it has no duration and no frame rate.
    if not video or video[0].get("codec_name") in {"mjpeg", "png", "bmp", "gif", "webp"}:
        raise NotAVideo(
            f"The file {path.name} is not a video we can read; upload an MP4 or WebM recording."
        )
    stream = video[0]
    rate = stream.get("avg_frame_rate") or "0/0"
    if rate in ("0/0", ""):
        rate = stream.get("r_frame_rate") or "0/0"
    fps = float(Fraction(rate)) if rate not in ("0/0", "") else 0.0
    seconds = 0.0
    for value in ((info.get("format") or {}).get("duration"), stream.get("duration")):
        try:
            seconds = max(seconds, float(value))
        except (TypeError, ValueError):
            continue
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise NotAVideo(f"The file {path.name} has no picture we can read.")
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    nominal = _rate(stream.get("r_frame_rate"))
    return _Probe(
        seconds,
        fps if 0 < fps <= 240 else 0.0,
        width,
        height,
        has_audio,
        nominal if 0 < nominal <= 240 else 0.0,
    )


def _rate(text) -> float:
    try:
        return float(Fraction(text))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0.0


def _decode(path: Path, filters: str, width: int, height: int, channels: int) -> np.ndarray:
    """Frames through the ffmpeg ``filters`` (which must end at width x height), as an array
    (frames, height, width[, channels]) of uint8."""
    pix = "gray" if channels == 1 else "rgb24"
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path), "-an"]
    cmd += ["-vf", f"{filters},format={pix}", "-f", "rawvideo", "pipe:1"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TOOL_SECONDS, check=False)  # nosec B603: an argument list with the tool's absolute path, no shell
    except subprocess.TimeoutExpired as error:
        raise NotAVideo(f"The file {path.name} took too long to read.") from error
    size = width * height * channels
    if proc.returncode != 0 or len(proc.stdout) < size:
        raise NotAVideo(
            f"The file {path.name} is not a video we can read; upload an MP4 or WebM recording."
        )
    count = len(proc.stdout) // size
    frames = np.frombuffer(proc.stdout[: count * size], np.uint8)
    shape = (count, height, width) if channels == 1 else (count, height, width, channels)
    return frames.reshape(shape)


def _sample_size(probe: _Probe, height: int = SAMPLE_HEIGHT) -> tuple[int, int]:
    height = min(height, probe.height) // 2 * 2
    width = max(2, round(probe.width * height / probe.height) // 2 * 2)
    return width, height


def sample_frames(
    path: str | Path, count: int = FACE_SAMPLES, *, height: int = SAMPLE_HEIGHT
) -> tuple[list[np.ndarray], list[float]]:
    """About ``count`` RGB frames spread evenly over the video, at ``height`` pixels (or its own
    height when smaller), and the seconds at which each is shown."""
    path = Path(path)
    probe = _probe(path)
    seconds = probe.seconds or _measured_seconds(path, probe)
    width, height = _sample_size(probe, height)
    rate = max(count / max(seconds, 1e-3), 1e-3)
    frames = _decode(path, f"fps={rate:.6f},scale={width}:{height}", width, height, 3)
    times = [(i + 0.5) / rate for i in range(len(frames))]
    return list(frames), times


def _measured_seconds(path: Path, probe: _Probe) -> float:
    """The length of a video whose container does not say it: its frames counted at 8 px."""
    frames = _decode(path, "fps=25,scale=8:8", 8, 8, 1)
    return len(frames) / 25.0


def scan_rate(probe: _Probe) -> float:
    """The constant rate a video is read at: the higher of its average and nominal rates (a
    browser's recording drops frames, lowering the average), at most 30; 25 when neither is
    plausible. Frame i is then at i / rate seconds, whatever the recording's timing."""
    rates = [rate for rate in (probe.fps, probe.nominal_fps) if 5 <= rate <= 60]
    return float(min(30, round(max(rates)))) if rates else 25.0


@dataclass
class _Scan:
    """One pass over a video: frames sampled for the face model, the length, the cuts."""

    frames: list[np.ndarray]
    times: list[float]
    seconds: float
    cuts: list[float]


def _scan(path: Path, probe: _Probe, *, stop_after: float) -> _Scan:
    """Read every frame once at SAMPLE_HEIGHT and scan_rate: keep about FACE_SAMPLES spread
    evenly (every k-th frame, k doubling as the video goes on, so a length the container does
    not say needs no second pass) and compare each with the last at CUT_SIDE px grey for cuts.
    Stops after ``stop_after`` seconds (a video too long to accept is not read to its end)."""
    import cv2

    rate = scan_rate(probe)
    width, height = _sample_size(probe)
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path), "-an", "-vf"]
    cmd += [f"fps={rate:g}:start_time=0,scale={width}:{height},format=rgb24"]
    cmd += ["-f", "rawvideo", "pipe:1"]
    size = width * height * 3
    kept: list[tuple[int, np.ndarray]] = []
    stride, count, previous = 1, 0, None
    changes: list[float] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:  # nosec B603: an argument list with the tool's absolute path, no shell
        try:
            while count < stop_after * rate:
                data = proc.stdout.read(size)
                if len(data) < size:
                    break
                frame = np.frombuffer(data, np.uint8).reshape(height, width, 3)
                grey = cv2.resize(
                    cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (CUT_SIDE, CUT_SIDE),
                    interpolation=cv2.INTER_AREA,
                ).astype(np.float32)  # fmt: skip
                if previous is not None:
                    changes.append(float(np.abs(grey - previous).mean()))
                previous = grey
                if count % stride == 0:
                    kept.append((count, frame))
                    if len(kept) > 2 * FACE_SAMPLES:  # keep every other one from now on
                        kept, stride = kept[::2], stride * 2
                count += 1
        finally:
            proc.stdout.close()
            proc.kill()
    if count == 0:
        raise NotAVideo(
            f"The file {path.name} is not a video we can read; upload an MP4 or WebM recording."
        )
    chosen = kept[:: max(1, len(kept) // FACE_SAMPLES)]
    return _Scan(
        frames=[frame for _, frame in chosen],
        times=[index / rate for index, _ in chosen],
        seconds=count / rate,
        cuts=_cut_times(np.array(changes), rate),
    )


def _cut_times(change: np.ndarray, rate: float) -> list[float]:
    """Seconds at which the picture changes all at once (an edit): ``change`` is the mean grey
    change from each frame to the next at CUT_SIDE px."""
    cuts = []
    for i, value in enumerate(change):
        around = np.concatenate([change[max(0, i - 6) : i], change[i + 1 : i + 7]])
        usual = float(np.median(around)) if len(around) else 0.0
        if value > CUT_LEVELS and value > CUT_RATIO * max(usual, 0.5):
            cuts.append((i + 1) / rate)
    return cuts


@dataclass
class _Look:
    """One sampled frame as the face model saw it."""

    faces: int
    landmarks: np.ndarray | None  # 478 x 2 pixels in the sampled frame
    yaw: float = 0.0
    pitch: float = 0.0
    brightness: float = 0.0


def _look(rgb: np.ndarray) -> _Look:
    from engine.face.landmarks import find_faces

    count, found = find_faces(np.ascontiguousarray(rgb))
    if count != 1 or len(found) != 1:
        return _Look(count, None)
    points = found[0]
    yaw, pitch = head_pose(points)
    return _Look(1, points, yaw, pitch, measure_face(rgb, points).brightness)


def check_footage(
    path: str | Path, *, min_seconds: float = 60.0, max_seconds: float = 300.0
) -> FootageReport:
    """Check that a video can make a footage avatar and say what it is.

    Raises NotAVideo, FootageTooShort, FootageTooLong, NoFaceFound, FootageSeveralFaces,
    FootageLooksAway, FootageTooDark or FootageHasCuts, each with a one-line message a subject can
    act on. Reads about FACE_SAMPLES frames with the face model and every frame at 48 px for cuts.
    """
    path = Path(path)
    probe = _probe(path)
    if probe.seconds:  # said by the container: refuse before reading a frame
        _check_length(probe.seconds, min_seconds, max_seconds)
    scan = _scan(path, probe, stop_after=max_seconds + 1.0)
    seconds = probe.seconds or scan.seconds
    _check_length(seconds, min_seconds, max_seconds)
    frames, times = scan.frames, scan.times
    looks = [_look(frame) for frame in frames]
    if not looks:
        raise NotAVideo(f"No frame of {path.name} could be read; upload the recording again.")
    share = 1.0 / len(looks)
    several = [t for t, look in zip(times, looks, strict=True) if look.faces > 1]
    if len(several) * share > MAX_SEVERAL_SHARE:
        raise FootageSeveralFaces(
            f"Another face is in view (first at {several[0]:.0f} s); record the footage with only"
            " you in the picture."
        )
    seen = [look for look in looks if look.landmarks is not None]
    if len(seen) * share < MIN_FACE_SHARE:
        raise NoFaceFound(
            "No face was found in most of the footage; record yourself facing the camera, your"
            " face well lit and in the middle of the picture."
        )
    away = [
        t
        for t, look in zip(times, looks, strict=True)
        if look.landmarks is None
        or abs(look.yaw) > MAX_YAW_DEGREES
        or abs(look.pitch) > MAX_PITCH_DEGREES
    ]
    if len(away) * share > MAX_AWAY_SHARE:
        raise FootageLooksAway(
            f"The face turns away from the camera or leaves the picture in"
            f" {100 * len(away) * share:.0f}% of the footage (first at {away[0]:.0f} s); record"
            " it looking straight at the camera throughout."
        )
    brightness = float(np.median([look.brightness for look in seen]))
    if brightness < MIN_BRIGHTNESS:
        raise FootageTooDark(
            "The face is too dark in the footage; record it facing a window or a lamp, in"
            " brighter, even light."
        )
    cuts = scan.cuts
    if cuts:
        raise FootageHasCuts(
            f"The footage has a cut at {cuts[0]:.1f} s; upload one continuous take without edits."
        )
    return FootageReport(
        seconds=round(seconds, 3),
        fps=round(probe.fps or scan_rate(probe), 3),
        width=probe.width,
        height=probe.height,
        has_audio=probe.has_audio,
    )


def _check_length(seconds: float, min_seconds: float, max_seconds: float) -> None:
    if seconds < min_seconds:
        raise FootageTooShort(
            f"The footage is {seconds:.0f} seconds long; record at least {min_seconds:.0f} seconds"
            " of yourself speaking to the camera."
        )
    if seconds > max_seconds:
        raise FootageTooLong(
            f"The footage is {seconds / 60:.1f} minutes long; upload at most"
            f" {max_seconds / 60:.0f} minutes."
        )


def eye_openness(points: np.ndarray) -> float:
    """Lid gap of both eyes over the eye-corner distance (about 0.25-0.35 open, under 0.1 shut)."""
    import engine.face.topology as T

    gaps = []
    for upper, lower in (
        (T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER),
        (T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER),
    ):
        span = np.linalg.norm(points[upper[0]] - points[upper[-1]])
        gap = np.linalg.norm(points[upper[3:6]] - points[lower[3:6]], axis=1).mean()
        gaps.append(gap / max(span, 1e-6))
    return float(np.mean(gaps))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap at the middle over the eye-corner distance (0 closed, ~0.3 wide open)."""
    span = np.linalg.norm(points[263] - points[33])
    gap = np.linalg.norm(points[[81, 13, 311]] - points[[178, 14, 402]], axis=1).mean()
    return float(gap / max(span, 1e-6))


def still_frame(path: str | Path) -> np.ndarray:
    """The footage's picture: an RGB uint8 frame at its own size in which the face looks at the
    camera, the eyes are open and the mouth is closed (the avatar's still, the identity check
    against the consent clip, the poster). NoFaceFound when no sampled frame shows one face."""
    path = Path(path)
    probe = _probe(path)
    frames, _ = sample_frames(path, FACE_SAMPLES, height=probe.height)
    best, best_score = None, -np.inf
    for frame in frames:
        look = _look(frame)
        if look.landmarks is None:
            continue
        # Facing the camera matters most; then open eyes; then a closed mouth.
        score = (
            -abs(look.yaw) / 10
            - abs(look.pitch) / 10
            + 4 * min(eye_openness(look.landmarks), 0.3)
            - 8 * mouth_opening(look.landmarks)
        )
        if score > best_score:
            best, best_score = frame, score
    if best is None:
        raise NoFaceFound(f"No face was found in the footage {path.name}.")
    return np.ascontiguousarray(best)


def footage_audio(path: str | Path, out_wav: str | Path, rate: int = 16000) -> str:
    """The footage's sound as mono 16-bit WAV at ``rate`` Hz in ``out_wav``; returns its path.
    FootageHasNoSound when the video has no sound track, NotAVideo when it cannot be read."""
    path, out_wav = Path(path), Path(out_wav)
    probe = _probe(path)
    if not probe.has_audio:
        raise FootageHasNoSound(
            f"The footage {path.name} has no sound; record it again with the microphone on."
        )
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-y", "-i", str(path), "-vn"]
    cmd += ["-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(out_wav)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TOOL_SECONDS, check=False)  # nosec B603: an argument list with the tool's absolute path, no shell
    except subprocess.TimeoutExpired as error:
        raise NotAVideo(f"The sound of {path.name} took too long to read.") from error
    if proc.returncode != 0 or not out_wav.is_file():
        raise NotAVideo(f"The sound of {path.name} cannot be read; upload the recording again.")
    return str(out_wav)
