"""Checks of a consent clip: the subject, alone and live on camera, read the challenge sentence in
their own voice. Plain data in (paths, the sentence, the liveness challenge), scores and reasons
out; no Django.

Order: the container's bounds (``bounds.check_clip_bounds``: length, sample rate, picture and
sound, before anything is decoded), then the sound (sentence, voice), then every frame once
(liveness, ``liveness.track_face``), of which a frame every half second is kept for the face.
"""

from __future__ import annotations

import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.biometrics import face as faces
from engine.biometrics import liveness, phrase, speaker
from engine.biometrics.bounds import (
    MAX_CLIP_SECONDS,
    CorruptClip,
    check_audio_bounds,
    check_clip_bounds,
)
from engine.biometrics.liveness import LivenessChallenge
from engine.errors import EngineError
from engine.tools import require_tool

MIN_SINGLE_FACE_RATIO = 0.8  # "exactly one face in most frames"
MIN_CLIP_SECONDS = 1.5
FRAMES_PER_SECOND = 2.0  # frames compared with the reference photo
MAX_FRAMES = 30

__all__ = ["ClipCheck", "CorruptClip", "Thresholds", "check_consent_clip", "screen_clip"]


@dataclass
class Thresholds:
    max_word_error_rate: float = phrase.MAX_WORD_ERROR_RATE
    max_face_distance: float = faces.MATCH_DISTANCE
    min_voice_similarity: float = speaker.MATCH_SIMILARITY
    min_single_face_ratio: float = MIN_SINGLE_FACE_RATIO
    min_lip_sync_correlation: float = liveness.MIN_LIP_SYNC_CORRELATION
    min_mouth_motion: float = liveness.MIN_MOUTH_MOTION


@dataclass
class ClipCheck:
    seconds: float
    transcript: str
    word_error_rate: float
    face_distance: float | None
    voice_similarity: float | None
    single_face_ratio: float
    frames_checked: int
    thresholds: Thresholds = field(default_factory=Thresholds)
    reasons: list[str] = field(default_factory=list)
    liveness: dict = field(default_factory=dict)  # LivenessReport.to_dict()

    @property
    def passed(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def clip_frames(path: Path, folder: Path) -> list[np.ndarray]:
    """Frames spread over the clip (FRAMES_PER_SECOND, at most MAX_FRAMES) as RGB arrays."""
    from PIL import Image

    result = subprocess.run(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
        [
            require_tool("ffmpeg"),
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-t",
            str(MAX_CLIP_SECONDS),
            "-an",
            "-vf",
            f"fps={FRAMES_PER_SECOND},scale='min(640,iw)':-2",
            "-frames:v",
            str(MAX_FRAMES),
            str(folder / "frame-%03d.png"),
        ],
        capture_output=True,
    )
    if result.returncode != 0:
        raise CorruptClip()
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("frame-*.png"))]


def _mean_face(paths: list[Path]) -> np.ndarray | None:
    vectors = []
    for path in paths:
        try:
            vectors.append(faces.image_or_video_embedding(path))
        except EngineError:
            continue
    return np.mean(vectors, axis=0) if vectors else None


def _mean_voice(paths: list[Path]) -> tuple[np.ndarray | None, list[str]]:
    """The mean speaker embedding of the usable samples, and why the others were not used.
    Each sample's length and sample rate are checked before it is decoded."""
    vectors, problems = [], []
    for path in paths:
        try:
            check_audio_bounds(path)
            vectors.append(speaker.speaker_embedding(path))
        except EngineError as error:
            problems.append(f"{path.name}: {str(error).rstrip('.')}")
    return (np.mean(vectors, axis=0) if vectors else None), problems


