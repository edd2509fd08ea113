"""What each event says: plain JSON of the objects, never a face, voice or biometric datum."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api import webhooks
from api.models import Event
from campaigns import progress
from campaigns.models import Campaign
from consent.models import ConsentGrant
from rendering.models import RenderJob


def render_data(job: RenderJob) -> dict:
    from api.resources import render_out

    return {"render": render_out(job)}


def grant_data(grant: ConsentGrant) -> dict:
    from api.resources import grant_out

    data = {"consent_grant": grant_out(grant)}
    if grant.status == ConsentGrant.Status.REVOKED:
        # What a receiving system must take down: every render made under this consent.
        jobs = RenderJob.objects.filter(avatar__grant=grant, status=RenderJob.Status.SUCCEEDED)
        data["render_ids"] = list(jobs.order_by("pk").values_list("pk", flat=True))
    return data


def after_commit(action) -> None:
    transaction.on_commit(action)


def _emit(workspace_id: int, event: str, data: dict, *, key: str) -> bool:
    """The event's message and deliveries in one transaction; False when it was sent before.
    Emails are sent by the callers after it, so no row stays locked while a mail server talks."""
    with transaction.atomic():
        return webhooks.emit(workspace_id, event, data, key=key) is not None


def render_finished(job_id: int) -> None:
    """render.succeeded or render.failed, then campaign.completed if it was a campaign's last."""
    from api import notifications

    job = RenderJob.objects.select_related("avatar__grant", "video").filter(pk=job_id).first()
    if job is None or job.status not in (RenderJob.Status.SUCCEEDED, RenderJob.Status.FAILED):
        return
    event = (
        Event.RENDER_SUCCEEDED if job.status == RenderJob.Status.SUCCEEDED else Event.RENDER_FAILED
    )
    if _emit(job.workspace_id, event, render_data(job), key=f"{event}:{job.pk}:{job.attempts}"):
        notifications.render_finished(job)
    if job.part_of.startswith("campaign:"):
        campaign_maybe_completed(int(job.part_of.split(":")[1]))


def campaign_maybe_completed(campaign_id: int) -> None:
    from api import notifications

    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.LAUNCHED).first()
    if campaign is None:
        return
    snapshot = progress.snapshot(campaign)
    if not snapshot.finished:
        return
    counts = snapshot.counts
    data = {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "status": campaign.status,
            "counts": counts,
        }
    }
    key = f"campaign.completed:{campaign.pk}"
    if _emit(campaign.workspace_id, Event.CAMPAIGN_COMPLETED, data, key=key):
        notifications.campaign_completed(campaign, counts)


def consent_activated(grant_id: int) -> None:
    grant = ConsentGrant.objects.filter(pk=grant_id, status=ConsentGrant.Status.ACTIVE).first()
    if grant is not None:
        key = f"consent.activated:{grant.pk}"
        _emit(grant.workspace_id, Event.CONSENT_ACTIVATED, grant_data(grant), key=key)


def consent_revoked(grant_id: int) -> None:
    from api import notifications

    grant = ConsentGrant.objects.filter(pk=grant_id).first()
    if grant is None:
        return
    key = f"consent.revoked:{grant.pk}"
    if _emit(grant.workspace_id, Event.CONSENT_REVOKED, grant_data(grant), key=key):
        notifications.consent_revoked(grant)


def announce_expiring(*, at=None) -> int:
    """consent.expiring for every active consent that runs out within CONSENT_EXPIRING_DAYS,
    once per consent and valid-until (run daily: `manage.py send_consent_expiring`)."""
    at = at or timezone.now()
    horizon = at + timedelta(days=settings.CONSENT_EXPIRING_DAYS)
    grants = ConsentGrant.objects.filter(
        status=ConsentGrant.Status.ACTIVE, valid_until__gt=at, valid_until__lte=horizon
    )
    from api import notifications

    sent = 0
    for grant in grants:
        data = grant_data(grant) | {"days_left": max(0, (grant.valid_until - at).days)}
        key = f"consent.expiring:{grant.pk}:{grant.valid_until.isoformat()}"
        if _emit(grant.workspace_id, Event.CONSENT_EXPIRING, data, key=key):
            notifications.consent_expiring(grant)
            sent += 1
    return sent
