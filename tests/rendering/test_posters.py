"""Every published render has a poster: the frame shown just into the speech, after the opening
card (kept as it went to the encoder). Members see it in lists and the player; the share page
offers it to email and chat apps, for as long as the consent lasts."""

import html
import io
import re

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from consent.models import ConsentGrant
from provenance.models import LabelSettings
from tests.factories import MembershipFactory
from tests.media import decode_frames

pytestmark = pytest.mark.django_db(transaction=True)


def jpeg(response) -> np.ndarray:
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / max(np.mean((a - b) ** 2), 1e-9)))


def test_the_poster_shows_the_presenter_after_the_opening_card(rendered, client):
    owner, job = rendered
    client.force_login(owner.user)
    poster = jpeg(client.get(reverse("rendering:job_poster", args=[job.pk])))
    video = job.video
    assert poster.shape == (video.height, video.width, 3)
    frames = decode_frames(video.file.path, video.width, video.height, "rgb24").astype(float)
    card_frames = round(LabelSettings.CARD_SECONDS * video.fps)
    match = [psnr(poster, frame) for frame in frames]
    best = int(np.argmax(match))
    assert best >= card_frames and match[best] > 30  # a frame after the card, as encoded
    # The card's frames are far from it (the last ones fade into the presenter, so the median).
    assert np.median(match[:card_frames]) < match[best] - 10


def test_members_see_posters_and_get_an_email_snippet_others_get_404(rendered, client):
    owner, job = rendered
    job.script.title = 'Meet "Sam" & <co>'  # quotes must not break the snippet's HTML
    job.script.save()
    client.force_login(owner.user)
    poster = reverse("rendering:job_poster", args=[job.pk])
    page = client.get(reverse("rendering:job_detail", args=[job.pk])).content.decode()
    assert f'poster="{poster}"' in page
    # The email snippet: the poster, linked to the public page; both work for anyone.
    snippet = html.unescape(
        re.search(r'<textarea[^>]*aria-label="Email HTML">(.*?)</textarea>', page, re.S)[1]
    )
    link, image = re.fullmatch(
        r'<a href="([^"]+)"><img src="([^"]+)" width="\d+" alt="[^"]+"></a>', snippet
    ).groups()
    alt = re.search(r'alt="([^"]+)"', snippet)[1]
    assert html.unescape(alt) == 'Play the video: Meet "Sam" & <co> (AI-generated)'

    client.logout()
    assert client.get(link).status_code == 200
    assert jpeg(client.get(image)).shape[:2] == (job.video.height, job.video.width)
    client.force_login(owner.user)
    listing = client.get(reverse("rendering:job_list")).content.decode()
    assert f'<img class="thumb" src="{poster}"' in listing
    client.force_login(MembershipFactory().user)
    assert client.get(poster).status_code == 404


def test_the_share_page_offers_its_poster_until_the_consent_is_revoked(rendered, client):
    _, job = rendered
    token = job.video.share_token
    share_poster = reverse("share_poster", args=[token])
    page = client.get(reverse("share_page", args=[token])).content.decode()
    assert f'<meta property="og:image" content="http://testserver{share_poster}">' in page
    assert f'poster="{share_poster}"' in page
    assert jpeg(client.get(share_poster)).shape[:2] == (job.video.height, job.video.width)
    ConsentGrant.objects.filter(pk=job.avatar.grant_id).update(status=ConsentGrant.Status.REVOKED)
    assert client.get(share_poster).status_code == 410
