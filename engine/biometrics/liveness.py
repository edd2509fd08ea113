"""Liveness of a consent clip: a live person on camera says the words heard, and does what the
page asked at the moment it asked.

Two checks over every frame of the clip (its own frame rate, at most MAX_FPS):

- **Lip sync.** Per frame, the mouth opening (gap between the inner lips over the distance
  between the eyes, from MediaPipe FaceMesh landmarks) and the speech envelope of the sound at
  the same instant (level in the speech band, dB above its floor). While the subject speaks the
  mouth must move (MIN_MOUTH_MOTION) and follow the sound (Pearson correlation at the best lag
  within ±MAX_LAG_FRAMES at least MIN_LIP_SYNC_CORRELATION, and better than at any lag up to
  STEP_SEARCH_SECONDS away). A photo held still, or moved by hand in
  front of the camera, keeps its mouth shape relative to the eyes and fails; a face whose mouth
  moves with other sound (a dub, or the right sound played late) fails the correlation.
- **Active challenge.** The ceremony page shows "Blink now" at a random moment while the subject
  reads (``random_challenge``). Blinks are dips of the eye aspect ratio below its running
  baseline that close and reopen within MAX_BLINK_SECONDS; one must start within the challenge's
  window (REACTION_MIN_SECONDS .. REACTION_MAX_SECONDS after the prompt).

FaceMesh looks for the face on every frame on its own (no smoothing over time, which would delay
blinks and the mouth).
"""

from __future__ import annotations

import math
import random
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.biometrics.bounds import MAX_CLIP_SECONDS
from engine.errors import EngineError
from engine.tools import require_tool

# -- the active challenge ------------------------------------------------------------------------

BLINK = "blink"
CHALLENGE_KINDS = (BLINK,)
# When the prompt shows, in seconds after the recording starts: while the subject reads (the
# challenge sentence takes 4-8 s), late enough that the page is settled.
CHALLENGE_EARLIEST_SECONDS = 1.5
CHALLENGE_LATEST_SECONDS = 4.0
# The blink must START in [at + REACTION_MIN, at + REACTION_MAX]: nobody reacts to a prompt
# faster than ~150 ms, and two seconds is ample to see it and blink while reading.
REACTION_MIN_SECONDS = 0.15
REACTION_MAX_SECONDS = 2.0


@dataclass(frozen=True)
class LivenessChallenge:
    """What the page asked and when: ``kind`` ("blink") shown ``at_seconds`` after the
    recording started."""

    kind: str
    at_seconds: float

    def __post_init__(self):
        if self.kind not in CHALLENGE_KINDS:
            raise ValueError(f"Unknown liveness challenge '{self.kind}'; known: blink.")
        if not math.isfinite(self.at_seconds) or self.at_seconds < 0:
            raise ValueError("A liveness challenge's time must be a non-negative number.")

    @property
    def window(self) -> tuple[float, float]:
        """Seconds of the clip in which the asked blink must start."""
        return self.at_seconds + REACTION_MIN_SECONDS, self.at_seconds + REACTION_MAX_SECONDS

    def to_dict(self) -> dict:
        return {"kind": self.kind, "at_seconds": round(float(self.at_seconds), 3)}

    @classmethod
    def from_dict(cls, data: dict) -> LivenessChallenge:
        """The challenge stored by ``to_dict``; ValueError when it is not one."""
        try:
            return cls(kind=str(data["kind"]), at_seconds=float(data["at_seconds"]))
        except (KeyError, TypeError) as error:
            raise ValueError("A liveness challenge needs a kind and at_seconds.") from error


def random_challenge(rng: random.Random | np.random.Generator | None = None) -> LivenessChallenge:
    """A blink asked at a moment drawn uniformly from the reading time (see the constants)."""
    rng = rng or random.SystemRandom()
    at = float(rng.uniform(CHALLENGE_EARLIEST_SECONDS, CHALLENGE_LATEST_SECONDS))
    return LivenessChallenge(kind=BLINK, at_seconds=round(at, 2))


