"""A lesson rendered by the engine end to end (small): slides and colours behind the presenter
in a corner, its chapters kept from the scene titles, and a SCORM package made of the video."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lessons import scorm, services
from lessons.models import ASPECTS, Deck, LessonRender, LessonScene
from rendering.models import RenderJob
from rendering.services import run_render
from tests.factories import GrantFactory
from tests.lessons import decks

pytestmark = pytest.mark.django_db


def test_a_lesson_renders_with_chapters_and_exports_them(lesson, member, make_avatar, monkeypatch):
    monkeypatch.setitem(ASPECTS, "landscape-720p", ("16:9, small", (256, 144), (128, 72)))
    lesson.avatar = make_avatar(grant=GrantFactory(subject__workspace=member.workspace))
    lesson.save()
    deck = Deck(workspace=lesson.workspace, lesson=lesson, name="deck.pdf", pages=1)
    deck.pdf.save("deck.pdf", SimpleUploadedFile("deck.pdf", decks.plain_pdf(1)))
    LessonScene.objects.create(
        lesson=lesson, position=1, background="slide", deck=deck, page=1, chapter="Exits",
        script="Find the exit.",
    )  # fmt: skip
    LessonScene.objects.create(
        lesson=lesson, position=2, title="Alarms", script="Hear the alarm.",
        transition="crossfade",
    )  # fmt: skip

    render = services.submit_lesson(lesson, user=member.user)
    assert run_render(render.job_id) == RenderJob.Status.SUCCEEDED
    render = LessonRender.objects.select_related("job__video").get(pk=render.pk)
    video = render.job.video
    assert (video.width, video.height) == (256, 144)
    assert video.captions_vtt and video.poster
    chapters = render.chapters_vtt
    assert chapters.startswith("WEBVTT")
    assert chapters.index("Exits") < chapters.index("Alarms")

    archive = zipfile.ZipFile(
        io.BytesIO(scorm.build_package(lesson, video, version="2004", verify_url="x").read())
    )
    assert archive.read("media/chapters.vtt").decode() == chapters
    assert archive.getinfo("media/lesson.mp4").file_size == video.size_bytes
