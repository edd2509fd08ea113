from django.db import transaction

from avatars.models import Avatar


@transaction.atomic
def enroll_avatar(
    *, workspace, name, grant, portrait, portrait_report, voice_sample, voice_report, created_by
):
    """Create an avatar from checked uploads, caching what the renders need (landmarks)."""
    if grant.workspace_id != workspace.pk:
        raise ValueError("The consent belongs to another workspace.")
    return Avatar.objects.create(
        workspace=workspace,
        name=name,
        grant=grant,
        portrait=portrait,
        portrait_width=portrait_report.width,
        portrait_height=portrait_report.height,
        face_landmarks=portrait_report.landmarks,
        voice_sample=voice_sample,
        voice_seconds=voice_report.seconds,
        created_by=created_by,
    )