# -- measuring the clip --------------------------------------------------------------------------

MAX_FPS = 15.0  # every frame of the clip, but no more than this many a second
MAX_WIDTH = 480  # frames are scaled down to this width before landmarks
SPEECH_BAND_HZ = (250.0, 3500.0)

# MediaPipe FaceMesh indices (Apache-2.0 model inside the mediapipe wheel, as the warp engine
# uses; dlib's 68-point model is trained on data whose terms exclude commercial use). Each eye's
# six points in the order of the eye aspect ratio: outer corner, two upper lid points, inner
# corner, two lower lid points.
_RIGHT_EYE = [33, 160, 158, 133, 153, 144]
_LEFT_EYE = [362, 385, 387, 263, 373, 380]
_INNER_LIP_PAIRS = [(82, 87), (13, 14), (312, 317)]  # upper / lower inner lip, left to right
# How sure FaceMesh must be that a face is there, and that it still follows it.
MIN_DETECTION_CONFIDENCE = 0.5
MIN_TRACKING_CONFIDENCE = 0.5


class NoFaceToTrack(EngineError):
    default_message = "No face could be followed through the clip; record again facing the camera."


@dataclass
class FaceTrack:
    """Per-frame measures of the largest face; NaN where no face was found."""

    fps: float
    times: np.ndarray  # seconds on the clip's clock (where the recording started)
    mouth: np.ndarray  # inner-lip gap / distance between the eye centres
    eyes: np.ndarray  # eye aspect ratio, mean of both eyes
    centre: np.ndarray  # (frames, 2) mean landmark position / eye distance of the first face
    scale: np.ndarray  # eye distance in pixels
    frames_rgb: list[tuple[float, np.ndarray]] = field(default_factory=list)  # kept for matching

    @property
    def found(self) -> np.ndarray:
        return np.isfinite(self.mouth)


def _eye_aspect_ratio(points: np.ndarray) -> float:
    """(|p1-p5| + |p2-p4|) / (2 |p0-p3|) of one eye's six points (Soukupová and Čech 2016)."""
    p = points
    vertical = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    return float(vertical / (2.0 * max(np.linalg.norm(p[0] - p[3]), 1e-6)))


def face_measures(points: np.ndarray) -> tuple[float, float, float]:
    """(mouth opening, eye aspect ratio, eye distance in px) from FaceMesh landmarks."""
    eye_distance = float(
        np.linalg.norm(points[_RIGHT_EYE].mean(axis=0) - points[_LEFT_EYE].mean(axis=0))
    )
    gap = np.mean([np.linalg.norm(points[a] - points[b]) for a, b in _INNER_LIP_PAIRS])
    ear = (_eye_aspect_ratio(points[_RIGHT_EYE]) + _eye_aspect_ratio(points[_LEFT_EYE])) / 2
    return float(gap / max(eye_distance, 1e-6)), ear, eye_distance


def analysis_fps(clip_fps: float | None) -> float:
    """Frames a second to measure: the clip's own, at most MAX_FPS (MAX_FPS when unknown)."""
    return min(MAX_FPS, clip_fps) if clip_fps and clip_fps >= 1 else MAX_FPS


def _ppm_frames(stream):
    """RGB arrays from a stream of binary PPM images (ffmpeg's image2pipe)."""
    while True:
        magic = stream.readline()
        if not magic:
            return
        if magic.strip() != b"P6":
            raise NoFaceToTrack("The clip's picture cannot be decoded; record it again.")
        width, height = map(int, stream.readline().split())
        stream.readline()  # 255
        data = stream.read(width * height * 3)
        if len(data) < width * height * 3:
            return
        yield np.frombuffer(data, np.uint8).reshape(height, width, 3)


def _face_tracker():
    """A FaceMesh that finds the face on every frame on its own: in video mode it smooths the
    landmarks over time, which moved blink starts a frame or two late (measured +0.1 s)."""
    from engine.face.landmarks import _mediapipe

    mp = _mediapipe()
    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True,
        max_num_faces=1,
        refine_landmarks=True,
        min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        min_tracking_confidence=MIN_TRACKING_CONFIDENCE,
    )


