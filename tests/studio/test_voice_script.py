"""Script markup checked on save, the workspace pronunciation lexicon, and both reaching renders."""

import html
from pathlib import Path

import pytest
from django.urls import reverse

from rendering.services import build_spec
from studio.models import PronunciationEntry, Script
from tests.factories import MembershipFactory, RenderJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_valid_markup_is_saved(member_client):
    body = "Welcome. [pause 1s] [slow]Read [emphasis]this[/emphasis] slowly.[/slow] It costs $5."
    response = member_client.post(reverse("studio:script_new"), {"title": "M", "body": body})
    assert response.status_code == 302
    assert Script.objects.get().body == body


def test_invalid_markup_is_refused_with_the_line_column_and_the_text_there(member_client):
    body = "Welcome to the course.\nNow [pase 2s] we begin."
    response = member_client.post(reverse("studio:script_new"), {"title": "M", "body": body})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Line 2, column 5: Unknown tag [pase]" in page
    assert "Near: “Now [pase 2s] we begin.”" in page
    assert not Script.objects.exists()


def test_an_editor_adds_and_removes_a_pronunciation(member_client, member):
    url = reverse("studio:pronunciation_list")
    response = member_client.post(url, {"word": "Nguyen", "respelling": "win"})
    assert response.status_code == 302
    entry = PronunciationEntry.objects.get()
    assert entry.workspace == member.workspace
    assert PronunciationEntry.lexicon_of(member.workspace) == {"Nguyen": "win"}
    assert "Nguyen" in member_client.get(url).content.decode()
    member_client.post(reverse("studio:pronunciation_delete", args=[entry.pk]))
    assert not PronunciationEntry.objects.exists()


@pytest.mark.parametrize(
    ("word", "respelling", "message"),
    [
        ("NGUYEN", "nwin", "already has a pronunciation"),
        ("Bad[word]", "x", "A word or a short phrase"),
        ("Sequel", "[pause 1s]", "no brackets or quotes"),
        ("Sequel", "\uff3bpause 1s\uff3d", "no brackets or quotes"),  # fullwidth brackets
        ("Sequel", "see\u200bquel", "invisible characters"),
        ("Sequel", "\u2014", "says nothing the voice can speak"),
        ("Sequel", "\u30b7\u30fc\u30af\u30a7\u30eb", "says nothing the voice can speak"),
        ("Sequel", "\u0440\u043e\u0441", "says nothing the voice can speak"),  # Cyrillic
    ],
)
def test_a_bad_pronunciation_gets_a_specific_message(
    member_client, member, word, respelling, message
):
    PronunciationEntry.objects.create(workspace=member.workspace, word="Nguyen", respelling="win")
    response = member_client.post(
        reverse("studio:pronunciation_list"), {"word": word, "respelling": respelling}
    )
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert PronunciationEntry.objects.count() == 1


def test_another_workspaces_pronunciation_cannot_be_removed(member_client):
    other = PronunciationEntry.objects.create(
        workspace=WorkspaceFactory(), word="SQL", respelling="sequel"
    )
    response = member_client.post(reverse("studio:pronunciation_delete", args=[other.pk]))
    assert response.status_code == 404
    assert PronunciationEntry.objects.filter(pk=other.pk).exists()


def test_a_viewer_cannot_add_a_pronunciation(client):
    viewer = MembershipFactory(role="viewer")
    client.force_login(viewer.user)
    response = client.post(
        reverse("studio:pronunciation_list"), {"word": "SQL", "respelling": "sequel"}
    )
    assert response.status_code == 403
    assert not PronunciationEntry.objects.exists()


def test_a_render_spec_carries_the_jobs_lexicon_and_the_cached_voice_profile(make_avatar, tmp_path):
    avatar = make_avatar()
    job = RenderJobFactory(avatar=avatar, pronunciations={"SQL": "sequel"})
    # A change after submit never reaches the render: consent was checked on the job's copy.
    PronunciationEntry.objects.create(workspace=job.workspace, word="SQL", respelling="squeal")
    sample = tmp_path / "voice.wav"
    with avatar.voice_sample.open("rb") as handle:
        sample.write_bytes(handle.read())
    spec = build_spec(job, portrait=tmp_path / "p.png", voice_sample=sample)
    assert spec.pronunciations == {"SQL": "sequel"}
    assert Path(spec.voice_profile_path).is_file()
    assert spec.voice_profile_path.endswith(".npz")
    avatar.refresh_from_db()
    assert avatar.voice_profile  # computed once and kept for the next render
