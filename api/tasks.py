"""Thin task shims: take ids, call the webhook workflow."""

from django.conf import settings
from django.dispatch import receiver
from django.tasks import task

from api import webhooks
from api.models import WebhookDelivery
from api.signals import delivery_due


@task(queue_name=settings.WEBHOOK_QUEUE)
def deliver_webhook(delivery_id: int) -> str:
    return webhooks.attempt(delivery_id)


@receiver(delivery_due, sender=WebhookDelivery, dispatch_uid="api.tasks.enqueue_delivery")
def enqueue_delivery(sender, *, delivery_id: int, run_after=None, **kwargs) -> None:
    queued = deliver_webhook.using(run_after=run_after) if run_after else deliver_webhook
    queued.enqueue(delivery_id)