def track_face(
    clip: str | Path,
    *,
    fps: float | None = None,
    max_seconds: float = MAX_CLIP_SECONDS,
    keep_every_seconds: float | None = None,
    start: float | None = None,
) -> FaceTrack:
    """Landmark measures of the face on every frame (at ``fps``, default the clip's own capped
    at MAX_FPS), decoding at most ``max_seconds``. Frame times are on the container's clock, from
    the picture's ``start`` (read from the clip when not given). With ``keep_every_seconds`` the
    RGB frames at that spacing are kept too (for identity checks, without decoding again)."""
    if not fps or start is None:
        from engine.biometrics.bounds import probe_media

        media = probe_media(clip)
        fps = fps or analysis_fps(media.fps)
        start = media.video_start if start is None else start
    # Frame i is the picture at start + i / fps: timestamps from the first frame, whatever
    # the clock of the container (ffmpeg would otherwise fill a late picture's start).
    scale = f"scale='min({MAX_WIDTH},iw)':-2"
    command = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(clip), "-an"]
    command += ["-t", f"{max_seconds:.3f}", "-vf", f"setpts=PTS-STARTPTS,fps={fps},{scale}"]
    command += ["-f", "image2pipe", "-vcodec", "ppm", "pipe:1"]
    rows: list[tuple[float, float, float, float, float]] = []  # mouth, eyes, x, y, eye distance
    kept: list[tuple[float, np.ndarray]] = []
    next_kept = 0.0
    with (
        _face_tracker() as tracker,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc,  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    ):
        try:
            for index, rgb in enumerate(_ppm_frames(proc.stdout)):
                now = index / fps
                if keep_every_seconds and now + 1e-6 >= next_kept:
                    kept.append((now, rgb))
                    next_kept += keep_every_seconds
                found = tracker.process(rgb).multi_face_landmarks
                if not found:
                    rows.append((np.nan,) * 5)
                    continue
                height, width = rgb.shape[:2]
                points = np.array(
                    [[p.x * width, p.y * height] for p in found[0].landmark], np.float64
                )
                opening, ear, distance = face_measures(points)
                rows.append((opening, ear, *points.mean(axis=0), distance))
        finally:
            if proc.poll() is None:
                proc.kill()
    table = np.array(rows, dtype=np.float64).reshape(-1, 5)
    scale = table[:, 4]
    reference = np.nanmedian(scale) if np.isfinite(scale).any() else 1.0
    return FaceTrack(
        fps=float(fps),
        times=start + np.arange(len(table)) / fps,
        mouth=table[:, 0],
        eyes=table[:, 1],
        centre=table[:, 2:4] / reference,
        scale=scale,
        frames_rgb=kept,
    )


def speech_levels(samples: np.ndarray, rate: int, times: np.ndarray, fps: float) -> np.ndarray:
    """Level (dBFS) of the speech band in a Hann window of two frames centred on each time."""
    window = max(32, round(2 * rate / fps))
    taper = np.hanning(window).astype(np.float32)
    padded = np.concatenate(
        [
            np.zeros(window, np.float32),
            np.asarray(samples, np.float32),
            np.zeros(window, np.float32),
        ]
    )
    starts = np.round(times * rate).astype(int) + window - window // 2
    starts = np.clip(starts, 0, len(padded) - window)
    chunks = padded[starts[:, None] + np.arange(window)[None, :]] * taper
    freqs = np.fft.rfftfreq(window, 1.0 / rate)
    band = (freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])
    power = np.abs(np.fft.rfft(chunks, axis=1))[:, band] ** 2
    energy = power.sum(axis=1) / (window * float((taper**2).sum()))
    return 10.0 * np.log10(energy + 1e-12)


# -- judging -------------------------------------------------------------------------------------

