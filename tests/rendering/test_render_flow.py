"""Submit → task on commit → worker → MP4, with the consent policy checked at both ends."""

import threading
import time

import pytest
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consent.models import ConsentGrant, Purpose
from rendering.models import RenderJob, Video
from rendering.services import RenderRefused, submit_render
from rendering.workers import drain_queue
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory
from tests.media import ffprobe, stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(make_avatar, settings):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    script = ScriptFactory(
        workspace=owner.workspace, body="Hello. This is a test of the render path."
    )
    return owner, avatar, script


def submit(owner, avatar, script, purpose=Purpose.INTERNAL):
    return submit_render(
        workspace=owner.workspace, user=owner.user, avatar=avatar, script=script, purpose=purpose
    )


def test_a_render_is_enqueued_on_commit_and_the_worker_makes_a_decodable_mp4(setup):
    owner, avatar, script = setup
    job = submit(owner, avatar, script)
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.READY and task.args_kwargs["args"] == [job.pk]

    drain_queue()

    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    assert (job.progress, job.stage, job.attempts) == (1.0, "done", 1)
    video = job.video
    info = ffprobe(video.file.path)
    picture, sound = stream(info, "video"), stream(info, "audio")
    assert (picture["codec_name"], sound["codec_name"]) == ("h264", "aac")
    assert (int(picture["width"]), int(picture["height"])) == (256, 256)
    duration = float(info["format"]["duration"])
    assert int(picture["nb_read_frames"]) == pytest.approx(25 * duration, abs=1)
    assert video.frames == int(picture["nb_read_frames"])
    assert float(sound["duration"]) == pytest.approx(float(picture["duration"]), abs=0.1)
    assert video.size_bytes == video.file.size
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_a_render_refused_at_submit_creates_no_job_and_no_task(setup):
    owner, avatar, script = setup
    avatar.grant.revoke(reason="no", at=timezone.now())
    with pytest.raises(RenderRefused, match="revoked"):
        submit(owner, avatar, script)
    assert not RenderJob.objects.exists() and not DBTaskResult.objects.exists()


def test_a_purpose_the_subject_did_not_consent_to_is_refused_at_submit(setup):
    owner, avatar, script = setup
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(purposes=[Purpose.TRAINING])
    avatar.refresh_from_db()
    with pytest.raises(RenderRefused, match="does not cover marketing"):
        submit(owner, avatar, script, purpose=Purpose.MARKETING)


def test_consent_revoked_between_submit_and_worker_cancels_and_renders_nothing(setup, media_root):
    owner, avatar, script = setup
    job = submit(owner, avatar, script)
    avatar.grant.revoke(reason="changed my mind", at=timezone.now())

    drain_queue()

    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED
    assert "revoked" in job.error
    assert not Video.objects.exists()
    assert not any(media_root.rglob("*.mp4"))


def test_consent_expiring_before_the_worker_starts_cancels_the_job(setup):
    owner, avatar, script = setup
    job = submit(owner, avatar, script)
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(valid_until=timezone.now())
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED and "expired" in job.error


def test_a_second_run_of_the_same_job_does_nothing(setup):
    from rendering.services import run_render

    owner, avatar, script = setup
    job = submit(owner, avatar, script)
    drain_queue()
    assert run_render(job.pk) is None  # nothing is ready: the finished job is not claimed again
    job.refresh_from_db()
    assert job.attempts == 1 and Video.objects.count() == 1


def test_cancelling_while_rendering_stops_the_render_and_publishes_nothing(setup, settings):
    owner, avatar, script = setup
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 512
    script.body = "This one is long enough to be cancelled. " * 6
    script.save()
    job = submit(owner, avatar, script)
    worker = threading.Thread(target=drain_queue)
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == RenderJob.Status.RUNNING and job.stage not in (
            "checking consent",
            "voice",
        ):
            break
        time.sleep(0.02)
    assert job.status == RenderJob.Status.RUNNING, (
        "the render finished before it could be cancelled"
    )
    seen_progress = job.progress
    assert job.cancel("Cancelled by the test.")
    worker.join(timeout=120)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED and job.error == "Cancelled by the test."
    assert 0 < seen_progress < 1
    assert not Video.objects.exists()


def test_the_job_page_polls_while_running_and_plays_the_video_when_done(setup, client):
    owner, avatar, script = setup
    client.force_login(owner.user)
    response = client.post(
        reverse("rendering:submit"),
        {"script": script.pk, "avatar": avatar.pk, "purpose": Purpose.INTERNAL},
    )
    job = RenderJob.objects.get()
    assert response["Location"] == reverse("rendering:job_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page

    drain_queue()

    status = client.get(reverse("rendering:job_status", args=[job.pk])).content.decode()
    assert "hx-trigger" not in status and "<video" in status
    payload = client.get(reverse("rendering:job_status_json", args=[job.pk])).json()
    assert payload["status"] == "succeeded" and payload["video_seconds"] > 1
    download = client.get(reverse("rendering:job_video", args=[job.pk]) + "?download=1")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    whole = b"".join(download.streaming_content)
    assert whole[4:8] == b"ftyp"

    # Players seek with byte ranges.
    video_url = reverse("rendering:job_video", args=[job.pk])
    first = client.get(video_url, HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206 and first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert b"".join(first.streaming_content) == whole[:100]
    tail = client.get(video_url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    assert client.get(video_url, HTTP_RANGE=f"bytes={len(whole)}-").status_code == 416


def test_the_render_button_refuses_with_the_policy_reason(setup, client):
    owner, avatar, script = setup
    avatar.grant.revoke(reason="no", at=timezone.now())
    client.force_login(owner.user)
    response = client.post(
        reverse("rendering:submit"),
        {"script": script.pk, "avatar": avatar.pk, "purpose": Purpose.INTERNAL},
        follow=True,
    )
    assert "Not rendered: The subject revoked this consent" in response.content.decode()
    assert not RenderJob.objects.exists()
