"""A new user walks the whole path in Chromium: sign up → subject and consent → avatar → script →
Render → watch progress → play and download the MP4."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ConsentGrant
from rendering.models import RenderJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_renders_their_first_video(
    page, render_worker, tmp_path, portrait_jpeg, speech_wav
):
    portrait = tmp_path / "grace.jpg"
    portrait.write_bytes(portrait_jpeg)
    voice = tmp_path / "grace.wav"
    voice.write_bytes(speech_wav)

    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("trainer")
    page.get_by_label("Email").fill("trainer@example.com")
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    page.get_by_label("Password confirmation").fill("a long and unusual passphrase")
    page.get_by_label("Workspace name").fill("Acme Learning")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Acme Learning")).to_be_visible()

    page.get_by_role("link", name="Add a subject and record their consent").click()
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Save and record consent").click()

    page.get_by_role("link", name="Start a consent on this device").click()
    expect(
        page.locator("summary", has_text="Consent to create and use a digital replica")
    ).to_be_visible()
    page.get_by_label("Training").check()
    page.get_by_label("Reference photo").set_input_files(portrait)
    page.get_by_label("Reference voice sample").set_input_files(voice)
    page.get_by_role("button", name="Prepare the ceremony").click()
    expect(page.locator("#start-ceremony")).to_be_visible()
    # Grace's ceremony on this device (clip, signature, automatic checks) is what
    # test_ceremony.py drives; here it has passed.
    ConsentGrant.objects.update(
        status=ConsentGrant.Status.ACTIVE, signed_at=timezone.now(), signature_name="Grace Hopper"
    )
    page.get_by_role("link", name="Open the consent").click()
    expect(page.locator(".badge.active", has_text="Signed")).to_be_visible()

    page.get_by_role("link", name="Create an avatar with this consent").click()
    page.get_by_label("Name").fill("   ")  # passes the browser's check, not the server's
    page.get_by_label("Portrait", exact=True).set_input_files(portrait)
    page.get_by_label("Voice sample", exact=True).set_input_files(voice)
    page.get_by_role("button", name="Create avatar").click()
    expect(page.locator(".field.has-error .error")).to_have_text("This field is required.")
    # The refusal kept the files chosen: a portrait and a voice sample are not chosen twice.
    for label in ("Portrait", "Voice sample"):
        assert page.get_by_label(label, exact=True).evaluate("i => i.files.length") == 1
    page.get_by_label("Name").fill("Grace presenter")
    page.get_by_role("button", name="Create avatar").click()
    expect(page.get_by_role("heading", name=re.compile("Grace presenter"))).to_be_visible()
    portrait_width = page.locator("img.portrait").evaluate(
        """img => img.complete ? img.naturalWidth : new Promise((ok, fail) => {
            img.addEventListener('load', () => ok(img.naturalWidth));
            img.addEventListener('error', fail);
        })"""
    )
    assert portrait_width == 512

    page.get_by_role("link", name="Scripts").click()
    page.get_by_role("link", name="New script").click()
    page.get_by_label("Title").fill("Lesson one")
    page.get_by_label("What the presenter says").fill(
        "Welcome to lesson one. Today we learn how compilers turn words into programs."
    )
    page.get_by_role("button", name="Save script").click()
    page.get_by_label("Purpose").select_option("training")
    page.get_by_role("button", name="Render").click()

    status = page.locator("#job-status")
    first_seen = status.get_attribute("data-status")
    assert first_seen in ("queued", "running"), "the job page should open while the render runs"
    expect(page.locator("#job-status progress")).to_be_attached()
    expect(page.locator("#job-status[data-status=succeeded]")).to_be_visible(timeout=120_000)

    video = page.locator("#result-video")
    video.evaluate(
        """v => new Promise((ok, fail) => {
            if (v.readyState >= 1) return ok();
            v.addEventListener('loadedmetadata', ok); v.addEventListener('error', fail);
        })"""
    )
    duration = video.evaluate("v => v.duration")
    job = RenderJob.objects.get()
    assert job.purpose == "training"
    assert duration == pytest.approx(job.video.seconds, abs=0.15)
    assert video.evaluate("v => v.videoWidth") == 512

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download MP4").click()
    saved = tmp_path / "download.mp4"
    download_info.value.save_as(saved)
    assert saved.read_bytes()[4:8] == b"ftyp"
    assert saved.stat().st_size == job.video.size_bytes