# Speech: frames whose speech-band level is within SPEECH_RANGE_DB of the clip's loud speech and
# SPEECH_ABOVE_FLOOR_DB above its quiet floor.
SPEECH_RANGE_DB = 25.0
SPEECH_ABOVE_FLOOR_DB = 10.0
MIN_SPEECH_PEAK_DBFS = -55.0
ENVELOPE_RANGE_DB = 30.0  # the envelope compared with the mouth: dB above (loud - this)
SPOKEN_MARGIN_SECONDS = 0.25  # the spoken part runs from first to last speech, plus this
MIN_FACE_SHARE = 0.8  # of the spoken part's frames with a face

# Measured on clips the tests make (tests/liveness_media.py: the warp rig on the astronaut at
# 320 px, 15 fps, VP8/Opus, mouth opening with each syllable's loudness; festival speech):
# - lip-sync correlation (FaceMesh landmarks on each frame, 4-6 sentences): live 0.87-0.94; a
#   still photo 0.10-0.49 and a photo tilted with each syllable 0.67-0.86 (both stopped by
#   mouth motion below); the clip's own sound 1 s late 0.09-0.59 in step (caught by
#   STEP_SEARCH_SECONDS below). Measured with dlib's 68 points before: the mouth of one challenge
#   sentence under the sound of another recording 0.04-0.41 (5 Harvard pairs x 8, and one
#   more). The challenge sentences share one rhythm (same template, same syllable counts), so
#   the mouth of ONE challenge sentence dubbed with ANOTHER scored 0.11-0.78: lip sync alone
#   cannot tell such a dub apart; the sentence heard and the active challenge (a blink at a
#   random moment) are what a replay cannot do. Real faces on webcams correlate less than the
#   rig (audiovisual-speech studies report mouth area vs envelope around 0.3-0.6): 0.45 is set
#   between the two and may send some live subjects to review. Measure on real recordings
#   before tightening it.
MAX_LAG_FRAMES = 2  # 133 ms at 15 fps: the mouth may lead or trail the sound that much
# A mouth in step matches its sound better than at any other lag: searched up to this far. Live
# clips match best in step (0.87-0.93) and at most 0.37 elsewhere; a mouth 0.4 s or 1 s behind
# its own sound matches 0.83-0.93 at its lag while in step it can reach 0.56 (6 sentences).
STEP_SEARCH_SECONDS = 1.2
MIN_LIP_SYNC_CORRELATION = 0.45
# - mouth motion (standard deviation of the opening while speaking, in eye distances; FaceMesh
#   inner lips over its eye centres, 4 sentences): a still photo 0.002-0.003, a photo moved by
#   hand (drift, shake, +-4 degrees, +-11 % zoom pulsing with the voice) 0.003-0.005, a photo
#   tilted towards a wide-angle webcam and back with each syllable (perspective, 8-15 degrees)
#   0.004-0.008, live 0.027-0.036; a real reading mouth moves more than the rig's.
MIN_MOUTH_MOTION = 0.012
# - face motion (standard deviation of the landmarks' centre in eye distances, plus that of the
#   log of the eye distance): still 0.005, live with its small head sway 0.025, hand-moved 0.21.
#   Only chooses the message: a moving face whose mouth does not move is a photo moved by hand.
HAND_MOVED_FACE_MOTION = 0.05

# Blinks (eye aspect ratio): with FaceMesh the rig's closing eyes read 0.72 of the running
# median on the first frame and 0.40-0.43 closed, open eyes at most 0.05 below it. Measured
# with dlib's 68 points first (closed 0.34-0.39, open jitter 0.12, drop 0.3): blinks of 150,
# 250 and 350 ms in clips at 15 and 30 fps, at 6 moments each, 36 of 36 found, their start
# 0.01 s early to 0.08 s late; none found anywhere else but in a photo tilted back and forth
# (its eyes foreshorten), which fails on its mouth. With FaceMesh and drop 0.2 the blink tests
# find every blink within 0.1 s of its start and none in the still, hand-moved or tilted clips.
BLINK_DROP = 0.2  # eye aspect ratio below (1 - this) x its running median: closed
BASELINE_SECONDS = 1.5
MIN_BLINK_SECONDS = 0.08  # as far as the frame rate resolves it: one frame at 15 fps
MAX_BLINK_SECONDS = 0.5

