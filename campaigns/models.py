"""A campaign: one script template, a list of recipients, one personalized video each.

Every variant is a RenderJob like any other (checked by the consent policy at submit and again
by the worker), marked ``part_of`` its campaign so the subject sees the campaign as one entry.
A recipient's values are personal data: they live only on the Recipient row (and in the video
made for them) and are erased with the campaign or after CAMPAIGN_RETENTION_DAYS; the row stays
as a tombstone, so its share page answers 410 and not 404.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, Q

from accounts.models import WorkspaceScoped
from avatars.models import Avatar
from consent.models import Purpose
from rendering.models import RenderJob
from studio.models import Script


def new_frame_mark_id() -> str:
    """A campaign's frame mark (64 bits, hex): the frames its variants share carry it; each
    variant's own provenance id is in its audio mark and its signed manifest."""
    return f"{secrets.randbits(64):016x}"


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


def _gif_upload_to(instance, filename: str) -> str:
    return f"campaigns/{instance.campaign_id}/{uuid.uuid4().hex}.gif"


class Campaign(WorkspaceScoped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LAUNCHED = "launched", "Launched"
        CANCELLED = "cancelled", "Cancelled"
        DELETED = "deleted", "Deleted"

    name = models.CharField(max_length=200)
    # The template's source; its text is copied into template_text while the campaign is a
    # draft and frozen at launch (editing the script later changes no variant).
    script = models.ForeignKey(Script, on_delete=models.PROTECT, related_name="campaigns")
    avatar = models.ForeignKey(Avatar, on_delete=models.PROTECT, related_name="campaigns")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MARKETING)
    template_text = models.TextField()
    # Each merge field of the template (spoken and written): {"name", "kind", "required"}.
    fields = models.JSONField(default=list)
    # Text on screen (a lower third) and the share page, all templates with the same fields.
    on_screen_text = models.CharField(max_length=200, blank=True)
    page_title = models.CharField(max_length=200, blank=True)
    page_message = models.TextField(blank=True, max_length=1000)
    cta_label = models.CharField(max_length=60, blank=True)
    cta_url = models.CharField(max_length=500, blank=True)
    brand_color = models.CharField(max_length=7, default="#1f6feb")
    logo = models.ImageField(upload_to="campaigns/logos/", blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    frame_mark_id = models.CharField(max_length=16, default=new_frame_mark_id, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def part_of(self) -> str:
        """The RenderJob.part_of of this campaign's variants."""
        return f"campaign:{self.pk}"

    def renders(self):
        """Every RenderJob of the campaign: its variants and its samples ("campaign:<id>:sample").
        Not part_of__startswith="campaign:<id>", which would take campaign 10's for campaign 1."""
        return RenderJob.objects.filter(
            Q(part_of=self.part_of) | Q(part_of__startswith=f"{self.part_of}:")
        )

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def kinds(self) -> dict[str, str]:
        return {f["name"]: f["kind"] for f in self.fields}

    @property
    def erase_after(self):
        """When its recipients' data goes, whatever else happens."""
        return self.created_at + timedelta(days=settings.CAMPAIGN_RETENTION_DAYS)

    def counts(self) -> dict[str, int]:
        """Variants by state: pending (no render yet), queued, rendering, done, failed,
        cancelled, refused."""
        status = "job__status"
        found = self.recipients.aggregate(
            total=Count("pk"),
            pending=Count("pk", filter=Q(job__isnull=True, refused_reason="")),
            refused=Count("pk", filter=~Q(refused_reason="")),
            queued=Count("pk", filter=Q(**{status: RenderJob.Status.QUEUED})),
            rendering=Count("pk", filter=Q(**{status: RenderJob.Status.RUNNING})),
            done=Count("pk", filter=Q(**{status: RenderJob.Status.SUCCEEDED})),
            failed=Count("pk", filter=Q(**{status: RenderJob.Status.FAILED})),
            cancelled=Count("pk", filter=Q(**{status: RenderJob.Status.CANCELLED})),
        )
        return found


class Recipient(models.Model):
    """One row of the campaign's list and the video made for it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    line = models.PositiveIntegerField()  # in the file it came from (the header is line 1)
    values = models.JSONField(default=dict)  # field -> value
    say = models.JSONField(default=dict, blank=True)  # field -> how to say its value
    job = models.OneToOneField(
        RenderJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipient"
    )
    refused_reason = models.TextField(blank=True)  # the policy's answer at launch
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token)
    # Engagement, counted by the share page itself: no third-party script, no address stored.
    views = models.PositiveIntegerField(default=0)
    plays = models.PositiveIntegerField(default=0)
    watched_percent = models.PositiveSmallIntegerField(default=0)  # 0, 25, 50, 75 or 100
    cta_clicks = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The email preview: the first seconds of the speech, with a play mark (campaigns.media).
    gif = models.FileField(upload_to=_gif_upload_to, blank=True)

    class Meta:
        ordering = ["line"]
        indexes = [models.Index(fields=["campaign", "line"])]

    def __str__(self) -> str:
        return f"Line {self.line} of {self.campaign}"

    @property
    def status(self) -> str:
        if self.refused_reason:
            return "refused"
        if self.job_id is None:
            return "erased" if self.campaign.erased_at else "pending"
        return self.job.status

    @property
    def label(self) -> str:
        """How the pages name this row: its first value, or its line."""
        first = next((v for v in self.values.values() if v), "")
        return first or f"line {self.line}"
