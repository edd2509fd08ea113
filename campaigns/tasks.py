"""Thin task shims: take ids, call services."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.tasks import task

from campaigns import services
from campaigns.models import Campaign
from campaigns.signals import campaign_launch_due


# On the render queue: every render worker takes it (it is light work, a policy check a row).
@task(queue_name=settings.RENDER_QUEUE)
def launch_campaign(campaign_id: int, user_id: int | None) -> dict:
    campaign = Campaign.objects.select_related("avatar__grant", "script").get(pk=campaign_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    return services.submit_variants(campaign, user=user)


@receiver(campaign_launch_due, dispatch_uid="campaigns.tasks.enqueue_launch")
def enqueue_launch(sender, *, campaign_id: int, user_id: int | None, **kwargs) -> None:
    launch_campaign.enqueue(campaign_id, user_id)
