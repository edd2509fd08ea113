"""A subject who signed records footage for a footage avatar on their link, in Chromium with a
fake camera and microphone playing footage this test makes (the astronaut reading, in slt's
voice); the page records it with MediaRecorder and uploads it, the server checks and keeps it."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import expect

from consent import services
from consent.ledger import Event
from consent.models import LedgerEntry
from tests.browser.conftest import camera_y4m, watch_csp_refusals
from tests.factories import GrantFactory
from tests.footage_media import FootageMaker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_SECONDS = 5


def sound_of(video: Path, out: Path) -> Path:
    """The footage's sound as the 48 kHz WAV Chromium's fake microphone plays."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vn", "-ar", "48000", "-ac", "1",
         "-c:a", "pcm_s16le", str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_the_subject_records_footage_on_their_portal(
    live_server, fake_media_browser, tmp_path, settings, astronaut_rgb, portrait_png
):
    settings.FOOTAGE_MIN_SECONDS, settings.FOOTAGE_MAX_SECONDS = MIN_SECONDS, 30
    grant = GrantFactory(reference_portrait=ContentFile(portrait_png, name="ref.png"))
    _, token = services.issue_subject_link(grant, by=None, evidence=services.Evidence())
    footage = FootageMaker(tmp_path).make(astronaut_rgb, seconds=10, size=288)
    browser = fake_media_browser(
        camera_y4m(footage, tmp_path / "camera.y4m"), sound_of(footage, tmp_path / "mic.wav")
    )
    context = browser.new_context(base_url=live_server.url)
    refused = watch_csp_refusals(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(reverse("consent:link_home", args=[token]))
    expect(page.locator("#footage-passage")).to_contain_text("The quick brown fox")
    expect(page.locator("#footage-status")).to_have_attribute("data-state", "none")

    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#footage-status")).to_have_attribute("data-state", "recording")
    # The page's own clock says when the take is long enough (no sleeping in the test).
    long_enough = re.compile(rf"^([{MIN_SECONDS + 1}-9]|\d\d+)$")
    expect(page.locator("#footage-elapsed")).to_have_attribute(
        "data-seconds", long_enough, timeout=30_000
    )
    page.get_by_role("button", name="Stop and save the footage").click()
    status = page.locator("#footage-status")
    expect(status).not_to_have_attribute("data-state", "uploading", timeout=60_000)
    assert status.get_attribute("data-state") == "saved", status.text_content()
    expect(status).to_contain_text("Your footage is saved")
    assert refused == []

    grant.refresh_from_db()
    assert grant.footage and grant.footage_recorded_at
    entry = LedgerEntry.objects.get(grant_id=grant.pk, event=Event.FOOTAGE_RECORDED)
    assert entry.payload["footage_sha256"] == grant.footage_sha256
    assert (
        entry.payload["footage_seconds"] >= MIN_SECONDS and "Chrome" in entry.payload["user_agent"]
    )
    context.close()
