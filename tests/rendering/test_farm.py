"""Render jobs that survive dead workers, never finish twice, and share workers fairly."""

import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consent.models import Purpose
from rendering.models import RenderJob, Video
from rendering.scheduler import claim_next_job, retry_delay, sweep_expired_leases
from rendering.services import _publish, submit_render
from rendering.workers import drain_queue
from tests.factories import (
    GrantFactory,
    MembershipFactory,
    RenderJobFactory,
    ScriptFactory,
    SubjectFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def farm_settings(settings, tmp_path):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    settings.RENDER_LEASE_SECONDS = 1
    settings.RENDER_RETRY_BACKOFF_SECONDS = 0
    settings.RENDER_MAX_ATTEMPTS = 3
    settings.RENDER_WORK_DIR = tmp_path / "work"
    return settings


@pytest.fixture
def studio(make_avatar, farm_settings):
    """Two workspaces, each with an owner, an avatar and a script."""

    def workspace():
        owner = MembershipFactory()
        avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
        script = ScriptFactory(workspace=owner.workspace, body="A short line for the farm.")
        return SimpleNamespace(owner=owner, avatar=avatar, script=script)

    return workspace


def submit(ws, *, script=None):
    return submit_render(
        workspace=ws.owner.workspace,
        user=ws.owner.user,
        avatar=ws.avatar,
        script=script or ws.script,
        purpose=Purpose.INTERNAL,
    )


def expire_lease(job):
    RenderJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_single_job_of_a_small_workspace_is_not_starved_by_a_big_batch(studio):
    big, small = studio(), studio()
    batch = [submit(big) for _ in range(20)]
    single = submit(small)
    first = claim_next_job("worker-1")
    second = claim_next_job("worker-2")
    assert first.pk == batch[0].pk  # it waited longest
    assert second.pk == single.pk  # the big workspace already has a render running


def test_workspaces_with_nothing_running_take_turns(studio):
    big, small = studio(), studio()
    for _ in range(5):
        submit(big)
    first_big = claim_next_job("worker-1")
    RenderJob.objects.filter(pk=first_big.pk).update(status=RenderJob.Status.SUCCEEDED)
    smalls = [submit(small), submit(small)]
    # Neither workspace has a render running; the big one was served last, so the small one goes.
    assert claim_next_job("worker-1").pk == smalls[0].pk


def test_a_higher_priority_job_goes_first(studio):
    big, small = studio(), studio()
    submit(big)
    urgent = submit(small)
    RenderJob.objects.filter(pk=urgent.pk).update(priority=10)
    assert claim_next_job("worker-1").pk == urgent.pk


def test_a_silent_worker_loses_the_job_which_is_retried_and_published_once(studio):
    ws = studio()
    job = submit(ws)
    dead = claim_next_job("dead-worker")
    assert dead.pk == job.pk and dead.lease_owner == "dead-worker"
    expire_lease(dead)

    assert sweep_expired_leases() == [job.pk]
    job.refresh_from_db()
    assert job.status == RenderJob.Status.QUEUED and "went silent" in job.error
    assert DBTaskResult.objects.filter(status="READY").count() == 2  # the retry has its own turn

    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED and job.attempts == 2 and job.error == ""
    # The dead worker wakes up late: it can neither report nor publish.
    assert not dead.report_progress("encode", 0.9)
    _publish(dead, SimpleNamespace(video_path="/nonexistent.mp4"))
    assert Video.objects.filter(job=job).count() == 1


def test_after_the_last_attempt_a_job_with_silent_workers_fails_with_the_reason(studio, settings):
    settings.RENDER_MAX_ATTEMPTS = 1
    job = submit(studio())
    expire_lease(claim_next_job("dead-worker"))
    sweep_expired_leases()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.FAILED and "went silent" in job.error


def test_retries_back_off_exponentially(settings):
    settings.RENDER_RETRY_BACKOFF_SECONDS = 30
    delays = [retry_delay(attempts).total_seconds() for attempts in (0, 1, 2, 3, 4)]
    assert delays == [30, 30, 60, 120, 240]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_worker_killed_mid_render_is_replaced_and_the_video_is_made_exactly_once(
    studio, media_root, farm_settings
):
    ws = studio()
    ws.script.body = "This render is long enough to be interrupted in the middle. " * 4
    ws.script.save()
    job = submit(ws)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media_root),
        "RENDER_WORK_DIR": str(farm_settings.RENDER_WORK_DIR),
        "RENDER_LEASE_SECONDS": "1",
        "RENDER_WIDTH": "256",
        "RENDER_HEIGHT": "256",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "*",
            "--no-reload",
            "--interval",
            "0.1",
            "--no-startup-delay",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == RenderJob.Status.RUNNING and job.stage in ("face", "label", "encode"):
                break
            assert job.status in (RenderJob.Status.QUEUED, RenderJob.Status.RUNNING), job.error
            time.sleep(0.02)
        assert job.stage in ("face", "label", "encode"), "the worker never got into the render"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_attempt_folder = Path(farm_settings.RENDER_WORK_DIR) / f"job-{job.pk}-1"
    assert killed_attempt_folder.exists()  # it died holding its work

    while RenderJob.objects.get(pk=job.pk).lease_expires_at > timezone.now():
        time.sleep(0.05)  # nobody renews the dead worker's lease
    sweeper = io.StringIO()
    call_command("render_sweeper", once=True, stdout=sweeper)
    assert f"render #{job.pk}" in sweeper.getvalue()
    drain_queue()  # the retry's turn goes to another worker, which finishes the job

    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert Video.objects.filter(job=job).count() == 1
    assert len(list(media_root.rglob("*.mp4"))) == 1
    assert not list(Path(farm_settings.RENDER_WORK_DIR).glob(f"job-{job.pk}-*"))


