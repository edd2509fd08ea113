"""The avatar's voice: enrollment checks on an uploaded sample and the cached voice profile."""

import tempfile
from pathlib import Path, PurePath

from django.core.files.base import ContentFile
from django.db import transaction

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
    """Compute the avatar's voice profile from its sample and save it with the avatar, unless
    another process (the enrollment task, or a render) saved one first."""
    from avatars.models import Avatar

    data, summary = voice_profile_bytes(avatar.voice_sample)
    with transaction.atomic():
        locked = Avatar.objects.select_for_update().get(pk=avatar.pk)
        if not locked.voice_profile:
            locked.voice_profile.save("profile.npz", ContentFile(data), save=False)
            locked.voice_checks = {**(locked.voice_checks or {}), "profile": summary}
            locked.save(update_fields=["voice_profile", "voice_checks"])
    avatar.voice_profile, avatar.voice_checks = locked.voice_profile, locked.voice_checks


def build_voice_profile(avatar_id: int) -> str:
    """Worker side of enrollment: the profile's phone alignment takes about a third of a CPU
    second per second of speech, too long to hold the upload's request."""
    from avatars.models import Avatar

    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None:
        return "deleted"
    avatar.ensure_voice_profile()
    return "ready"
