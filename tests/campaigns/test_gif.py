"""The email GIF of a variant: the first seconds of the speech with a play mark, at most 480 px
wide and 1 MB, made when the variant is published and never for a withdrawn video."""

import io

import numpy as np
import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image, ImageSequence

from campaigns import media, services
from campaigns.models import Recipient
from consent import services as consent_services
from rendering.models import RenderJob
from rendering.workers import drain_queue
from tests.campaigns.variants import make_campaign, tiny_mp4

EVIDENCE = consent_services.Evidence(ip="192.0.2.1", user_agent="pytest", user="subject")


def frames_of(data: bytes) -> list[np.ndarray]:
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    return [np.asarray(f.convert("RGB"), np.int32) for f in ImageSequence.Iterator(gif)]


def test_a_big_busy_video_makes_a_gif_under_a_megabyte_and_480_pixels(tmp_path):
    video = tiny_mp4(tmp_path / "busy.mp4", seconds=3.5, size=480, busy=True)
    out = tmp_path / "preview.gif"
    size, width, fps, colours = media.write_gif(video, out, start=0.5)
    data = out.read_bytes()
    print(f"GIF of a 480 px noisy video: {size} bytes, {width} px, {fps} fps, {colours} colours")
    assert width < 480  # the first step (480 px, 10 fps, 128 colours) was over a megabyte
    assert size == len(data) <= media.GIF_MAX_BYTES
    frames = frames_of(data)
    assert frames[0].shape[1] <= 480
    assert len(frames) >= 3 * fps - 1  # about three seconds of frames


def test_the_gif_has_a_play_mark_in_the_middle_of_every_frame(tmp_path):
    video = tiny_mp4(tmp_path / "plain.mp4", seconds=4.0, size=320)
    out = tmp_path / "preview.gif"
    size, width, fps, _ = media.write_gif(video, out, start=0.0)
    print(f"GIF of a 320 px test pattern: {size} bytes, {width} px, {fps} fps")
    frames = frames_of(out.read_bytes())
    assert frames[0].shape[:2] == (320, 320) and len(frames) == 3 * fps
    for frame in frames:
        middle = frame[150:171, 150:171].reshape(-1, 3)
        assert (middle.min(axis=1) > 200).mean() > 0.9  # the white triangle


def test_a_gif_that_fits_at_no_step_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "GIF_MAX_BYTES", 100)
    video = tiny_mp4(tmp_path / "plain.mp4", seconds=1.0, size=64)
    with pytest.raises(media.GifTooBig):
        media.write_gif(video, tmp_path / "x.gif", start=0.0)


@pytest.mark.django_db(transaction=True)
def test_a_published_variant_gets_its_gif_and_an_email_snippet(make_avatar, settings, client):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 128
    campaign = make_campaign(make_avatar, rows=[{"first_name": "Ada", "company": "Acme"}])
    campaign.status = campaign.Status.DRAFT
    campaign.save()
    services.launch(campaign, user=campaign.owner.user)
    drain_queue()
    recipient = Recipient.objects.get(campaign=campaign)
    assert recipient.job.status == RenderJob.Status.SUCCEEDED, recipient.job.error
    assert recipient.gif, "the GIF is made when the variant is published"
    token = recipient.share_token
    response = client.get(reverse("campaign_share:gif", args=[token]))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    data = b"".join(response.streaming_content)
    frames = frames_of(data)
    print(f"GIF of a 128 px variant: {len(data)} bytes, {len(frames)} frames")
    assert len(data) <= media.GIF_MAX_BYTES and frames[0].shape[1] <= 128

    request = RequestFactory().get("/")
    snippet = render_to_string(
        "campaigns/_email_snippet.html", {"recipient": recipient, "request": request}
    )
    page = reverse("campaign_share:page", args=[token])
    gif = reverse("campaign_share:gif", args=[token])
    assert f"&lt;a href=&quot;http://testserver{page}&quot;&gt;" in snippet
    assert f"&lt;img src=&quot;http://testserver{gif}&quot; alt=" in snippet

    # Revoked: no GIF is served, none is made again, and the snippet is gone.
    consent_services.revoke_grant(campaign.avatar.grant, reason="No more.", evidence=EVIDENCE)
    assert client.get(reverse("campaign_share:gif", args=[token])).status_code == 410
    assert media.make_recipient_gif(recipient.pk, start=0.0) is False
    recipient.refresh_from_db()
    snippet = render_to_string(
        "campaigns/_email_snippet.html", {"recipient": recipient, "request": request}
    )
    assert "img" not in snippet
