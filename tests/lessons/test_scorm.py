"""SCORM export: imsmanifest.xml at the zip's root, valid against the ADL schemas (1.2 and 2004
4th edition), and a player that holds everything it shows (video, captions, chapters, poster)."""

import io
import json
import re
import zipfile

import pytest
from django.urls import reverse
from lxml import etree

from lessons import scorm
from lessons.models import LessonScene
from tests.factories import GrantFactory
from tests.lessons.scorm_media import finished_lesson_video, schema

pytestmark = pytest.mark.django_db

QUIZ = [{"question": "Where do you go?", "choices": ["The lift", "The stairs"], "answer": 1}]


@pytest.fixture
def video(lesson, member, make_avatar, tmp_path):
    avatar = make_avatar(grant=GrantFactory(subject__workspace=member.workspace))
    lesson.avatar = avatar
    lesson.save()
    LessonScene.objects.create(lesson=lesson, position=1, title="Exits", script="Find the exit.")
    return finished_lesson_video(lesson, avatar, tmp_path)


def package(lesson, video, version: str) -> zipfile.ZipFile:
    data = scorm.build_package(
        lesson, video, version=version, verify_url="https://likeness.example/verify/abc"
    ).read()
    return zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize("version", ["1.2", "2004"])
@pytest.mark.parametrize("quiz", [[], QUIZ], ids=["no quiz", "quiz"])
def test_the_manifest_is_at_the_root_and_valid_against_the_adl_schemas(
    lesson, video, version, quiz
):
    lesson.quiz = quiz
    lesson.save()
    archive = package(lesson, video, version)
    manifest = etree.fromstring(archive.read("imsmanifest.xml"))
    checker = schema(version)
    assert checker.validate(manifest), checker.error_log
    files = {f.get("href") for f in manifest.iter("{*}file")}
    assert files == set(archive.namelist()) - {"imsmanifest.xml"}
    assert {"index.html", "player.js", "player.css", "lesson-data.js"} <= files
    assert {"media/lesson.mp4", "media/captions.vtt", "media/chapters.vtt", "media/poster.jpg"} <= (
        files
    )


def test_the_manifests_carry_the_completion_share_and_the_mastery_score(lesson, video):
    lesson.quiz, lesson.completion_share, lesson.mastery_percent = QUIZ, 0.75, 70
    lesson.save()
    text12 = package(lesson, video, "1.2").read("imsmanifest.xml").decode()
    assert "<adlcp:masteryscore>70</adlcp:masteryscore>" in text12
    assert 'adlcp:scormtype="sco"' in text12
    text2004 = package(lesson, video, "2004").read("imsmanifest.xml").decode()
    assert 'completedByMeasure="true" minProgressMeasure="0.75"' in text2004
    assert "<imsss:minNormalizedMeasure>0.70</imsss:minNormalizedMeasure>" in text2004
    assert "<schemaversion>2004 4th Edition</schemaversion>" in text2004


def test_the_player_holds_its_media_and_names_no_server_but_the_verify_link(lesson, video):
    archive = package(lesson, video, "2004")
    assert archive.read("media/lesson.mp4") == video.file.open("rb").read()
    assert archive.read("media/captions.vtt").startswith(b"WEBVTT")
    data_js = archive.read("lesson-data.js").decode()
    data = json.loads(data_js.removeprefix("window.LESSON_DATA = ").rstrip().rstrip(";"))
    assert data["verifyUrl"] == "https://likeness.example/verify/abc"
    assert "AI-generated" in data["disclosure"]
    assert data["completionShare"] == 0.9  # the default
    for name in ("index.html", "player.js", "player.css", "lesson-data.js"):
        text = archive.read(name).decode()
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
        assert urls <= {"https://likeness.example/verify/abc"}, (name, urls)


def test_the_export_view_answers_a_zip_for_each_version(member_client, lesson, video):
    for version in ("1.2", "2004"):
        response = member_client.get(reverse("lessons:scorm", args=[lesson.pk, version]))
        assert response.status_code == 200
        assert response["Content-Disposition"].endswith(f'scorm-{version}.zip"')
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert archive.namelist()[0] == "imsmanifest.xml"
    assert member_client.get(reverse("lessons:scorm", args=[lesson.pk, "3"])).status_code == 404


def test_no_package_once_the_consent_is_withdrawn(member_client, lesson, video):
    grant = video.job.avatar.grant
    grant.status = grant.Status.REVOKED
    grant.save()
    response = member_client.get(reverse("lessons:scorm", args=[lesson.pk, "2004"]))
    assert response.status_code == 302


def test_the_schema_check_refuses_a_manifest_that_breaks_the_schemas(lesson):
    """The check bites: a misspelt 1.2 element and a 2004 threshold above 1 are invalid."""
    lesson.quiz = QUIZ
    text12 = scorm.manifest_12(lesson, ["index.html"]).replace(
        b"adlcp:masteryscore", b"adlcp:masteryScore"
    )
    assert not schema("1.2").validate(etree.fromstring(text12))
    lesson.completion_share = 1.5
    text2004 = scorm.manifest_2004(lesson, ["index.html"])
    assert not schema("2004").validate(etree.fromstring(text2004))