SKIPPED = "skipped: no challenge timing given"


@dataclass
class LivenessReport:
    """What the clip showed. ``challenge``: the challenge asked (with its window) or SKIPPED;
    ``challenge_passed`` None when skipped. Mouth measures are shares of the eye distance."""

    lip_sync_correlation: float | None
    lip_sync_lag_frames: int | None  # > 0: the sound follows the mouth
    mouth_motion: float | None  # standard deviation of the opening while speaking
    mouth_motion_in_silence: float | None
    face_motion: float | None  # how far the whole face moved (eye distances, standard deviation)
    blinks: list[float]  # start times, seconds
    challenge: dict | str
    challenge_passed: bool | None
    fps: float
    frames: int
    face_frames: int
    speech_frames: int
    thresholds: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    seconds_taken: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def thresholds(
    min_correlation: float = MIN_LIP_SYNC_CORRELATION, min_motion: float = MIN_MOUTH_MOTION
) -> dict:
    return {
        "min_lip_sync_correlation": min_correlation,
        "max_lag_frames": MAX_LAG_FRAMES,
        "min_mouth_motion": min_motion,
        "blink_seconds": [MIN_BLINK_SECONDS, MAX_BLINK_SECONDS],
        "reaction_seconds": [REACTION_MIN_SECONDS, REACTION_MAX_SECONDS],
    }


def speech_frames(levels: np.ndarray) -> np.ndarray:
    """Which frames hold speech (see SPEECH_RANGE_DB); none when the clip is silent."""
    if len(levels) == 0:
        return np.zeros(0, bool)
    loud, floor = np.percentile(levels, 95), np.percentile(levels, 10)
    if loud < MIN_SPEECH_PEAK_DBFS:
        return np.zeros(len(levels), bool)
    return (levels > loud - SPEECH_RANGE_DB) & (levels > floor + SPEECH_ABOVE_FLOOR_DB)


def _filled(values: np.ndarray) -> np.ndarray:
    """NaN gaps filled linearly from their neighbours."""
    good = np.isfinite(values)
    if good.all() or not good.any():
        return values
    index = np.arange(len(values))
    return np.interp(index, index[good], values[good])


def _correlation_at(mouth: np.ndarray, envelope: np.ndarray, lag: int) -> float | None:
    m = mouth[max(0, -lag) : len(mouth) - max(0, lag)]
    e = envelope[max(0, lag) : len(envelope) - max(0, -lag)]
    if len(m) < 3 or np.std(m) < 1e-9 or np.std(e) < 1e-9:
        return None  # neither signal varies: nothing to correlate
    return float(np.corrcoef(m, e)[0, 1])


