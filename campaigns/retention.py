"""Erasing a campaign: its recipients' data and its videos' files go; the rows stay as
tombstones (share pages answer 410, the subject's record that videos were made stays)."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import forget_spoken_values, sentences
from rendering.models import RenderJob, Video

ERASED = "[erased]"
VIDEO_FILE_FIELDS = ("file", "poster", "captions_vtt", "captions_srt")


def _template_timeline(timeline: dict | None, campaign: Campaign) -> dict | None:
    """A variant's timeline with the template's sentences in place of the merged ones."""
    if not timeline:
        return timeline
    scrubbed = copy.deepcopy(timeline)
    template = [{"text": s, "pause_after": 0.0} for s in sentences(campaign.template_text)]
    for i, scene in enumerate(scrubbed.get("scenes") or []):
        if i == 0 and template:
            scene["segments"] = template
        else:
            scene["segments"] = [{**s, "text": ERASED} for s in scene.get("segments") or []]
        text = scene.get("text") or {}
        if text.get("lower_third"):
            text["lower_third"] = campaign.on_screen_text or ERASED
        for key in ("title",):
            if text.get(key):
                text[key] = ERASED
        if text.get("bullets"):
            text["bullets"] = [ERASED for _ in text["bullets"]]
    return scrubbed


def erase(campaign: Campaign, *, reason: str = "The campaign was deleted.") -> dict[str, int]:
    """Erase the campaign's personal data and media: each recipient's values and respellings,
    each variant's (and sample's) MP4, poster, captions and GIF; the variants' scripts and
    timelines become the template. Renders not yet done are cancelled. The campaign is marked
    deleted with erased_at. Files are deleted after commit. Returns counts of recipients,
    videos and files erased."""
    files: list = []
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.erased_at:
            return {"recipients": 0, "videos": 0, "files": 0}
        jobs = campaign.renders()
        for job in jobs.filter(status__in=[RenderJob.Status.QUEUED, RenderJob.Status.RUNNING]):
            job.cancel(reason)
        template = {"text": campaign.template_text, "values": {}, "say": {}}
        for job in jobs:
            # A failure's message may quote what was said: each value of the row goes from it.
            for value in sorted((job.template or {}).get("values", {}).values(), key=len)[::-1]:
                if value and len(str(value)) > 1:
                    job.error = job.error.replace(str(value), ERASED)
            job.script_text = campaign.template_text
            job.template = {**(job.template or {}), **template}
            job.timeline = _template_timeline(job.timeline, campaign)
            job.save(update_fields=["script_text", "template", "timeline", "error"])
        videos = list(Video.objects.filter(job__in=jobs))
        for video in videos:
            for name in VIDEO_FILE_FIELDS:
                field = getattr(video, name)
                if field:
                    files.append((field.storage, field.name))
                    setattr(video, name, "")
            video.save(update_fields=list(VIDEO_FILE_FIELDS))
        recipients = list(campaign.recipients.all())
        for recipient in recipients:
            if recipient.gif:
                files.append((recipient.gif.storage, recipient.gif.name))
        campaign.recipients.update(values={}, say={}, gif="")
        campaign.recipients.exclude(refused_reason="").update(
            refused_reason="Refused at launch (the reason was erased with the campaign)."
        )
        campaign.status, campaign.erased_at = Campaign.Status.DELETED, timezone.now()
        campaign.save(update_fields=["status", "erased_at"])

        def delete_files():
            for storage, name in files:
                storage.delete(name)

        # Irreversible: only once the erasure is committed.
        transaction.on_commit(delete_files)
        forget_spoken_values(campaign)
    return {"recipients": len(recipients), "videos": len(videos), "files": len(files)}


def expired(now=None):
    """Campaigns past their retention period (CAMPAIGN_RETENTION_DAYS) not yet erased."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CAMPAIGN_RETENTION_DAYS)
    return Campaign.objects.filter(erased_at__isnull=True, created_at__lt=cutoff)
