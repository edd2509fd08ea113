"""Is an avatar's likeness the consenting person's? Its portrait (a photo or footage) and its voice
sample are compared with each reference the consent holds (the reference photo and voice uploaded
with the invitation, the verified consent clip), with the measures and thresholds of consent
verification: dlib face distance at most `face.MATCH_DISTANCE`, resemblyzer speaker similarity at
least `speaker.MATCH_SIMILARITY`. Plain paths in, scores and reasons out; no Django.

Every reference must match, not their mean: a face between two people's cannot pass on average.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.biometrics import face as faces
from engine.biometrics import phrase, speaker
from engine.errors import EngineError

VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".avi", ".y4m"}


@dataclass(frozen=True)
class Reference:
    """A file the consenting person's face or voice is known from, and what to call it."""

    label: str  # "reference photo", "verified consent clip", ...
    path: Path


@dataclass
class IdentityThresholds:
    max_face_distance: float = faces.MATCH_DISTANCE
    min_voice_similarity: float = speaker.MATCH_SIMILARITY


@dataclass
class Comparison:
    """One measurement against one reference: a face distance or a voice similarity, or None
    with the problem when the reference could not be measured (no face, no speech)."""

    reference: str
    score: float | None
    problem: str = ""


@dataclass
class IdentityCheck:
    face: list[Comparison]
    voice: list[Comparison]
    thresholds: IdentityThresholds = field(default_factory=IdentityThresholds)
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the comparison took (embeddings included)

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def has_references(self) -> bool:
        """Whether anything was measured to compare with, face and voice."""
        return any(c.score is not None for c in self.face) and any(
            c.score is not None for c in self.voice
        )

    @property
    def face_distance(self) -> float | None:
        """The largest distance to any reference (the one that decides)."""
        scores = [c.score for c in self.face if c.score is not None]
        return max(scores) if scores else None

    @property
    def voice_similarity(self) -> float | None:
        """The smallest similarity to any reference (the one that decides)."""
        scores = [c.score for c in self.voice if c.score is not None]
        return min(scores) if scores else None

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "passed": self.passed,
            "face_distance": self.face_distance,
            "voice_similarity": self.voice_similarity,
        }


def _voice_embedding(path: Path) -> np.ndarray:
    """A WAV's speaker embedding, or that of a video's sound (decoded to 16 kHz as verification
    decodes a consent clip)."""
    if path.suffix.lower() == ".wav":
        return speaker.speaker_embedding(path)
    samples = np.frombuffer(phrase.pcm16_mono(path), dtype="<i2").astype(np.float32) / 32768
    return speaker.speaker_embedding_of_samples(samples, phrase.RATE)


def _compare(embed, measure, candidate: np.ndarray, references: list[Reference]):
    compared = []
    for reference in references:
        try:
            score = measure(candidate, embed(reference.path))
        except EngineError as error:
            compared.append(Comparison(reference.label, None, str(error)))
        else:
            compared.append(Comparison(reference.label, round(score, 3)))
    return compared


def compare_identity(
    portrait: str | Path,
    voice_sample: str | Path,
    *,
    reference_faces: list[Reference],
    reference_voices: list[Reference],
    thresholds: IdentityThresholds | None = None,
) -> IdentityCheck:
    """Compare a portrait (image or footage) and a voice sample (WAV) with the references.

    Raises an EngineError (NoFaceFound, SilentAudio, ...) when the portrait or the voice sample
    itself cannot be measured; a reference that cannot be measured is noted, and having none
    measured is a reason: with nothing to compare, nothing passes.
    """
    started = time.perf_counter()
    limits = thresholds or IdentityThresholds()
    reasons: list[str] = []

    face = faces.image_or_video_embedding(Path(portrait))
    face_scores = _compare(
        faces.image_or_video_embedding, faces.face_distance, face, reference_faces
    )
    if not any(c.score is not None for c in face_scores):
        reasons.append(
            "The consent holds no reference photo or verified consent clip with a face, so the "
            "portrait cannot be compared with the consenting person."
        )
    for compared in face_scores:
        if compared.score is not None and compared.score > limits.max_face_distance:
            reasons.append(
                f"The portrait does not match the consenting person: face distance "
                f"{compared.score:.2f} is above {limits.max_face_distance:.2f} "
                f"(compared with the {compared.reference})."
            )

    voice = speaker.speaker_embedding(Path(voice_sample))
    voice_scores = _compare(_voice_embedding, speaker.voice_similarity, voice, reference_voices)
    if not any(c.score is not None for c in voice_scores):
        reasons.append(
            "The consent holds no reference voice or verified consent clip with speech, so the "
            "voice sample cannot be compared with the consenting person."
        )
    for compared in voice_scores:
        if compared.score is not None and compared.score < limits.min_voice_similarity:
            reasons.append(
                f"The voice sample does not match the consenting person: voice similarity "
                f"{compared.score:.2f} is below {limits.min_voice_similarity:.2f} "
                f"(compared with the {compared.reference})."
            )

    return IdentityCheck(
        face=face_scores,
        voice=voice_scores,
        thresholds=limits,
        reasons=reasons,
        seconds=round(time.perf_counter() - started, 2),
    )
