"""A subject goes through the consent ceremony in Chromium, with a fake camera and microphone fed
from files this test makes: a face video (y4m) and festival speech of the challenge sentence the
page shows. The verification task runs on a real worker; the grant becomes active for the right
face and needs review for another one."""

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from consent import services
from consent.models import ConsentDocument, ConsentGrant, LedgerEntry, Purpose
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import MembershipFactory, SubjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SILENCE_BEFORE, SILENCE_AFTER = 0.5, 1.0


def face_y4m(rgb: np.ndarray, out: Path) -> Path:
    """Two seconds of a still face, 640x480 at 10 fps (Chromium loops the file)."""
    still = out.with_suffix(".png")
    Image.fromarray(rgb).save(still)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "10", "-i", str(still),
         "-t", "2", "-vf", "scale=-2:480,pad=640:480:(ow-iw)/2:0", "-pix_fmt", "yuv420p",
         "-f", "yuv4mpegpipe", str(out)],
        check=True,
    )  # fmt: skip
    return out


def challenge_wav(text: str, out: Path) -> float:
    """Festival reading `text`, with pauses around it, as 48 kHz 16-bit mono; its seconds."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(raw)],
        input=text.encode(), check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af",
         f"adelay={int(SILENCE_BEFORE * 1000)},apad=pad_dur={SILENCE_AFTER}",
         "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(out)],
        check=True,
    )  # fmt: skip
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(probe.stdout)


def invitation(portrait_png: bytes, reference_voice: bytes):
    member = MembershipFactory()
    subject = SubjectFactory(workspace=member.workspace, full_name="Eileen Collins")
    from django.utils import timezone

    now = timezone.now()
    return services.invite_subject(
        subject=subject,
        document=ConsentDocument.standard(),
        scope={
            "purposes": [Purpose.TRAINING.value],
            "languages": ["en"],
            "channels": ["intranet"],
            "territory": "Worldwide",
            "valid_from": now,
            "valid_until": now + timezone.timedelta(days=365),
            "forbidden_topics": [],
            "requires_script_approval": False,
            "compensation": "",
        },
        reference_portrait=SimpleUploadedFile("eileen.png", portrait_png),
        reference_voice=SimpleUploadedFile("eileen.wav", reference_voice),
        invited_by=member.user,
        evidence=services.Evidence(ip="192.0.2.1", user_agent="pytest"),
    )


def challenge_on_page(url: str) -> str:
    """What the subject's page asks them to read, fetched the way any client would."""
    assert url.startswith("http://")
    html = urllib.request.urlopen(url, timeout=30).read().decode()  # noqa: S310
    match = re.search(r'<blockquote id="challenge"[^>]*>(.*?)</blockquote>', html, re.S)
    assert match, "the ceremony page shows no challenge sentence"
    return " ".join(match.group(1).split())


def wait_for_status(grant, statuses, timeout=240):
    """The verification runs on the worker thread; poll the row until it leaves `verifying`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        grant.refresh_from_db()
        if grant.status in statuses:
            return grant.status
        time.sleep(0.5)
    raise AssertionError(f"the grant stayed {grant.status}")


@pytest.fixture
def fake_media_browser():
    """launch(video, audio) → a Chromium whose camera and microphone play those files."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = []

            def launch(video: Path, audio: Path):
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM),
                    args=[
                        *CHROMIUM_ARGS,
                        "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                        f"--use-file-for-fake-video-capture={video}",
                        f"--use-file-for-fake-audio-capture={audio}",
                    ],
                )
                launched.append(browser)
                return browser

            yield launch
            for browser in launched:
                browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def go_through_the_ceremony(browser, live_server, token: str, record_seconds: float):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(reverse("consent:link_home", args=[token]))
    expect(page.locator("#document-text")).to_contain_text("digital replica")
    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#clip-status")).to_have_attribute("data-state", "recording")
    # Record until the page's own clock shows the whole looped file has played at least once.
    page.wait_for_function(
        f"Number(document.getElementById('elapsed').dataset.seconds) >= {record_seconds}",
        timeout=120_000,
    )
    page.get_by_role("button", name="Stop and save the clip").click()
    expect(page.locator("#clip-status")).to_have_attribute("data-state", "saved", timeout=120_000)

    pad = page.locator("#signature-pad").bounding_box()
    page.mouse.move(pad["x"] + 20, pad["y"] + 80)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(pad["x"] + 20 + step * 25, pad["y"] + 80 - (step % 3) * 20)
    page.mouse.up()
    page.get_by_label("Your full name").fill("Eileen Collins")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Sign my consent").click()
    expect(page.locator("#grant-status")).to_have_attribute("data-status", "verifying")
    return page


@pytest.mark.parametrize(
    ("face", "outcome"),
    [("astronaut", ConsentGrant.Status.ACTIVE), ("drawn", ConsentGrant.Status.NEEDS_REVIEW)],
)
def test_the_ceremony_in_chromium_with_a_fake_camera_and_microphone(
    face, outcome, live_server, render_worker, fake_media_browser, tmp_path,
    portrait_png, astronaut_rgb, speech_wav,
):  # fmt: skip
    grant, token = invitation(portrait_png, speech_wav)
    challenge = challenge_on_page(live_server.url + reverse("consent:link_home", args=[token]))
    assert challenge == grant.challenge_text

    if face == "astronaut":
        rgb = astronaut_rgb
    else:
        from engine.demo import write_demo_assets

        drawn = write_demo_assets(tmp_path / "demo").portrait_path
        rgb = np.asarray(Image.open(drawn).convert("RGB"))
    video = face_y4m(rgb, tmp_path / "face.y4m")
    audio = tmp_path / "challenge.wav"
    seconds = challenge_wav(challenge, audio)

    browser = fake_media_browser(video, audio)
    # Twice the file's length: one whole reading is inside the clip wherever the loop started.
    page = go_through_the_ceremony(browser, live_server, token, record_seconds=2 * seconds + 0.5)

    assert wait_for_status(grant, {ConsentGrant.Status.ACTIVE, ConsentGrant.Status.NEEDS_REVIEW})
    check = grant.verifications.get()
    assert grant.status == outcome, check.reasons
    assert grant.signature_kind == "drawn" and grant.clip_sha256 and grant.signed_at
    print(face, check.word_error_rate, check.face_distance, check.voice_similarity,
          check.single_face_ratio, check.transcript, check.reasons)  # fmt: skip
    assert check.word_error_rate <= 0.35 and check.voice_similarity >= 0.75
    if outcome == ConsentGrant.Status.ACTIVE:
        assert check.face_distance < 0.6 and check.single_face_ratio >= 0.8
    else:  # the drawn face is seen in fewer frames, and is not the reference's
        assert check.face_distance is None or check.face_distance > 0.6
        assert any("face" in r for r in check.reasons)
    events = list(LedgerEntry.objects.filter(grant_id=grant.pk).values_list("event", flat=True))
    assert events == ["invited", "viewed", "recorded", "signed", "verified"]
    ua = LedgerEntry.objects.get(grant_id=grant.pk, event="signed").payload["user_agent"]
    assert "Chrome" in ua

    # The same link now opens the portal; it cannot sign again.
    page.reload()
    expect(page.locator("#grant-status")).to_have_attribute("data-status", outcome)
    expect(page.get_by_role("button", name="Revoke my consent")).to_be_visible()
