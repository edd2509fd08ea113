"""Revocation reaches the owner too: once the consent a render was made under is revoked or over,
members see the render as withdrawn (why and since when; no player, download or share link), and
its video, captions, poster and share links answer 410. Auditors keep the record, not the media."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent import services
from consent.models import ConsentGrant
from provenance.models import ProvenanceRecord
from tests.factories import GrantFactory, MembershipFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db

MEMBER_FILES = ("job_video", "job_poster", "job_captions_vtt", "job_captions_srt")
SHARE_FILES = ("share_page", "share_video", "share_poster", "share_captions")


@pytest.fixture
def video(member, make_avatar):
    """A finished render (video, captions, poster) under a consent that covers public links."""
    grant = GrantFactory(subject=SubjectFactory(workspace=member.workspace))
    return finished_video(make_avatar(grant=grant), extras=True)


def revoke(video, reason="I no longer want this."):
    grant = ConsentGrant.objects.get(pk=video.job.avatar.grant_id)
    services.revoke_grant(
        grant, reason=reason, evidence=services.Evidence(ip="198.51.100.7", user_agent="pytest")
    )
    grant.refresh_from_db()
    return grant


def expire(video):
    ConsentGrant.objects.filter(pk=video.job.avatar.grant_id).update(
        valid_from=timezone.now() - timedelta(days=3),
        valid_until=timezone.now() - timedelta(days=1),
    )


def job_page(client, video) -> str:
    response = client.get(reverse("rendering:job_detail", args=[video.job_id]))
    assert response.status_code == 200
    return response.content.decode()


def media_statuses(client, video) -> list[int]:
    member = [reverse(f"rendering:{name}", args=[video.job_id]) for name in MEMBER_FILES]
    downloads = [f"{url}?download=1" for url in member]
    shared = [reverse(name, args=[video.share_token]) for name in SHARE_FILES]
    return [client.get(url).status_code for url in member + downloads + shared]


def test_the_owners_page_offers_the_video_until_the_consent_is_revoked(member_client, video):
    page = job_page(member_client, video)
    assert 'id="result-video"' in page and "Download MP4" in page and 'id="share-link"' in page
    revoke(video)
    page = job_page(member_client, video)
    assert 'id="withdrawn-badge"' in page and ">Withdrawn<" in page and ">Ready<" not in page
    assert "The subject revoked their consent on" in page
    assert f"{timezone.now():%Y-%m-%d}" in page
    assert "<video" not in page and "Download MP4" not in page and ".mp4" not in page
    assert 'id="share-link"' not in page and video.share_token not in page
    assert "Email HTML" not in page and "captions-vtt" not in page


def test_the_render_list_shows_the_render_as_withdrawn_without_its_poster(member_client, video):
    revoke(video)
    listing = member_client.get(reverse("rendering:job_list")).content.decode()
    assert ">Withdrawn<" in listing and "poster.jpg" not in listing


def test_every_media_url_answers_200_before_and_410_after_revocation(client, member_client, video):
    assert set(media_statuses(member_client, video)) == {200}
    revoke(video)
    assert set(media_statuses(member_client, video)) == {410}
    gone = member_client.get(reverse("rendering:job_video", args=[video.job_id]))
    text = gone.content.decode()
    assert "revoked their consent" in text and "record stays" in text
    assert reverse("rendering:job_detail", args=[video.job_id]) in text
    anonymous = client.get(reverse("share_video", args=[video.share_token]))
    assert anonymous.status_code == 410


def test_expiry_withdraws_the_render_like_a_revocation(member_client, video):
    assert set(media_statuses(member_client, video)) == {200}
    expire(video)
    assert set(media_statuses(member_client, video)) == {410}
    page = job_page(member_client, video)
    assert ">Withdrawn<" in page and "The consent this video was made under ended on" in page
    assert "<video" not in page and "Download MP4" not in page and 'id="share-link"' not in page
    gone = member_client.get(reverse("rendering:job_poster", args=[video.job_id]))
    assert "consent of the person it depicts has ended" in gone.content.decode()


def test_the_status_json_says_when_and_why_a_render_was_withdrawn(member_client, video):
    url = reverse("rendering:job_status_json", args=[video.job_id])
    assert member_client.get(url).json()["withdrawn"] is None
    grant = revoke(video)
    status = member_client.get(url).json()
    assert status["status"] == "succeeded"
    assert status["withdrawn"] == {"reason": "revoked", "at": grant.revoked_at.isoformat()}


def test_an_auditor_keeps_the_record_but_not_the_media(client, member, video):
    record = ProvenanceRecord.for_job(video.job)
    ProvenanceRecord.objects.filter(pk=record.pk).update(video=video)
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    grant = revoke(video, reason="Changed my mind.")
    page = job_page(client, video)
    assert video.job.script.title in page and video.job.script_text in page
    assert ">Withdrawn<" in page and record.payload_id in page
    assert reverse("consent:grant_detail", args=[grant.pk]) in page
    assert set(media_statuses(client, video)) == {410}
    public = client.get(reverse("provenance:record", args=[record.payload_id]) + "?format=json")
    assert public.status_code == 200 and public.json()["consent"]["status"] == "revoked"
    grant_page = client.get(reverse("consent:grant_detail", args=[grant.pk]))
    assert grant_page.status_code == 200 and "Changed my mind." in grant_page.content.decode()


def test_a_render_that_failed_before_the_revocation_is_not_called_withdrawn(
    member_client, member, make_avatar
):
    from rendering.models import RenderJob
    from tests.factories import RenderJobFactory

    grant = GrantFactory(subject=SubjectFactory(workspace=member.workspace))
    job = RenderJobFactory(avatar=make_avatar(grant=grant), status=RenderJob.Status.FAILED)
    ConsentGrant.objects.filter(pk=grant.pk).update(status=ConsentGrant.Status.REVOKED)
    page = member_client.get(reverse("rendering:job_detail", args=[job.pk])).content.decode()
    assert ">Failed<" in page and "Withdrawn" not in page
