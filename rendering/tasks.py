"""Thin task shims: take ids, call services. The queue holds no render state."""

from django.conf import settings
from django.tasks import task

from rendering import services


@task(queue_name=settings.RENDER_QUEUE)
def render_job(job_id: int) -> str:
    return services.run_render(job_id)
