"""Is the avatar the consenting person? The grant's references, and the engine's comparison of an
enrollment's uploads with them (engine/biometrics/identity.py)."""

import tempfile
from pathlib import Path, PurePath

from core.files import copy_to_local, upload_to_local
from engine.biometrics.identity import IdentityCheck, Reference, compare_identity

REFERENCE_PHOTO = "reference photo"
REFERENCE_VOICE = "reference voice"
CONSENT_CLIP = "verified consent clip"


def grant_references(grant) -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
    """(label, stored file) pairs the grant knows its subject's face and voice from: the
    reference photo and voice of the invitation, and the consent clip once a verification of it
    passed (a clip that failed, even if a reviewer let the grant through, is no reference)."""
    faces, voices = [], []
    if grant.reference_portrait:
        faces.append((REFERENCE_PHOTO, grant.reference_portrait))
    if grant.reference_voice:
        voices.append((REFERENCE_VOICE, grant.reference_voice))
    if grant.consent_clip and grant.verifications.filter(passed=True).exists():
        faces.append((CONSENT_CLIP, grant.consent_clip))
        voices.append((CONSENT_CLIP, grant.consent_clip))
    return faces, voices


def check_identity(grant, *, portrait, voice_sample) -> IdentityCheck:
    """Compare an enrollment's portrait and voice sample (uploads) with every reference of the
    grant. Engine errors about the uploads themselves (no face, no speech) propagate."""
    faces, voices = grant_references(grant)
    with tempfile.TemporaryDirectory(prefix="likeness-identity-") as folder:
        work = Path(folder)
        portrait_path = work / f"portrait{PurePath(portrait.name).suffix.lower()}"
        voice_path = work / f"voice{PurePath(voice_sample.name).suffix.lower()}"
        upload_to_local(portrait, portrait_path)
        upload_to_local(voice_sample, voice_path)
        return compare_identity(
            portrait_path,
            voice_path,
            reference_faces=[
                Reference(label, copy_to_local(stored, work, f"face-{i}"))
                for i, (label, stored) in enumerate(faces)
            ],
            reference_voices=[
                Reference(label, copy_to_local(stored, work, f"voice-{i}"))
                for i, (label, stored) in enumerate(voices)
            ],
        )
