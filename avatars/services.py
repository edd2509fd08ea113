from django.db import transaction

from avatars.models import Avatar


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
    """Create an avatar from checked uploads, caching what the renders need: the landmarks now,
    the voice profile in a task (a render that starts before it finishes computes it itself)."""
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
    transaction.on_commit(lambda: enqueue_voice_profile(avatar.pk))
    return avatar


def enqueue_voice_profile(avatar_id: int) -> None:
    from avatars.tasks import compute_voice_profile

    compute_voice_profile.enqueue(avatar_id)
