"""The consent's channels decide which outputs of a video exist: a consent for internal channels
only (intranet) has no public share page, no preview tags or image and no email snippet; every
download is marked with the channels it may be shown on."""

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from consent.models import Channel, ConsentGrant
from engine.encode import synthetic_metadata
from rendering.services import build_spec
from tests.factories import GrantFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db

SHARE_URLS = ("share_page", "share_video", "share_poster", "share_captions")


@pytest.fixture
def video_for(member, make_avatar):
    """video_for(channels) → a finished video of this member's workspace under such a consent."""

    def make(channels: list[str]):
        grant = GrantFactory(subject=SubjectFactory(workspace=member.workspace), channels=channels)
        return finished_video(make_avatar(grant=grant), extras=True)

    return make


@pytest.mark.parametrize(
    ("channels", "public"),
    [
        (["intranet"], False),
        ([], False),
        (["broadcast"], False),
        (["broadcast", "intranet"], False),
        (["website"], True),
        (["social"], True),
        (["email"], True),
        (["intranet", "email"], True),
        ([c.value for c in Channel], True),
    ],
)
def test_only_a_website_social_or_email_channel_allows_public_sharing(channels, public):
    assert ConsentGrant(channels=channels).allows_public_sharing is public


def test_an_intranet_only_consent_has_no_share_page_preview_or_file(client, video_for):
    video = video_for(["intranet"])
    urls = [reverse(name, args=[video.share_token]) for name in SHARE_URLS]
    page = client.get(urls[0])
    assert page.status_code == 404
    text = page.content.decode()
    assert "covers internal use only" in text
    assert "og:" not in text and "twitter:card" not in text and "share_poster" not in text
    assert [client.get(url).status_code for url in urls[1:]] == [404, 404, 404]


def test_an_intranet_only_job_page_has_no_share_link_or_email_snippet_and_says_why(
    member_client, video_for
):
    video = video_for(["intranet"])
    page = member_client.get(reverse("rendering:job_detail", args=[video.job_id])).content.decode()
    assert 'id="share-link"' not in page and "Email HTML" not in page
    assert video.share_token not in page
    assert "No public link or email snippet: the consent covers internal use only" in page
    assert "Intranet and internal tools" in page


def test_a_public_consent_keeps_its_share_page_preview_tags_and_email_snippet(
    client, member_client, video_for
):
    video = video_for(["website", "social", "email"])
    token = video.share_token
    page = client.get(reverse("share_page", args=[token]))
    assert page.status_code == 200
    poster = reverse("share_poster", args=[token])
    assert f'<meta property="og:image" content="http://testserver{poster}">' in (
        page.content.decode()
    )
    assert client.get(poster).status_code == 200
    job_page = member_client.get(
        reverse("rendering:job_detail", args=[video.job_id])
    ).content.decode()
    assert 'id="share-link"' in job_page and 'aria-label="Email HTML"' in job_page
    assert "no-public-link" not in job_page


def test_a_revoked_internal_consent_is_gone_like_any_other(client, video_for):
    video = video_for(["intranet"])
    ConsentGrant.objects.filter(pk=video.job.avatar.grant_id).update(
        status=ConsentGrant.Status.REVOKED
    )
    assert client.get(reverse("share_page", args=[video.share_token])).status_code == 410


@pytest.mark.parametrize(
    ("channels", "mark"),
    [(["intranet"], "for-intranet"), (["website", "email"], "for-website-email")],
)
def test_member_downloads_are_named_for_the_permitted_channels(
    member_client, video_for, channels, mark
):
    video = video_for(channels)
    for kind, name in (("job_video", "mp4"), ("job_captions_srt", "srt")):
        response = member_client.get(
            reverse(f"rendering:{kind}", args=[video.job_id]) + "?download=1"
        )
        disposition = response["Content-Disposition"]
        assert re.search(rf'filename="likeness-render-{video.job_id}-{mark}\.{name}"', disposition)


def test_the_mp4_metadata_carries_the_permitted_channels(video_for, tmp_path):
    video = video_for(["intranet"])
    avatar = video.job.avatar
    avatar.voice_profile.save("profile.npz", ContentFile(b"cached"))  # not recomputed here
    spec = build_spec(
        video.job, portrait=Path(tmp_path / "p.png"), voice_sample=Path(tmp_path / "v.wav")
    )
    assert spec.metadata["likeness_channels"] == "intranet"
    assert synthetic_metadata("AI-generated", spec.metadata)["likeness_channels"] == "intranet"
