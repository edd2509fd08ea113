import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import WorkspaceScoped
from avatars.models import Avatar
from consent.models import Purpose, Withdrawal
from consent.policy import TemplateUse
from consent.signals import grant_revoked, videos_requested
from engine.face.drive import DEFAULT_MOTION
from engine.timeline import Timeline
from rendering.signals import render_cancelled, render_failed
from studio.models import Script

# The motion settings people choose from (engine.face.drive.MOTION_STYLES), with what each does.
MOTION_CHOICES = [
    ("still", "Still: the head keeps its place"),
    ("natural", "Natural"),
    ("lively", "Lively: more head motion, a wider mouth"),
]


class RenderJob(WorkspaceScoped):
    """One video to make. Its state lives here, not in the task queue, so any worker can read it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Rendering"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    avatar = models.ForeignKey(Avatar, on_delete=models.PROTECT, related_name="render_jobs")
    script = models.ForeignKey(Script, on_delete=models.PROTECT, related_name="render_jobs")
    # A copy of the words at submit time: editing the script later never changes this video.
    script_text = models.TextField()
    # The workspace's pronunciation lexicon (word -> respelling) at submit: consent is checked on
    # the words these make, and the worker speaks with these, never with the live lexicon. Jobs
    # made before this field speak their script as written ({}), which is what they are checked on.
    pronunciations = models.JSONField(default=dict, blank=True)
    # The video to make (engine.timeline, JSON) built at submit from what was asked, so editing
    # its source never changes this video. Jobs made before timelines have none: one scene of
    # script_text.
    timeline = models.JSONField(null=True, blank=True)
    # A video made from a template with merge fields (a campaign's variant): the template, the
    # recipient's values and respellings and each field's kind (consent.policy.TemplateUse). The
    # policy checks that the timeline says exactly the template filled with values of those kinds.
    template = models.JSONField(null=True, blank=True)
    # What this video is one of (e.g. "campaign:12"), so the subject sees a campaign of a
    # thousand videos as one entry; empty for a video made on its own.
    part_of = models.CharField(max_length=64, blank=True, db_index=True)
    # The frames' invisible mark when it is shared by a lineage (every variant of a campaign):
    # 16 hex digits; empty: the frames carry this render's own provenance id.
    frame_mark_id = models.CharField(max_length=16, blank=True)
    # How the presenter moves (engine.face.drive.MOTION_STYLES): head motion and expression.
    motion = models.CharField(max_length=8, choices=MOTION_CHOICES, default=DEFAULT_MOTION)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.PositiveIntegerField()

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=32, default="queued")
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    # Scheduling: higher priority first (per plan); a retry waits until not_before.
    priority = models.SmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    # The worker rendering this job holds a lease it renews; an expired lease means it died.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["status", "priority", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Render #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        return round(100 * self.progress)

    @cached_property
    def withdrawal(self) -> Withdrawal | None:
        """Why this finished render's video may no longer be shown (its consent revoked or run
        out), or None. The job's record stays; its video, captions, poster and links go."""
        if self.status != self.Status.SUCCEEDED:
            return None
        return self.avatar.grant.withdrawal()

    def render_decision(self, *, at: datetime):
        """May this job render now? The consent policy on the job's own copy of the script and of
        the lexicon, so the words checked are the words the worker will speak."""
        spoken, shown = self.texts()
        return self.avatar.render_decision(
            purpose=self.purpose,
            at=at,
            script_text=spoken,
            lexicon=self.pronunciations,
            on_screen_text=shown,
            template=TemplateUse.from_dict(self.template),
        )

    def texts(self) -> tuple[str, list[str]]:
        """What the video says (its segments, one paragraph each) and what it shows in writing."""
        if self.timeline is None:
            return self.script_text, []
        timeline = Timeline.from_dict(self.timeline)
        return "\n\n".join(timeline.spoken_texts()), timeline.on_screen_texts()

    def _transition(self, *, allowed_from, owned=False, **changes) -> bool:
        """Change state only if the row is still in an allowed state; tells whether it did.

        A conditional UPDATE, so two workers (or a worker and a cancel click) can never both win.
        `owned`: only while this object's worker still holds the lease.
        """
        rows = RenderJob.objects.filter(pk=self.pk, status__in=allowed_from)
        if owned:
            rows = rows.filter(lease_owner=self.lease_owner)
        won = rows.update(**changes) == 1
        self.refresh_from_db()
        return won

    def _running_rows(self, *, lost_lease: bool = False):
        """This job while running: held by this worker, or (`lost_lease`) by nobody alive."""
        rows = RenderJob.objects.filter(pk=self.pk, status=self.Status.RUNNING)
        if lost_lease:
            return rows.filter(lease_expires_at__lt=timezone.now())
        return rows.filter(lease_owner=self.lease_owner)

    def start(self, *, worker_id: str, lease_seconds: float) -> bool:
        """Claim a queued job for one worker, with a lease it must renew."""
        now = timezone.now()
        return self._transition(
            allowed_from=[self.Status.QUEUED],
            status=self.Status.RUNNING,
            stage="checking consent",
            progress=0.0,
            started_at=now,
            attempts=models.F("attempts") + 1,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            not_before=None,
        )

    def renew_lease(self, lease_seconds: float) -> bool:
        """False once this worker no longer holds the job (cancelled, or given to another)."""
        expires = timezone.now() + timedelta(seconds=lease_seconds)
        return self._running_rows().update(lease_expires_at=expires) == 1

    def report_progress(self, stage: str, fraction: float) -> bool:
        """Record progress; False means this worker must stop (cancelled or lease lost)."""
        updated = self._running_rows().update(stage=stage, progress=max(0.0, min(1.0, fraction)))
        return updated == 1

    def requeue(self, *, reason: str, retry_at: datetime, lost_lease: bool = False) -> bool:
        """Back to the queue for another attempt at `retry_at` (the caller checks attempts)."""
        won = (
            self._running_rows(lost_lease=lost_lease).update(
                status=self.Status.QUEUED,
                stage="waiting to retry",
                progress=0.0,
                lease_owner="",
                lease_expires_at=None,
                not_before=retry_at,
                error=reason,
            )
            == 1
        )
        self.refresh_from_db()
        return won

    def succeed(self) -> bool:
        return self._transition(
            allowed_from=[self.Status.RUNNING],
            owned=True,
            error="",
            status=self.Status.SUCCEEDED,
            stage="done",
            progress=1.0,
            finished_at=timezone.now(),
        )

    def fail(self, reason: str, *, lost_lease: bool = False) -> bool:
        """The worker holding the job gives up on it (a late duplicate can't)."""
        won = (
            self._running_rows(lost_lease=lost_lease).update(
                status=self.Status.FAILED, error=reason, finished_at=timezone.now()
            )
            == 1
        )
        self.refresh_from_db()
        if won:
            render_failed.send(sender=RenderJob, job=self)
        return won

    def retry(self) -> bool:
        """A person asks to try a failed render again, with a fresh set of attempts."""
        return self._transition(
            allowed_from=[self.Status.FAILED],
            status=self.Status.QUEUED,
            stage="queued",
            progress=0.0,
            attempts=0,
            error="",
            finished_at=None,
            not_before=None,
        )

    def cancel(self, reason: str) -> bool:
        won = self._transition(
            allowed_from=[self.Status.QUEUED, self.Status.RUNNING],
            status=self.Status.CANCELLED,
            error=reason,
            finished_at=timezone.now(),
        )
        if won:
            render_cancelled.send(sender=RenderJob, job=self)
        return won


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


