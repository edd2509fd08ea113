from django.db import transaction

from avatars.models import Avatar
from avatars.voice import store_voice_profile


@transaction.atomic
def enroll_avatar(
    *,
    workspace,
    name,
    grant,
    portrait,
    portrait_report,
    voice_sample,
    voice_report,
    created_by,
    voice_enrollment=None,
):
    """Create an avatar from checked uploads, caching what the renders need (landmarks, and the
    voice profile computed once from the voice sample)."""
    if grant.workspace_id != workspace.pk:
        raise ValueError("The consent belongs to another workspace.")
    avatar = Avatar.objects.create(
        workspace=workspace,
        name=name,
        grant=grant,
        portrait=portrait,
        portrait_width=portrait_report.width,
        portrait_height=portrait_report.height,
        face_landmarks=portrait_report.landmarks,
        voice_sample=voice_sample,
        voice_seconds=voice_report.seconds,
        voice_checks={"enrollment": voice_enrollment.to_dict()} if voice_enrollment else {},
        created_by=created_by,
    )
    store_voice_profile(avatar)
    return avatar
