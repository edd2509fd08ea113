"""Every published render has captions (WebVTT and SRT) that open with the disclosure cue in the
workspace's label language; members download them, players show them, other workspaces can't."""

import itertools

import pytest
from django.urls import reverse

from engine.label import CARD_TEXTS, LABEL_TEXTS
from provenance.models import LabelSettings
from tests.caption_files import caption_words, parse_srt, parse_vtt, script_words
from tests.factories import MembershipFactory
from tests.media import ffprobe

pytestmark = pytest.mark.django_db(transaction=True)


def read(field_file) -> str:
    with field_file.open("rb") as handle:
        return handle.read().decode("utf-8")


def test_stored_captions_open_with_the_disclosure_cue_in_the_workspace_language(rendered):
    _, job = rendered
    for cues in (parse_vtt(read(job.video.captions_vtt)), parse_srt(read(job.video.captions_srt))):
        first = cues[0]
        assert first.start == 0
        assert first.end == LabelSettings.CARD_SECONDS  # as long as the opening card
        assert first.text == f"[{LABEL_TEXTS['de']}] {CARD_TEXTS['de']}"


def test_stored_captions_show_the_script_words_in_order_within_the_video(rendered):
    _, job = rendered
    vtt = parse_vtt(read(job.video.captions_vtt))
    srt = parse_srt(read(job.video.captions_srt))
    duration = float(ffprobe(job.video.file.path)["format"]["duration"])
    speech = vtt[1:]
    assert caption_words(speech) == script_words(job.script_text)
    assert all(0 < cue.start < cue.end <= duration + 0.01 for cue in speech)
    assert all(a.end <= b.start for a, b in itertools.pairwise(speech))
    assert all(len(cue.lines) <= 2 and max(map(len, cue.lines)) <= 42 for cue in speech)
    assert [(c.start, c.end, c.lines) for c in srt] == [(c.start, c.end, c.lines) for c in vtt]
    shown = " ".join(cue.text for cue in vtt)
    for hidden in ("[pause", "[slow]", "[say", "nee-SHAH", "LYKE"):
        assert hidden not in shown


def test_members_download_the_captions_and_other_workspaces_get_404(rendered, client):
    owner, job = rendered
    urls = {
        "vtt": reverse("rendering:job_captions_vtt", args=[job.pk]),
        "srt": reverse("rendering:job_captions_srt", args=[job.pk]),
    }
    client.force_login(owner.user)
    page = client.get(reverse("rendering:job_detail", args=[job.pk])).content.decode()
    assert f'<track kind="captions" default label="Captions" src="{urls["vtt"]}">' in page
    assert f'href="{urls["vtt"]}?download=1"' in page and f'href="{urls["srt"]}?download=1"' in page
    vtt = client.get(urls["vtt"])
    assert vtt.status_code == 200 and vtt["Content-Type"].startswith("text/vtt")
    assert b"".join(vtt.streaming_content).startswith(b"WEBVTT")
    srt = client.get(urls["srt"] + "?download=1")
    assert srt.status_code == 200 and "attachment" in srt["Content-Disposition"]
    assert b"".join(srt.streaming_content).startswith(b"1\n00:00:00,000 --> ")

    client.force_login(MembershipFactory().user)
    for url in urls.values():
        assert client.get(url).status_code == 404


def test_the_share_page_plays_the_captions_to_anyone_with_the_link(rendered, client):
    _, job = rendered
    token = job.video.share_token
    track = reverse("share_captions", args=[token])
    page = client.get(reverse("share_page", args=[token]))
    assert page.status_code == 200
    assert (
        f'<track kind="captions" default label="Captions" src="{track}">' in page.content.decode()
    )
    response = client.get(track)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vtt")
    cues = parse_vtt(b"".join(response.streaming_content).decode("utf-8"))
    assert cues[0].text.startswith(f"[{LABEL_TEXTS['de']}]")
    assert client.get(reverse("share_captions", args=["forged"])).status_code == 404