def _video_upload_to(instance, filename: str) -> str:
    return f"videos/{instance.workspace_id}/{uuid.uuid4().hex}.mp4"


def _captions_upload_to(instance, filename: str) -> str:
    suffix = ".srt" if filename.lower().endswith(".srt") else ".vtt"
    return f"videos/{instance.workspace_id}/{uuid.uuid4().hex}{suffix}"


def _poster_upload_to(instance, filename: str) -> str:
    return f"videos/{instance.workspace_id}/{uuid.uuid4().hex}.jpg"


class Video(WorkspaceScoped):
    job = models.OneToOneField(RenderJob, on_delete=models.CASCADE, related_name="video")
    file = models.FileField(upload_to=_video_upload_to)
    # Captions of the spoken script, opening with a cue that says the video is AI-generated
    # (videos rendered before captions existed have none).
    captions_vtt = models.FileField(upload_to=_captions_upload_to, blank=True)
    captions_srt = models.FileField(upload_to=_captions_upload_to, blank=True)
    # One frame just into the speech (JPEG): the player's poster and the share page's preview.
    poster = models.FileField(upload_to=_poster_upload_to, blank=True)
    seconds = models.FloatField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.PositiveIntegerField()
    frames = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The public link's token: random (256 bits), so it says nothing of the video's id or of how
    # many videos there are. Share pages answer 410 once the subject's consent is withdrawn.
    share_token = models.CharField(
        max_length=64, unique=True, default=new_share_token, editable=False
    )

    def __str__(self) -> str:
        return f"Video of render #{self.job_id}"

    @property
    def withdrawal(self) -> Withdrawal | None:
        """Why this video may no longer be shown to anyone, or None: its consent's answer."""
        return self.job.avatar.grant.withdrawal()

    # Links made before share_token was a column: a signed id (still honoured; it names the id).
    SHARE_SALT = "likeness.video.share"

    @classmethod
    def from_share_token(cls, token: str) -> "Video | None":
        from django.core import signing

        videos = cls.objects.select_related("job__avatar__grant", "job__script")
        if video := videos.filter(share_token=token).first():
            return video
        try:
            pk = signing.loads(token, salt=cls.SHARE_SALT)
        except signing.BadSignature:
            return None
        return videos.filter(pk=pk).first()


