"""Billing follows every render through rendering's signals (rendering never imports billing):
reserve when queued, refuse a start whose reservation is gone, settle on publish, release on
failure or cancel. With billing off each receiver returns at once."""

from django.dispatch import receiver

from billing import services
from rendering.signals import (
    render_cancelled,
    render_failed,
    render_queued,
    render_starting,
    video_published,
)


@receiver(render_queued, dispatch_uid="billing.reserve")
def reserve(sender, *, job, **kwargs):
    if services.billing_enabled():
        services.reserve_for_job(job)  # QuotaExceeded / PlanLimitExceeded refuse the submit


@receiver(render_starting, dispatch_uid="billing.start_refusal")
def refuse_start(sender, *, job, **kwargs) -> str:
    return services.start_refusal(job) if services.billing_enabled() else ""


@receiver(video_published, dispatch_uid="billing.settle")
def settle(sender, *, video, **kwargs):
    if services.billing_enabled():
        services.settle_job(video.job, seconds=video.seconds)


@receiver(render_failed, dispatch_uid="billing.release_failed")
def release_failed(sender, *, job, **kwargs):
    if services.billing_enabled():
        services.release_job(job, reason="The render failed: nothing is charged.")


@receiver(render_cancelled, dispatch_uid="billing.release_cancelled")
def release_cancelled(sender, *, job, **kwargs):
    if services.billing_enabled():
        services.release_job(job, reason="The render was cancelled: nothing is charged.")
