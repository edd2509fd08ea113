"""Slides from a deck: a PDF or PPTX becomes one scene per slide; a deck that cannot be imported
gives a clear message, saves nothing and leaves no process behind."""

import os
import stat
import textwrap
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lessons.models import Deck, LessonScene
from tests.lessons import decks

pytestmark = pytest.mark.django_db


def upload(client, lesson, name: str, data: bytes):
    return client.post(
        reverse("lessons:deck_import", args=[lesson.pk]),
        {"deck": SimpleUploadedFile(name, data)},
    )


def assert_refused(response, lesson, media_root: Path, words: str) -> None:
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Deck.objects.filter(lesson=lesson).exists()
    assert not LessonScene.objects.filter(lesson=lesson).exists()
    kept = [p for p in (media_root / "lessons").rglob("*") if p.is_file()]
    assert kept == [], "a refused deck left files in storage"


def test_a_pdf_becomes_one_slide_scene_per_page_titled_by_its_first_line(member_client, lesson):
    response = upload(member_client, lesson, "fire.pdf", decks.titled_pdf(["Exits", "Alarms"]))
    assert response.status_code == 302
    deck = Deck.objects.get(lesson=lesson)
    assert deck.pages == 2
    scenes = list(lesson.ordered_scenes())
    assert [(s.background, s.deck_id, s.page) for s in scenes] == [
        ("slide", deck.pk, 1),
        ("slide", deck.pk, 2),
    ]
    assert [s.chapter_name for s in scenes] == ["Exits", "Alarms"]
    assert [s.layout for s in scenes] == ["corner", "corner"]


def test_a_pptx_becomes_scenes_whose_scripts_are_its_speaker_notes(member_client, lesson):
    data = decks.pptx_with_notes(
        [("Welcome", "Hello and welcome to the course."), ("Exits", "Find the nearest exit.")]
    )
    response = upload(member_client, lesson, "course.pptx", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    scenes = list(lesson.ordered_scenes())
    assert [s.script for s in scenes] == [
        "Hello and welcome to the course.",
        "Find the nearest exit.",
    ]
    assert [s.chapter_name for s in scenes] == ["Welcome", "Exits"]
    assert Deck.objects.get(lesson=lesson).pdf.name.endswith(".pdf")


def test_a_corrupt_pdf_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "broken.pdf", b"%PDF-1.4\nthis is not a pdf")
    assert_refused(response, lesson, media_root, "cannot be read as a PDF")


def test_a_password_protected_pdf_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "secret.pdf", decks.password_pdf())
    assert_refused(response, lesson, media_root, "protected by a password")


def test_a_zero_page_pdf_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "empty.pdf", decks.zero_page_pdf())
    assert_refused(response, lesson, media_root, "has no pages")


def test_a_deck_over_the_size_limit_is_refused(member_client, lesson, media_root, settings):
    settings.LESSON_DECK_MAX_BYTES = 1000
    response = upload(member_client, lesson, "big.pdf", decks.plain_pdf(3) + bytes(2000))
    assert_refused(response, lesson, media_root, "the limit is")


def test_a_deck_over_the_slide_limit_is_refused(member_client, lesson, media_root, settings):
    settings.LESSON_DECK_MAX_SLIDES = 2
    response = upload(member_client, lesson, "long.pdf", decks.plain_pdf(3))
    assert_refused(response, lesson, media_root, "has 3 slides; a lesson takes at most 2")


def test_a_zip_bomb_named_pptx_is_refused_unopened(member_client, lesson, media_root):
    response = upload(member_client, lesson, "bomb.pptx", decks.zip_bomb_pptx())
    assert_refused(response, lesson, media_root, "ZIP bomb")


def test_a_password_protected_pptx_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "locked.pptx", decks.OLE_PROTECTED)
    assert_refused(response, lesson, media_root, "protected by a password")


def test_a_damaged_pptx_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "damaged.pptx", b"PK\x03\x04 not really a zip")
    assert_refused(response, lesson, media_root, "cannot be read as a PPTX")


def test_another_kind_of_file_is_refused(member_client, lesson, media_root):
    response = upload(member_client, lesson, "notes.txt", b"hello")
    assert_refused(response, lesson, media_root, "is not a PDF or a PPTX")


def test_a_conversion_past_the_time_limit_is_stopped_with_all_its_processes(
    member_client, lesson, media_root, settings, tmp_path
):
    """A stand-in for LibreOffice that never ends and starts a helper of its own: both are gone
    once the deck is refused."""
    pids = tmp_path / "pids"
    fake = tmp_path / "soffice"
    fake.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            sleep 300 &
            echo "$$ $!" > {pids}
            wait
            """
        )
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    settings.LESSON_SOFFICE = str(fake)
    settings.LESSON_DECK_CONVERT_SECONDS = 1
    data = decks.pptx_with_notes([("One", "Notes.")])
    response = upload(member_client, lesson, "slow.pptx", data)
    assert_refused(response, lesson, media_root, "took longer than 1 seconds and was stopped")
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), f"process {pid} was left running"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    for _ in range(20):  # the kernel may take a moment to reap a killed process
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        time.sleep(0.05)
    return os.path.exists(f"/proc/{pid}")
