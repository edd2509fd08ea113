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
    another process (the enrollment task, or a render) saved one first, or the sample was erased
    meanwhile (consent revoked)."""
    from avatars.models import Avatar

    current = Avatar.objects.get(pk=avatar.pk)
    if not current.voice_profile and current.voice_sample:
        data, summary = voice_profile_bytes(current.voice_sample)
        with transaction.atomic():
            current = Avatar.objects.select_for_update().get(pk=avatar.pk)
            if not current.voice_profile and current.voice_sample:
                current.voice_profile.save("profile.npz", ContentFile(data), save=False)
                checks = {k: v for k, v in (current.voice_checks or {}).items() if k != "error"}
                current.voice_checks = {**checks, "profile": summary}
                current.save(update_fields=["voice_profile", "voice_checks"])
    avatar.voice_profile, avatar.voice_checks = current.voice_profile, current.voice_checks


def build_voice_profile(avatar_id: int) -> str:
    """Worker side of enrollment: the profile's phone alignment takes about a third of a CPU
    second per second of speech, too long to hold the upload's request. A failure is kept on
    the avatar for its page (renders try again)."""
    from avatars.models import Avatar

    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None:
        return "deleted"
    try:
        avatar.ensure_voice_profile()
    except Exception as error:
        checks = {**(avatar.voice_checks or {}), "error": f"{type(error).__name__}: {error}"[:300]}
        Avatar.objects.filter(pk=avatar_id).update(voice_checks=checks)
        raise
    return "ready"
