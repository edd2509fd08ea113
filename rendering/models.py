import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import WorkspaceScoped
from avatars.models import Avatar
from consent.models import Purpose
from studio.models import Script


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

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return f"Render #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        return round(100 * self.progress)

    def _transition(self, *, allowed_from, **changes) -> bool:
        """Change state only if the row is still in an allowed state; tells whether it did.

        A conditional UPDATE, so two workers (or a worker and a cancel click) can never both win.
        """
        won = RenderJob.objects.filter(pk=self.pk, status__in=allowed_from).update(**changes) == 1
        self.refresh_from_db()
        return won

    def start(self) -> bool:
        return self._transition(
            allowed_from=[self.Status.QUEUED],
            status=self.Status.RUNNING,
            stage="checking consent",
            started_at=timezone.now(),
            attempts=models.F("attempts") + 1,
        )

    def report_progress(self, stage: str, fraction: float) -> bool:
        """Record progress; False means the job is no longer running (e.g. cancelled)."""
        updated = RenderJob.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(
            stage=stage, progress=max(0.0, min(1.0, fraction))
        )
        return updated == 1

    def succeed(self) -> bool:
        return self._transition(
            allowed_from=[self.Status.RUNNING],
            status=self.Status.SUCCEEDED,
            stage="done",
            progress=1.0,
            finished_at=timezone.now(),
        )

    def fail(self, reason: str) -> bool:
        return self._transition(
            allowed_from=[self.Status.QUEUED, self.Status.RUNNING],
            status=self.Status.FAILED,
            error=reason,
            finished_at=timezone.now(),
        )

    def cancel(self, reason: str) -> bool:
        return self._transition(
            allowed_from=[self.Status.QUEUED, self.Status.RUNNING],
            status=self.Status.CANCELLED,
            error=reason,
            finished_at=timezone.now(),
        )


def _video_upload_to(instance, filename: str) -> str:
    return f"videos/{instance.workspace_id}/{uuid.uuid4().hex}.mp4"


class Video(WorkspaceScoped):
    job = models.OneToOneField(RenderJob, on_delete=models.CASCADE, related_name="video")
    file = models.FileField(upload_to=_video_upload_to)
    seconds = models.FloatField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.PositiveIntegerField()
    frames = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Video of render #{self.job_id}"
