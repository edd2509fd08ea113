"""Which render runs next, and what happens when a worker dies.

A task in the queue is a turn to render, not an order to render one job: when a worker gets a turn
it takes the next job fairly — plan priority first, then the workspace with the fewest renders
running, then round robin (the workspace served longest ago) — so one workspace's batch of 500
can't starve another's single video. Each running job carries a lease its worker renews; a job
whose lease expired goes back to the queue with backoff, up to RENDER_MAX_ATTEMPTS.
"""

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from rendering.models import RenderJob
from rendering.signals import render_due

CLAIM_RETRIES = 5
log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """Names one attempt: host, process and a random part (a lease belongs to one attempt)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def claim_next_job(worker_id: str) -> RenderJob | None:
    """Take the fairest ready job for this worker, or None when nothing is ready."""
    sweep_expired_leases()
    for _ in range(CLAIM_RETRIES):  # another worker may win the same job: pick again
        job = _fairest_ready_job()
        if job is None:
            return None
        if job.start(worker_id=worker_id, lease_seconds=settings.RENDER_LEASE_SECONDS):
            return job
    return None


def _fairest_ready_job() -> RenderJob | None:
    now = timezone.now()
    ready = RenderJob.objects.filter(status=RenderJob.Status.QUEUED).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    waiting = list(
        ready.values("workspace_id").annotate(top=Max("priority"), oldest=Min("created_at"))
    )
    if not waiting:
        return None
    running = dict(
        RenderJob.objects.filter(status=RenderJob.Status.RUNNING)
        .values_list("workspace_id")
        .annotate(n=Count("id"))
    )
    # Round robin among equals: the workspace whose last render started longest ago goes next.
    last_started = dict(
        RenderJob.objects.filter(workspace_id__in=[w["workspace_id"] for w in waiting])
        .values_list("workspace_id")
        .annotate(last=Max("started_at"))
    )
    never = timezone.now() - timedelta(days=36500)
    chosen = min(
        waiting,
        key=lambda w: (
            -w["top"],
            running.get(w["workspace_id"], 0),
            last_started.get(w["workspace_id"]) or never,
            w["oldest"],
        ),
    )
    return (
        ready.filter(workspace_id=chosen["workspace_id"])
        .order_by("-priority", "created_at", "pk")
        .select_related("avatar__grant", "workspace", "script")
        .first()
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, then twice, then four times as long..."""
    base = settings.RENDER_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def retry_later(job: RenderJob, *, reason: str, lost_lease: bool = False) -> bool:
    """Queue the job again after a backoff, or fail it after the last attempt; True if handled.

    `lost_lease`: its worker went silent (only then may someone other than the holder act)."""
    if job.attempts >= settings.RENDER_MAX_ATTEMPTS:
        return job.fail(f"{reason} Gave up after {job.attempts} attempts.", lost_lease=lost_lease)
    retry_at = timezone.now() + retry_delay(job.attempts)
    with transaction.atomic():
        requeued = job.requeue(reason=reason, retry_at=retry_at, lost_lease=lost_lease)
        if requeued:
            transaction.on_commit(
                lambda: render_due.send(sender=RenderJob, job_id=job.pk, run_after=retry_at)
            )
    return requeued


def sweep_expired_leases() -> list[int]:
    """Requeue (or, after the last attempt, fail) every running job whose worker went silent."""
    expired = RenderJob.objects.filter(
        status=RenderJob.Status.RUNNING, lease_expires_at__lt=timezone.now()
    )
    return [
        job.pk
        for job in expired
        if retry_later(
            job, reason=f"Attempt {job.attempts} stopped: its worker went silent.", lost_lease=True
        )
    ]


def reconnecting(query):
    """Run a short autocommit query; if the database dropped this connection, reconnect once."""
    try:
        return query()
    except (InterfaceError, OperationalError):
        connection.close()
        return query()


class Heartbeat(threading.Thread):
    """Renews a running job's lease in the background while the engine works."""

    def __init__(self, job: RenderJob):
        super().__init__(name=f"heartbeat-{job.pk}", daemon=True)
        self.job = job
        self.every = max(settings.RENDER_LEASE_SECONDS / 3, 0.05)
        self.lost = False
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopping.wait(self.every):
                try:
                    renewed = reconnecting(
                        lambda: self.job.renew_lease(settings.RENDER_LEASE_SECONDS)
                    )
                except DatabaseError:
                    log.warning(
                        "Could not renew the lease of render %s; will try again", self.job.pk
                    )
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            connections.close_all()  # this thread's own database connection

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