def test_storage_failing_while_saving_fails_the_attempt_with_the_reason_and_a_retry_succeeds(
    studio, media_root, farm_settings
):
    farm_settings.RENDER_MAX_ATTEMPTS = 1
    job = submit(studio())
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root / "videos").write_text("a file where the videos folder should be")

    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.FAILED
    assert "Saving the video to storage failed" in job.error and "Gave up after 1" in job.error
    assert not Video.objects.exists()

    (media_root / "videos").unlink()  # storage is back
    from rendering.services import retry_render

    retry_render(job)
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED and job.attempts == 1
    assert Video.objects.filter(job=job).count() == 1


def test_a_storage_failure_with_attempts_left_is_retried_automatically(
    studio, media_root, farm_settings
):
    job = submit(studio())
    media_root.mkdir(parents=True, exist_ok=True)
    blocker = media_root / "videos"
    blocker.write_text("not a folder")
    claimed = claim_next_job("worker-1")
    from rendering.scheduler import Heartbeat
    from rendering.services import _render_claimed

    heartbeat = Heartbeat(claimed)
    _render_claimed(claimed, heartbeat)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.QUEUED and "storage failed" in job.error
    blocker.unlink()
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED and job.attempts == 2


def test_a_render_survives_the_database_dropping_its_connections(studio, farm_settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server that can drop a connection")
    import threading

    ws = studio()
    ws.script.body = "Long enough to lose the database connection in the middle. " * 3
    ws.script.save()
    job = submit(ws)
    worker = threading.Thread(target=drain_queue)
    worker.start()
    while RenderJob.objects.get(pk=job.pk).stage not in ("face", "label", "encode", "done"):
        time.sleep(0.02)
    with connection.cursor() as cursor:  # the server drops every other session (the worker's)
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    worker.join(timeout=120)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    assert Video.objects.filter(job=job).count() == 1


def test_a_heartbeat_never_keeps_a_worker_process_alive():
    """Its thread is a daemon: a worker that exits without stopping it (a render killed, Ctrl-C)
    ends, and the lease then runs out for the sweeper to hand the job on. It is named after its
    job, as an operator's thread dump shows it."""
    from rendering.scheduler import Heartbeat

    job = RenderJobFactory()
    heartbeat = Heartbeat(job)
    assert heartbeat.daemon
    assert heartbeat.name == f"heartbeat-{job.pk}"


def test_the_heartbeat_keeps_a_live_render_past_several_lease_lengths_while_a_sweeper_runs(
    studio, farm_settings
):
    """A worker that is alive keeps its job however long the render takes: for four lease
    lengths a sweeper runs without pause and never takes the job. Once the heartbeat stops, the
    very same sweeper takes it within a lease (so the sweeps above could have)."""
    from rendering.scheduler import Heartbeat

    farm_settings.RENDER_LEASE_SECONDS = 0.5
    job = submit(studio())
    claimed = claim_next_job("live-worker")
    heartbeat = Heartbeat(claimed)
    heartbeat.start()
    try:
        ends = time.monotonic() + 4 * farm_settings.RENDER_LEASE_SECONDS
        sweeps = 0
        while time.monotonic() < ends:
            assert sweep_expired_leases() == []
            sweeps += 1
        job.refresh_from_db()
        assert job.status == RenderJob.Status.RUNNING and job.lease_owner == "live-worker"
        assert job.lease_expires_at > timezone.now() and not heartbeat.lost
    finally:
        heartbeat.stop()
    assert sweeps > 10
    taken = []
    gives_up = time.monotonic() + 10 * farm_settings.RENDER_LEASE_SECONDS
    while not taken and time.monotonic() < gives_up:
        taken = sweep_expired_leases()
    assert taken == [job.pk]
