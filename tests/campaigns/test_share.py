"""A recipient's share page: their headline, message and video with captions, a call to action,
the workspace's name, logo and colour, the AI disclosure and a link to verify; its files; and
404 / 410 / not-yet-made answers."""

import html
import json
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from campaigns.share_views import cta_link
from consent.models import Channel
from rendering.models import RenderJob
from tests.campaigns.variants import make_campaign, rendered_variant

pytestmark = pytest.mark.django_db

ADA = {"first_name": "Ada", "company": "Analytical Engines"}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def page_url(recipient) -> str:
    return reverse("campaign_share:page", args=[recipient.share_token])


def test_the_share_page_greets_the_recipient_with_their_video_and_call_to_action(
    make_avatar, client, tmp_path
):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    token = recipient.share_token
    page = client.get(page_url(recipient)).content.decode()
    assert '<h1 id="share-title">A video for Ada</h1>' in page
    assert "Hello Ada of Analytical Engines." in page
    assert f'src="{reverse("campaign_share:video", args=[token])}"' in page
    assert f'poster="{reverse("campaign_share:poster", args=[token])}"' in page
    captions = reverse("campaign_share:captions", args=[token])
    assert f'<track kind="captions" default label="Captions" srclang="en" src="{captions}">' in page
    assert (
        f'href="{reverse("campaign_share:go", args=[token])}"' in page
        and ">Book a call</a>" in page
    )
    assert str(campaign.workspace) in page
    assert "This video was made with AI, with the consent of the person shown." in page
    assert (
        f'<a href="{reverse("provenance:verify")}" id="share-verify">Verify this video</a>' in page
    )
    assert f'href="{reverse("campaign_share:brand", args=[token])}"' in page


def test_the_share_files_are_the_variants_own_mp4_poster_and_captions(
    make_avatar, client, tmp_path
):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    token = recipient.share_token
    mp4 = client.get(reverse("campaign_share:video", args=[token]))
    assert mp4.status_code == 200 and mp4["Content-Type"] == "video/mp4"
    assert mp4["Cache-Control"] == "no-cache"
    out = tmp_path / "served.mp4"
    out.write_bytes(body(mp4))
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(out)],
            check=True,
            capture_output=True,
        ).stdout
    )
    assert {s["codec_name"] for s in probe["streams"]} == {"h264", "aac"}
    poster = client.get(reverse("campaign_share:poster", args=[token]))
    assert poster["Content-Type"] == "image/jpeg" and body(poster)[:2] == b"\xff\xd8"
    vtt = client.get(reverse("campaign_share:captions", args=[token]))
    assert body(vtt).startswith(b"WEBVTT")
    ranged = client.get(reverse("campaign_share:video", args=[token]), HTTP_RANGE="bytes=0-9")
    assert ranged.status_code == 206 and len(body(ranged)) == 10
    # No GIF yet (it is made when the render is published).
    assert client.get(reverse("campaign_share:gif", args=[token])).status_code == 404


def test_a_value_with_markup_is_shown_as_text_never_run(make_avatar, client, tmp_path):
    hostile = {
        "first_name": "<script>alert(1)</script>",
        "company": '"><img src=x onerror=alert(1)>',
    }
    campaign = make_campaign(make_avatar, rows=[hostile])
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    page = client.get(page_url(recipient)).content.decode()
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "A video for &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert html.escape(hostile["company"]) in page


def test_a_javascript_call_to_action_gets_no_link_and_is_never_followed(make_avatar, client):
    campaign = make_campaign(make_avatar, rows=[ADA], cta_url="javascript:alert('{{first_name}}')")
    recipient = campaign.recipients.get()
    assert cta_link(recipient) == ""
    page = client.get(page_url(recipient)).content.decode()
    assert 'id="share-cta"' not in page and "javascript:" not in page
    go = client.get(reverse("campaign_share:go", args=[recipient.share_token]))
    assert go.status_code == 404
    recipient.refresh_from_db()
    assert recipient.cta_clicks == 0


@pytest.mark.parametrize(
    "url",
    ["data:text/html,hi", "//evil.example/x", "/relative", "https:///nohost", "ftp://x.example/"],
)
def test_only_an_http_or_https_link_with_a_host_is_a_call_to_action(make_avatar, url):
    campaign = make_campaign(make_avatar, rows=[ADA], cta_url=url)
    assert cta_link(campaign.recipients.get()) == ""


def test_a_value_in_the_call_to_action_is_percent_encoded(make_avatar):
    campaign = make_campaign(make_avatar, rows=[{"first_name": "Ada & Co/x?y=1", "company": ""}])
    assert (
        cta_link(campaign.recipients.get())
        == "https://example.com/book?name=Ada%20%26%20Co%2Fx%3Fy%3D1"
    )


def test_an_unknown_token_is_404(client, db):
    assert client.get(reverse("campaign_share:page", args=["nope"])).status_code == 404
    assert client.get(reverse("campaign_share:video", args=["nope"])).status_code == 404


def test_a_variant_not_rendered_yet_says_so_without_a_video(make_avatar, client):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    response = client.get(page_url(recipient))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="share-not-ready"' in page and "<video" not in page
    token = recipient.share_token
    assert client.get(reverse("campaign_share:video", args=[token])).status_code == 404


def test_a_consent_for_internal_use_only_has_no_public_share_page(make_avatar, client, tmp_path):
    campaign = make_campaign(
        make_avatar, rows=[ADA], grant_options={"channels": [Channel.INTRANET]}
    )
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    assert client.get(page_url(recipient)).status_code == 404
    token = recipient.share_token
    assert client.get(reverse("campaign_share:video", args=[token])).status_code == 404


def test_the_brand_colour_comes_as_a_style_sheet_and_a_bad_one_falls_back(make_avatar, client):
    campaign = make_campaign(make_avatar, rows=[ADA])
    token = campaign.recipients.get().share_token
    campaign.brand_color = "#12ab9F"
    campaign.save()
    css = client.get(reverse("campaign_share:brand", args=[token]))
    assert css["Content-Type"] == "text/css"
    assert css.content.decode() == ":root { --brand: #12ab9F; }\n"
    campaign.brand_color = "red;}"
    campaign.save()
    css = client.get(reverse("campaign_share:brand", args=[token]))
    assert css.content.decode() == ":root { --brand: #1f6feb; }\n"


def test_the_campaign_logo_is_shown_and_served(make_avatar, client, portrait_png):
    campaign = make_campaign(make_avatar, rows=[ADA])
    campaign.logo.save("logo.png", ContentFile(portrait_png))
    token = campaign.recipients.get().share_token
    page = client.get(reverse("campaign_share:page", args=[token])).content.decode()
    logo = reverse("campaign_share:logo", args=[token])
    assert f'<img class="campaign-logo" src="{logo}"' in page
    assert body(client.get(logo))[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_variant_that_was_cancelled_says_it_was_not_made(make_avatar, client, tmp_path):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    video = rendered_variant(recipient, tmp_path)
    RenderJob.objects.filter(pk=video.job_id).update(status=RenderJob.Status.CANCELLED)
    page = client.get(page_url(recipient)).content.decode()
    assert 'id="share-not-made"' in page and "<video" not in page


def test_a_head_request_is_answered_but_not_counted_as_a_view(make_avatar, client, tmp_path):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    assert client.head(page_url(recipient)).status_code == 200
    assert (
        client.head(reverse("campaign_share:poster", args=[recipient.share_token])).status_code
        == 200
    )
    recipient.refresh_from_db()
    assert recipient.views == 0
