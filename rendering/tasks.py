"""Thin task shims: take ids, call services. The queue holds no render state."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.tasks import task

from avatars.models import Avatar
from rendering import services
from rendering.models import RenderJob
from rendering.signals import render_due


@task(queue_name=settings.RENDER_QUEUE)
def render_job(job_id: int) -> str:
    return services.run_render(job_id)


@task(queue_name=settings.RENDER_QUEUE)
def warm_footage(avatar_id: int) -> str:
    return services.warm_footage(avatar_id)


@receiver(post_save, sender=Avatar, dispatch_uid="rendering.tasks.warm_new_footage")
def warm_new_footage(sender, instance, created, **kwargs) -> None:
    """A new footage avatar's footage is analysed by a worker once the enrollment commits."""
    if created and instance.is_footage:
        transaction.on_commit(lambda: warm_footage.enqueue(instance.pk))


@receiver(render_due, dispatch_uid="rendering.tasks.enqueue_render")
def enqueue_render(sender, *, job_id: int, run_after=None, **kwargs) -> None:
    """Give the render queue one more turn (the worker that takes it picks the fairest job)."""
    task = render_job.using(run_after=run_after) if run_after else render_job
    result = task.enqueue(job_id)
    RenderJob.objects.filter(pk=job_id).update(task_id=str(result.id))
