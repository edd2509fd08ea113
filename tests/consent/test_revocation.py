"""Revocation from the subject's link: renders stop, avatars go dark, share pages answer 410,
and biometric data is erased once the retention period has passed."""

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from avatars.models import Avatar
from consent import services
from consent.models import ConsentGrant, LedgerEntry
from rendering import services as rendering_services
from rendering.models import RenderJob, Video
from tests.factories import RenderJobFactory, ScriptFactory, finished_video

pytestmark = pytest.mark.django_db

SUBJECT = services.Evidence(ip="198.51.100.7", user_agent="Firefox")


@pytest.fixture
def active_invited(invite):
    """An invited grant that went through the ceremony and verification (state set directly)."""
    grant, token = invite()
    grant.consent_clip.save("clip.webm", ContentFile(b"clip bytes"), save=False)
    grant.clip_sha256 = "c" * 64
    grant.status, grant.signed_at = ConsentGrant.Status.ACTIVE, timezone.now()
    grant.save()
    return grant, token


def revoke_on_link(client, token, reason="I changed my mind."):
    return client.post(
        reverse("consent:link_revoke", args=[token]), {"reason": reason, "confirm": "on"}
    )


def test_revoking_on_the_link_cancels_pending_renders_and_disables_avatars(
    client, active_invited, make_avatar
):
    grant, token = active_invited
    avatar = make_avatar(grant=grant)
    queued = RenderJobFactory(avatar=avatar)
    running = RenderJobFactory(avatar=avatar, status=RenderJob.Status.RUNNING)
    done = RenderJobFactory(avatar=avatar, status=RenderJob.Status.SUCCEEDED)
    response = revoke_on_link(client, token)
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.REVOKED and grant.revoke_reason
    for job in (queued, running):
        job.refresh_from_db()
        assert job.status == RenderJob.Status.CANCELLED
        assert "revoked" in job.error
    done.refresh_from_db()
    assert done.status == RenderJob.Status.SUCCEEDED
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.DISABLED
    revoked = LedgerEntry.objects.get(grant_id=grant.pk, event="revoked").payload
    assert revoked["reason"] == "I changed my mind." and revoked["ip"] == "127.0.0.1"


def test_revoking_needs_the_confirmation_box(client, active_invited):
    grant, token = active_invited
    response = client.post(reverse("consent:link_revoke", args=[token]), {"reason": "x"})
    assert response.status_code == 400
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.ACTIVE


def test_revoking_twice_says_it_is_already_revoked(client, active_invited):
    _, token = active_invited
    revoke_on_link(client, token)
    response = revoke_on_link(client, token)
    assert response.status_code == 409 and "already revoked" in response.content.decode()


def test_revoked_between_submit_and_worker_start_renders_nothing(
    active_invited, make_avatar, django_capture_on_commit_callbacks
):
    grant, _ = active_invited
    avatar = make_avatar(grant=grant)
    script = ScriptFactory(workspace=grant.workspace)
    with django_capture_on_commit_callbacks(execute=False):  # the task is not enqueued
        job = rendering_services.submit_render(
            workspace=grant.workspace, user=None, avatar=avatar, script=script, purpose="internal"
        )
    # The revocation lands directly on the row (e.g. from another process), with no receiver.
    ConsentGrant.objects.filter(pk=grant.pk).update(
        status=ConsentGrant.Status.REVOKED, revoked_at=timezone.now()
    )
    assert rendering_services.run_render(job.pk) == RenderJob.Status.CANCELLED
    job.refresh_from_db()
    assert "revoked" in job.error and job.finished_at is not None
    assert not Video.objects.filter(job=job).exists()
    decisions = LedgerEntry.objects.filter(grant_id=grant.pk).values_list("event", "payload")
    stages = [(event, payload["stage"]) for event, payload in decisions if "stage" in payload]
    assert stages == [("render_authorized", "submit"), ("render_refused", "worker")]


def test_revoked_through_the_link_before_the_worker_starts_renders_nothing(
    client, active_invited, make_avatar, django_capture_on_commit_callbacks
):
    grant, token = active_invited
    avatar = make_avatar(grant=grant)
    with django_capture_on_commit_callbacks(execute=False):
        job = rendering_services.submit_render(
            workspace=grant.workspace,
            user=None,
            avatar=avatar,
            script=ScriptFactory(workspace=grant.workspace),
            purpose="internal",
        )
    revoke_on_link(client, token)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED  # by the revocation, before any worker
    assert rendering_services.run_render(job.pk) in (None, RenderJob.Status.CANCELLED)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED and job.started_at is None
    assert not Video.objects.filter(job=job).exists()


