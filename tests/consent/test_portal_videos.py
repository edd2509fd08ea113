"""The subject plays every video made with their likeness from their portal, through the same
private media serving as members, until they revoke their consent or it runs out; then the portal
lists the videos as withdrawn and their files answer 410. Another subject's video is not theirs."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentGrant
from tests.factories import GrantFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(invite):
    """An invited grant past its ceremony (state set directly), and its link's token."""
    grant, token = invite()
    grant.consent_clip.save("clip.webm", ContentFile(b"clip bytes"), save=False)
    grant.clip_sha256 = "c" * 64
    grant.status, grant.signed_at = ConsentGrant.Status.ACTIVE, timezone.now()
    grant.save()
    return grant, token


@pytest.fixture
def their_video(signed, make_avatar):
    grant, token = signed
    return finished_video(make_avatar(grant=grant), extras=True), token


def portal(client, token) -> str:
    response = client.get(reverse("consent:link_home", args=[token]))
    assert response.status_code == 200
    return response.content.decode()


def file_urls(token, video) -> list[str]:
    names = ("consent:link_video", "consent:link_captions", "consent:link_thumbnail")
    return [reverse(name, args=[token, video.pk]) for name in names]


def test_the_subject_plays_their_video_from_the_portal(client, their_video):
    video, token = their_video
    page = portal(client, token)
    assert f'src="{reverse("consent:link_video", args=[token, video.pk])}"' in page
    assert reverse("consent:link_captions", args=[token, video.pk]) in page
    response = client.get(reverse("consent:link_video", args=[token, video.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == b"\x00\x00\x00\x18ftypmp42"
    assert response["Cache-Control"] == "no-store"
    captions = client.get(reverse("consent:link_captions", args=[token, video.pk]))
    assert captions.status_code == 200 and captions["Content-Type"].startswith("text/vtt")


def test_the_portal_player_can_seek(client, their_video):
    video, token = their_video
    response = client.get(
        reverse("consent:link_video", args=[token, video.pk]), HTTP_RANGE="bytes=4-7"
    )
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"ftyp"


def test_after_revocation_the_portal_lists_the_videos_as_withdrawn(client, their_video):
    video, token = their_video
    assert [client.get(url).status_code for url in file_urls(token, video)] == [200, 200, 200]
    client.post(
        reverse("consent:link_revoke", args=[token]), {"reason": "No more.", "confirm": "on"}
    )
    statuses = [client.get(url) for url in file_urls(token, video)]
    assert [r.status_code for r in statuses] == [410, 410, 410]
    assert "You revoked your consent on" in statuses[0].content.decode()
    page = portal(client, token)
    assert 'id="videos-withdrawn"' in page and "Withdrawn" in page
    assert video.job.script.title in page
    assert "<video" not in page and "video.mp4" not in page


def test_after_expiry_the_portal_lists_the_videos_as_withdrawn(client, signed, their_video):
    grant, _ = signed
    video, token = their_video
    ConsentGrant.objects.filter(pk=grant.pk).update(
        valid_from=timezone.now() - timedelta(days=3),
        valid_until=timezone.now() - timedelta(days=1),
    )
    responses = [client.get(url) for url in file_urls(token, video)]
    assert [r.status_code for r in responses] == [410, 410, 410]
    assert "Your consent ended on" in responses[0].content.decode()
    page = portal(client, token)
    assert "your consent ended on" in page and 'id="videos-withdrawn"' in page
    assert "<video" not in page


def test_another_subjects_video_is_not_playable_from_this_portal(
    client, signed, their_video, make_avatar
):
    grant, _ = signed
    _, token = their_video
    same_workspace = GrantFactory(subject=SubjectFactory(workspace=grant.workspace))
    elsewhere = GrantFactory()
    for other in (same_workspace, elsewhere):
        theirs = finished_video(make_avatar(grant=other), extras=True)
        assert [client.get(url).status_code for url in file_urls(token, theirs)] == [404] * 3
        assert reverse("consent:link_video", args=[token, theirs.pk]) not in portal(client, token)


def test_a_bad_token_plays_nothing(client, their_video):
    video, _ = their_video
    response = client.get(reverse("consent:link_video", args=["not-a-token", video.pk]))
    assert response.status_code == 404
