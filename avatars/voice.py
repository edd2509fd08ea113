"""The avatar's voice: enrollment checks on an uploaded sample and the cached voice profile."""

import tempfile
from pathlib import Path, PurePath

from django.core.files.base import ContentFile

from engine.voice.profile import compute_voice_profile


def voice_profile_bytes(field_file) -> tuple[bytes, dict]:
    """The voice profile of a stored sample as .npz bytes, and its summary numbers."""
    suffix = PurePath(field_file.name).suffix.lower() or ".wav"
    with tempfile.TemporaryDirectory(prefix="likeness-profile-") as folder:
        path = Path(folder) / f"sample{suffix}"
        with field_file.open("rb") as source:
            path.write_bytes(source.read())
        profile = compute_voice_profile([path])
    return profile.to_bytes(), profile.summary()


def store_voice_profile(avatar) -> None:
    """Compute the avatar's voice profile from its sample and save it with the avatar."""
    data, summary = voice_profile_bytes(avatar.voice_sample)
    avatar.voice_profile.save("profile.npz", ContentFile(data), save=False)
    avatar.voice_checks = {**(avatar.voice_checks or {}), "profile": summary}
    avatar.save(update_fields=["voice_profile", "voice_checks"])