def public(grant):
    """The consent also covers a public channel, so its videos have share pages."""
    grant.channels = ["intranet", "website"]
    grant.save(update_fields=["channels"])
    return grant


def test_share_pages_answer_410_once_revoked(client, active_invited, make_avatar):
    grant, token = active_invited
    public(grant)
    video = finished_video(make_avatar(grant=grant))
    page = reverse("share_page", args=[video.share_token])
    media = reverse("share_video", args=[video.share_token])
    assert client.get(page).status_code == 200
    assert client.get(media).status_code == 200
    revoke_on_link(client, token)
    gone = client.get(page)
    assert gone.status_code == 410 and "revoked their consent" in gone.content.decode()
    assert client.get(media).status_code == 410
    assert client.get(reverse("share_page", args=["1:forged"])).status_code == 404


def test_share_pages_answer_410_once_the_consent_period_ends(client, active_invited, make_avatar):
    grant, _ = active_invited
    public(grant)
    video = finished_video(make_avatar(grant=grant), extras=True)
    urls = [
        reverse(name, args=[video.share_token])
        for name in ("share_page", "share_video", "share_captions", "share_poster")
    ]
    assert client.get(urls[0]).status_code == 200
    ConsentGrant.objects.filter(pk=grant.pk).update(valid_until=timezone.now())
    gone = client.get(urls[0])
    assert gone.status_code == 410 and "consent of the person it depicts has ended" in (
        gone.content.decode()
    )
    assert [client.get(url).status_code for url in urls[1:]] == [410, 410, 410]


def test_the_portal_lists_the_videos_made_with_the_likeness(client, active_invited, make_avatar):
    grant, token = active_invited
    video = finished_video(make_avatar(grant=grant))
    page = client.get(reverse("consent:link_home", args=[token])).content.decode()
    assert video.job.script.title in page and "Revoke my consent" in page


def test_biometric_data_is_erased_only_after_the_retention_period(
    active_invited, make_avatar, settings, media_root, django_capture_on_commit_callbacks
):
    settings.CONSENT_BIOMETRIC_RETENTION_DAYS = 30
    grant, _ = active_invited
    avatar = make_avatar(grant=grant)
    services.revoke_grant(grant, reason="", evidence=SUBJECT)
    files = [
        grant.consent_clip.path,
        grant.reference_portrait.path,
        grant.reference_voice.path,
        avatar.portrait.path,
        avatar.voice_sample.path,
    ]

    call_command("erase_biometrics")  # within the retention period: nothing goes
    grant.refresh_from_db()
    assert grant.biometrics_erased_at is None
    assert all(os.path.exists(f) for f in files)

    ConsentGrant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):  # files go once the erasure commits
        call_command("erase_biometrics")
    grant.refresh_from_db()
    avatar.refresh_from_db()
    assert grant.biometrics_erased_at is not None
    assert not any(os.path.exists(f) for f in files)
    assert not grant.consent_clip and not grant.reference_portrait
    assert not avatar.portrait and avatar.face_landmarks == []
    assert grant.clip_sha256  # the evidence hashes stay; the biometric data goes
    deleted = LedgerEntry.objects.get(grant_id=grant.pk, event="data_deleted")
    assert "consent_clip" in deleted.payload["files"] and deleted.payload["avatars"] == 1
    call_command("erase_biometrics")  # idempotent
    assert LedgerEntry.objects.filter(grant_id=grant.pk, event="data_deleted").count() == 1


def test_expiry_is_recorded_once_in_the_ledger(active_invited):
    grant, _ = active_invited
    ConsentGrant.objects.filter(pk=grant.pk).update(
        valid_from=timezone.now() - timedelta(days=3),
        valid_until=timezone.now() - timedelta(days=1),
    )
    call_command("erase_biometrics")
    call_command("erase_biometrics")
    assert LedgerEntry.objects.filter(grant_id=grant.pk, event="expired").count() == 1
