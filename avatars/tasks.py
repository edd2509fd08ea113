"""Thin task shims: take ids, call services."""

from django.tasks import task

from avatars.models import Avatar


@task(queue_name="default")
def compute_voice_profile(avatar_id: int) -> str:
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None:
        return "deleted"
    avatar.learn_voice_profile()
    return "ready"
