"""Thin task shims: take ids, call services."""

from django.tasks import task

from avatars import voice


@task(queue_name="default")
def compute_voice_profile(avatar_id: int) -> str:
    return voice.build_voice_profile(avatar_id)