class StageCost(models.Model):
    """What one stage of a render costs on this site's workers, in seconds per unit of its work
    (the units of engine.pipeline.STAGE_COST), learned from finished renders: the progress bars
    of the renders after them are weighted by these. Site-wide, the machines' speed: nothing of
    any workspace or person."""

    # A stage that worked less than this in a render says more about noise than about its cost.
    MIN_SECONDS = 0.05
    # A new measurement's weight in the moving average: the costs follow a machine that got
    # faster or slower, and one render on a busy machine moves them only part of the way.
    NEW_SAMPLE_WEIGHT = 0.3

    stage = models.CharField(max_length=16, unique=True)
    seconds_per_unit = models.FloatField()
    samples = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stage}: {self.seconds_per_unit:.6f} s per unit ({self.samples} renders)"

    @classmethod
    def learned(cls) -> dict[str, float]:
        """Seconds per unit of each stage measured so far."""
        return dict(cls.objects.filter(samples__gt=0).values_list("stage", "seconds_per_unit"))

    @classmethod
    def learn(cls, measured: dict[str, float]) -> None:
        """Move each stage's cost toward its new measurement (seconds per unit); a stage's first
        measurement is its cost. Each row is locked while it moves, so that two workers finishing
        at once both count, and locked in one order, so that they never wait on each other."""
        with transaction.atomic():
            for stage in sorted(measured):
                cost, created = cls.objects.select_for_update().get_or_create(
                    stage=stage, defaults={"seconds_per_unit": measured[stage], "samples": 1}
                )
                if not created:
                    moved = cls.NEW_SAMPLE_WEIGHT * (measured[stage] - cost.seconds_per_unit)
                    cost.seconds_per_unit += moved
                    cost.samples += 1
                    cost.save(update_fields=["seconds_per_unit", "samples", "updated_at"])


@receiver(grant_revoked)
def cancel_renders_of_revoked_grant(sender, grant, **kwargs):
    """A revoked consent cancels its queued and running renders at once; a running worker sees
    the cancellation at its next progress report and publishes nothing."""
    pending = RenderJob.objects.filter(
        avatar__grant=grant, status__in=[RenderJob.Status.QUEUED, RenderJob.Status.RUNNING]
    )
    for job in pending:
        job.cancel("The subject revoked their consent.")


@receiver(videos_requested)
def videos_of_grant(sender, grant, **kwargs):
    """The subject's portal lists every video made with their likeness (a campaign's videos are
    listed as one entry, by the campaigns app)."""
    return (
        Video.objects.filter(job__avatar__grant=grant, job__part_of="")
        .select_related("job__avatar__grant", "job__script", "workspace")
        .order_by("-created_at")
    )
