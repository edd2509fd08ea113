"""A recipient opens their share page in Chromium: their headline and video with captions in the
campaign's colour, under the strict CSP; playing it to the end and clicking the call to action
are counted on their row by the page itself."""

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from campaigns.models import Recipient
from tests.campaigns.variants import make_campaign, rendered_variant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/screens"))


def counted(recipient, **expected) -> dict:
    fields = list(expected)
    return Recipient.objects.filter(pk=recipient.pk).values(*fields).get()


def wait_for_counts(page, recipient, **expected) -> None:
    """The counters reach ``expected`` (polled while the page's requests land)."""
    for _ in range(100):
        if counted(recipient, **expected) == expected:
            return
        page.wait_for_timeout(100)
    assert counted(recipient, **expected) == expected


def test_a_recipient_watches_their_video_and_clicks_the_call_to_action(
    page, live_server, make_avatar, portrait_png, tmp_path
):
    campaign = make_campaign(
        make_avatar,
        rows=[{"first_name": "Ada <b>", "company": "Acme"}],
        cta_url=live_server.url + "/healthz?for={{first_name}}",
    )
    campaign.brand_color = "#c2185b"
    campaign.logo.save("logo.png", ContentFile(portrait_png))
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)

    page.goto(f"/s/{recipient.share_token}/")
    expect(page.get_by_role("heading", name="A video for Ada <b>")).to_be_visible()
    expect(page.locator("#share-disclosure")).to_contain_text(
        "This video was made with AI, with the consent of the person shown."
    )
    expect(page.get_by_role("link", name="Verify this video")).to_have_attribute("href", "/verify")
    cta = page.get_by_role("link", name="Book a call")
    # The colour comes from the campaign's style sheet (no inline style under the CSP).
    assert cta.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(194, 24, 91)"
    video = page.locator("#campaign-video")
    video.evaluate(
        """v => new Promise((ok, fail) => {
            if (v.readyState >= 1) return ok();
            v.addEventListener('loadedmetadata', ok); v.addEventListener('error', fail);
        })"""
    )
    assert video.evaluate("v => v.textTracks[0].kind") == "captions"
    assert video.evaluate("v => Math.round(v.duration)") == 4
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 900, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "campaign_share.png"), full_page=True)
    wait_for_counts(page, recipient, views=1, plays=0)

    video.evaluate(
        """v => new Promise(ok => {
            v.muted = true; v.playbackRate = 4; v.addEventListener('ended', ok); v.play();
        })"""
    )
    wait_for_counts(page, recipient, plays=1, watched_percent=100)

    cta.click()
    page.wait_for_url(f"{live_server.url}/healthz?for=Ada%20%3Cb%3E")
    wait_for_counts(page, recipient, cta_clicks=1, views=1)