def check_consent_clip(
    clip: str | Path,
    *,
    challenge: str,
    reference_faces: list[str | Path],
    reference_voices: list[str | Path],
    thresholds: Thresholds | None = None,
    liveness_challenge: LivenessChallenge | None = None,
) -> ClipCheck:
    """Score a consent clip against the challenge sentence, the subject's reference photos and
    voice, and liveness (lip sync always; the blink asked at ``liveness_challenge`` when given,
    else that part is skipped and the report says so).

    Raises CorruptClip when the file cannot be decoded at all, and ClipTooLong,
    SampleRateTooLow, NoSound or NoPicture (``bounds``) before any decoding when the container
    is out of bounds; every other problem is a reason.
    """
    clip, limits = Path(clip), thresholds or Thresholds()
    media = check_clip_bounds(clip)
    try:
        pcm = phrase.pcm16_mono(clip, max_seconds=MAX_CLIP_SECONDS)
    except EngineError as error:
        raise CorruptClip() from error
    seconds = len(pcm) / 2 / phrase.RATE
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    reasons: list[str] = []
    if seconds < MIN_CLIP_SECONDS:
        reasons.append(f"The clip lasts {seconds:.1f} s; reading the sentence takes longer.")

    transcript = phrase.transcribe(clip, audio=pcm) if pcm else ""
    wer = phrase.sentence_error_rate(challenge, transcript)
    if wer > limits.max_word_error_rate:
        heard = f"“{transcript}”" if transcript else "no words"
        reasons.append(
            f"The sentence was not heard: word error rate {wer:.2f} is above "
            f"{limits.max_word_error_rate:.2f} (heard {heard})."
        )

    tracking_started = time.perf_counter()
    track = liveness.track_face(
        clip,
        fps=liveness.analysis_fps(media.fps),
        start=media.video_start,
        keep_every_seconds=1.0 / FRAMES_PER_SECOND,
    )
    tracking_seconds = time.perf_counter() - tracking_started
    frames = [rgb for _, rgb in track.frames_rgb][:MAX_FRAMES]
    found = [faces.face_embeddings(frame) for frame in frames]
    single = [f[0].vector for f in found if len(f) == 1]
    ratio = len(single) / len(frames) if frames else 0.0
    if not frames:
        reasons.append("The clip has no video; the camera must show the subject.")
    elif ratio < limits.min_single_face_ratio:
        reasons.append(
            f"Exactly one face was seen in {ratio:.0%} of the frames; at least "
            f"{limits.min_single_face_ratio:.0%} are needed."
        )

    face_distance = None
    reference_face = _mean_face([Path(p) for p in reference_faces])
    if reference_face is None:
        reasons.append("No reference photo with a face is on file to compare the clip with.")
    elif single:
        face_distance = faces.face_distance(np.mean(single, axis=0), reference_face)
        if face_distance > limits.max_face_distance:
            reasons.append(
                f"The face in the clip does not match the reference photo: distance "
                f"{face_distance:.2f} is above {limits.max_face_distance:.2f}."
            )
    elif frames:
        reasons.append("No single face could be compared with the reference photo.")

    voice_similarity = None
    reference_voice, unusable = _mean_voice([Path(p) for p in reference_voices])
    if reference_voice is None:
        why = f" ({unusable[0]})" if unusable else ""
        reasons.append(
            f"No usable reference voice sample is on file to compare the clip with{why}."
        )
    else:
        try:
            embedding = speaker.speaker_embedding_of_samples(samples, phrase.RATE)
        except EngineError:
            reasons.append("No speech was heard in the clip to compare with the voice sample.")
        else:
            voice_similarity = speaker.voice_similarity(embedding, reference_voice)
            if voice_similarity < limits.min_voice_similarity:
                reasons.append(
                    f"The voice in the clip does not match the voice sample: similarity "
                    f"{voice_similarity:.2f} is below {limits.min_voice_similarity:.2f}."
                )

    live = liveness.judge_liveness(
        track,
        samples,
        phrase.RATE,
        liveness_challenge,
        min_correlation=limits.min_lip_sync_correlation,
        min_motion=limits.min_mouth_motion,
        audio_start=media.audio_start,
    )
    live.seconds_taken = round(live.seconds_taken + tracking_seconds, 3)
    reasons.extend(live.reasons)

    return ClipCheck(
        seconds=round(seconds, 2),
        transcript=transcript,
        word_error_rate=round(wer, 3),
        face_distance=None if face_distance is None else round(face_distance, 3),
        voice_similarity=None if voice_similarity is None else round(voice_similarity, 3),
        single_face_ratio=round(ratio, 3),
        frames_checked=len(frames),
        thresholds=limits,
        reasons=reasons,
        liveness=live.to_dict(),
    )


class ClipWithoutFace(EngineError):
    default_message = "No face was seen in the clip; record again facing the camera, in good light."


class SilentClip(EngineError):
    default_message = "No voice was heard in the clip; record again and read the sentence aloud."


SPEECH_LEVEL_DB = -35.0  # quieter than this everywhere: nobody spoke
SCREEN_FRAMES = 6


def screen_clip(clip: str | Path) -> float:
    """Cheap checks before a clip is kept: its container is in bounds (length, sample rate:
    checked before decoding), it decodes, lasts long enough, someone speaks, a face shows.
    Returns its length in seconds; raises an EngineError saying what to fix."""
    from engine.audio import frame_levels_db

    clip = Path(clip)
    check_clip_bounds(clip)
    try:
        pcm = phrase.pcm16_mono(clip, max_seconds=MAX_CLIP_SECONDS)
    except EngineError as error:
        raise CorruptClip() from error
    seconds = len(pcm) / 2 / phrase.RATE
    if seconds < MIN_CLIP_SECONDS:
        raise CorruptClip(
            f"The clip lasts {seconds:.1f} s; record yourself reading the whole sentence."
        )
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    if float(np.max(frame_levels_db(samples, phrase.RATE, 0.05))) < SPEECH_LEVEL_DB:
        raise SilentClip()
    with tempfile.TemporaryDirectory(prefix="consent-screen-") as folder:
        frames = clip_frames(clip, Path(folder))
    if not frames:
        raise CorruptClip("The clip has no picture; allow the camera and record again.")
    step = max(1, len(frames) // SCREEN_FRAMES)
    if not any(faces.face_embeddings(frame) for frame in frames[::step]):
        raise ClipWithoutFace()
    return seconds
