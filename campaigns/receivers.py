"""What campaigns do when rendering publishes a variant and when consent asks or revokes."""

from __future__ import annotations

import logging
import subprocess  # nosec B404: only its exception types are used here

from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.urls import reverse

from billing.usage import parts_named
from campaigns import progress, services
from campaigns.media import GifTooBig, make_recipient_gif, speech_start
from campaigns.models import Campaign, Recipient
from consent.models import Purpose
from consent.signals import grant_revoked, uses_requested
from rendering.models import RenderJob
from rendering.signals import video_published

log = logging.getLogger(__name__)


@receiver(video_published, dispatch_uid="campaigns-gif")
def make_gif_of_variant(sender, video, result, **kwargs) -> None:
    """A campaign variant's email GIF, made once the video is published (ffmpeg runs after the
    commit, never under the job's row lock)."""
    recipient = Recipient.objects.filter(job_id=video.job_id).only("pk").first()
    if recipient is None:
        return
    start = speech_start(result)
    transaction.on_commit(lambda: _gif_or_log(recipient.pk, start))
    transaction.on_commit(lambda: _forget_values_once_all_rendered(recipient.pk), robust=True)


def _forget_values_once_all_rendered(recipient_id: int) -> None:
    """After the last variant's commit (each checks after its own, so the last to commit sees
    the others done), the campaign's spoken values leave the segment cache."""
    campaign = Campaign.objects.filter(recipients__pk=recipient_id).first()
    if campaign is not None and progress.finished(campaign.counts()):
        services.forget_spoken_values(campaign)  # outside a transaction: at once


def _gif_or_log(recipient_id: int, start: float) -> None:
    # The video is published whatever happens to its GIF: the snippet falls back to the poster.
    try:
        make_recipient_gif(recipient_id, start=start)
    except (GifTooBig, subprocess.SubprocessError, OSError) as error:
        log.warning("No GIF for recipient %s: %s", recipient_id, error)


@receiver(grant_revoked, dispatch_uid="campaigns-revoked")
def cancel_campaigns_of_revoked_grant(sender, grant, **kwargs) -> None:
    """A revoked consent ends its campaigns: variants not yet rendered are cancelled (rendering
    cancels the jobs too); the share pages answer 410 through the consent's withdrawal."""
    campaigns = Campaign.objects.filter(
        avatar__grant=grant, status__in=[Campaign.Status.DRAFT, Campaign.Status.LAUNCHED]
    )
    for campaign in campaigns:
        services.cancel(campaign, reason="The subject revoked their consent.")


@receiver(uses_requested, dispatch_uid="campaigns-portal")
def campaigns_of_grant(sender, grant, **kwargs) -> list[dict]:
    """Each campaign made with the grant's likeness as one entry of the subject's portal: its
    share pages are listed by line, never by the recipients' names. A draft is listed once it
    made a sample video."""
    entries = []
    campaigns = Campaign.objects.filter(avatar__grant=grant)
    for campaign in campaigns.select_related("workspace").order_by("-created_at"):
        made = (
            campaign.renders()
            .filter(status=RenderJob.Status.SUCCEEDED)
            .aggregate(
                variants=Count("pk", filter=Q(part_of=campaign.part_of)),
                samples=Count("pk", filter=~Q(part_of=campaign.part_of)),
            )
        )
        if campaign.is_draft and not made["samples"]:
            continue
        pages = []
        if not campaign.erased_at:
            rendered = campaign.recipients.filter(job__status=RenderJob.Status.SUCCEEDED)
            pages = [
                {
                    "line": r.line,
                    "url": reverse("campaign_share:page", args=[r.share_token]),
                }
                for r in rendered.only("line", "share_token")
            ]
        entries.append(
            {
                "id": campaign.pk,
                "name": campaign.name,
                "workspace": str(campaign.workspace),
                "purpose": Purpose(campaign.purpose).label,
                "videos": made["variants"],
                "samples": made["samples"],
                "share_pages": pages,
                "erased": bool(campaign.erased_at),
                "erased_at": campaign.erased_at,
                "created_at": campaign.created_at,
            }
        )
    return entries


@receiver(parts_named, dispatch_uid="campaigns-usage-names")
def campaign_names(sender, parts, **kwargs) -> dict[str, str]:
    """The billing usage page's names for campaigns' videos ("campaign:<id>", its samples)."""
    ids = {p.split(":")[1]: p for p in parts if p.startswith("campaign:")}
    named = {}
    for campaign in Campaign.objects.filter(pk__in=[i for i in ids if i.isdigit()]):
        named[campaign.part_of] = f"Campaign: {campaign.name}"
        named[f"{campaign.part_of}:sample"] = f"Campaign: {campaign.name} (samples)"
    return named