def lip_sync(mouth: np.ndarray, envelope: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Best Pearson correlation of mouth and envelope over lags -max_lag..max_lag (frames), and
    that lag (> 0: the sound comes after the mouth)."""
    best, best_lag = None, 0
    for lag in range(-max_lag, max_lag + 1):
        r = _correlation_at(mouth, envelope, lag)
        if r is not None and (best is None or r > best):
            best, best_lag = r, lag
    return (0.0, 0) if best is None else (best, best_lag)


def out_of_step(mouth: np.ndarray, envelope: np.ndarray, max_lag: int, search: int):
    """(correlation, lag) of the best match of mouth and envelope at lags beyond ``max_lag`` and
    within ``search`` frames: where a mouth that moves to the same words, but earlier or later
    than the sound (a dub, a replay out of step), matches best."""
    best, best_lag = None, 0
    for lag in [*range(-search, -max_lag), *range(max_lag + 1, search + 1)]:
        r = _correlation_at(mouth, envelope, lag)
        if r is not None and (best is None or r > best):
            best, best_lag = r, lag
    return (0.0, 0) if best is None else (best, best_lag)


def _rolling_median(values: np.ndarray, width: int) -> np.ndarray:
    half = max(1, width // 2)
    out = np.full(len(values), np.nan)
    for i in range(len(values)):
        part = values[max(0, i - half) : i + half + 1]
        part = part[np.isfinite(part)]
        if len(part):
            out[i] = np.median(part)
    return out


def detect_blinks(eyes: np.ndarray, fps: float) -> list[float]:
    """Start times (s) of blinks: runs of frames whose eye aspect ratio drops BLINK_DROP below its
    running median, lasting MIN_BLINK_SECONDS..MAX_BLINK_SECONDS, with open eyes on both sides."""
    baseline = _rolling_median(eyes, round(BASELINE_SECONDS * fps))
    with np.errstate(invalid="ignore"):
        closed = eyes < baseline * (1.0 - BLINK_DROP)
    shortest = max(1, int(MIN_BLINK_SECONDS * fps))
    longest = max(shortest, round(MAX_BLINK_SECONDS * fps))
    starts, index = [], 0
    while index < len(closed):
        if not closed[index]:
            index += 1
            continue
        end = index
        while end < len(closed) and closed[end]:
            end += 1
        opened_before = index > 0 and np.isfinite(eyes[index - 1])
        opened_after = end < len(closed) and np.isfinite(eyes[end])
        if opened_before and opened_after and shortest <= end - index <= longest:
            starts.append(round(max(0.0, (index - 0.5) / fps), 3))  # the crossing, half a frame
        index = end
    return starts


def judge_liveness(
    track: FaceTrack,
    samples: np.ndarray,
    rate: int,
    challenge: LivenessChallenge | None = None,
    *,
    min_correlation: float = MIN_LIP_SYNC_CORRELATION,
    min_motion: float = MIN_MOUTH_MOTION,
    audio_start: float = 0.0,
) -> LivenessReport:
    """The report on a clip from its face track and its sound (mono float samples beginning at
    ``audio_start`` seconds on the clip's clock, so that picture and sound line up)."""
    started = time.perf_counter()
    fps, frames = track.fps, len(track.times)
    at = track.times - audio_start
    levels = speech_levels(samples, rate, at, fps) if frames else np.zeros(0)
    speaking = speech_frames(levels)
    found = track.found
    reasons: list[str] = []
    correlation = lag = motion = silent_motion = face_motion = None

    if found.any():
        centre = track.centre[found]
        spread = float(np.sqrt(np.var(centre[:, 0]) + np.var(centre[:, 1])))
        face_motion = spread + float(np.std(np.log(track.scale[found])))
    if not found.any():
        reasons.append(
            "No face could be followed through the clip; record again facing the camera, in good"
            " light."
        )
    elif not speaking.any():
        reasons.append("No speech was heard to compare the mouth with; read the sentence aloud.")
    else:
        first, last = np.flatnonzero(speaking)[[0, -1]]
        margin = round(SPOKEN_MARGIN_SECONDS * fps)
        part = slice(max(0, first - margin), min(frames, last + margin + 1))
        share = float(found[part].mean())
        mouth = _filled(track.mouth)
        loud = float(np.percentile(levels, 95))
        envelope = np.clip(levels - (loud - ENVELOPE_RANGE_DB), 0.0, ENVELOPE_RANGE_DB)
        motion = float(np.std(mouth[speaking]))
        quiet = ~speaking & found
        silent_motion = float(np.std(mouth[quiet])) if quiet.sum() >= 3 else None
        correlation, lag = lip_sync(mouth[part], envelope[part], MAX_LAG_FRAMES)
        search = max(MAX_LAG_FRAMES + 1, round(STEP_SEARCH_SECONDS * fps))
        shifted, shift = out_of_step(mouth[part], envelope[part], MAX_LAG_FRAMES, search)
        if share < MIN_FACE_SHARE:
            reasons.append(
                f"The face was seen in only {share:.0%} of the frames while the sentence was"
                f" spoken; at least {MIN_FACE_SHARE:.0%} are needed. Keep your face in view."
            )
        elif motion < min_motion:
            if face_motion is not None and face_motion > HAND_MOVED_FACE_MOTION:
                reasons.append(
                    f"The face moves but its mouth does not (mouth motion {motion:.3f}, at least"
                    f" {min_motion:.3f}): a photo moved in front of the camera cannot give"
                    " consent. Record yourself reading the sentence aloud."
                )
            else:
                reasons.append(
                    f"The mouth does not move while the sentence is heard (mouth motion"
                    f" {motion:.3f}, at least {min_motion:.3f}): a still photo cannot give"
                    " consent. Record yourself reading the sentence aloud."
                )
        elif correlation < min_correlation:
            reasons.append(
                f"The mouth does not move with the voice (lip-sync correlation"
                f" {correlation:.2f}, at least {min_correlation:.2f}): the sound must be"
                " you speaking on camera, recorded together."
            )
        elif shifted > correlation:
            reasons.append(
                f"The mouth moves with the voice {abs(shift) / fps:.2f} s out of step"
                f" (lip-sync correlation {shifted:.2f} there, {correlation:.2f} in step): the"
                " sound must be you speaking on camera, recorded together."
            )

    offset = float(track.times[0]) if frames else 0.0
    blinks = [round(t + offset, 3) for t in detect_blinks(track.eyes, fps)] if frames else []
    if challenge is None:
        asked, passed = SKIPPED, None
    else:
        low, high = challenge.window
        tolerance = 0.5 / fps  # a start time is known to half a frame
        passed = any(low - tolerance <= t <= high + tolerance for t in blinks)
        asked = {**challenge.to_dict(), "window": [round(low, 3), round(high, 3)]}
        if not passed:
            seen = ", ".join(f"{t:.1f} s" for t in blinks) or "none"
            reasons.append(
                f"The blink asked for at {challenge.at_seconds:.1f} s was not seen: none started"
                f" between {low:.1f} s and {high:.1f} s (blinks seen: {seen}). Record again and"
                " blink when the page asks."
            )

    def rounded(value, digits=3):
        return None if value is None else round(float(value), digits)

    return LivenessReport(
        lip_sync_correlation=rounded(correlation),
        lip_sync_lag_frames=lag,
        mouth_motion=rounded(motion, 4),
        mouth_motion_in_silence=rounded(silent_motion, 4),
        face_motion=rounded(face_motion, 4),
        blinks=blinks,
        challenge=asked,
        challenge_passed=passed,
        fps=round(fps, 3),
        frames=frames,
        face_frames=int(found.sum()),
        speech_frames=int(speaking.sum()),
        thresholds=thresholds(min_correlation, min_motion),
        reasons=reasons,
        seconds_taken=round(time.perf_counter() - started, 3),
    )


def clip_samples(clip: str | Path, max_seconds: float = MAX_CLIP_SECONDS) -> np.ndarray:
    """The clip's sound as 16 kHz mono float samples (at most ``max_seconds``)."""
    from engine.biometrics import phrase

    pcm = phrase.pcm16_mono(clip, max_seconds=max_seconds)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768


def check_liveness(
    clip: str | Path,
    *,
    challenge: LivenessChallenge | None = None,
    max_seconds: float = MAX_CLIP_SECONDS,
) -> LivenessReport:
    """Lip sync over every frame and, when ``challenge`` is given, the asked blink. The clip's
    bounds are checked first (``bounds.check_clip_bounds``, which raises before any decoding)."""
    from engine.biometrics import phrase
    from engine.biometrics.bounds import check_clip_bounds

    started = time.perf_counter()
    media = check_clip_bounds(clip, max_seconds=max_seconds)
    samples = clip_samples(clip, max_seconds)
    track = track_face(
        clip, fps=analysis_fps(media.fps), max_seconds=max_seconds, start=media.video_start
    )
    report = judge_liveness(track, samples, phrase.RATE, challenge, audio_start=media.audio_start)
    report.seconds_taken = round(time.perf_counter() - started, 3)
    return report
