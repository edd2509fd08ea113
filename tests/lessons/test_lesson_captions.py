"""A lesson's captions drawn into its picture by choice: the setting saved from the lesson's
form, and the timeline the lesson renders asking for them."""

import pytest
from django.urls import reverse

from engine.timeline import Timeline
from lessons.models import LessonScene
from rendering.models import RenderJob
from tests.factories import GrantFactory

pytestmark = pytest.mark.django_db


def settings_post(lesson, **fields):
    return {
        "title": lesson.title,
        "aspect": lesson.aspect,
        "avatar": lesson.avatar_id or "",
        "mastery_percent": lesson.mastery_percent,
        "completion_percent": 90,
        "quiz_text": "",
        **fields,
    }


def test_a_new_lesson_keeps_its_captions_out_of_the_picture(lesson):
    assert lesson.burn_captions is False


def test_the_settings_form_offers_and_saves_captions_in_the_picture(member_client, lesson):
    url = reverse("lessons:detail", args=[lesson.pk])
    page = member_client.get(url).content.decode()
    assert 'type="checkbox" name="burn_captions"' in page
    response = member_client.post(url, settings_post(lesson, burn_captions="on"))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.burn_captions is True
    assert "captions in the picture" in member_client.get(url).content.decode()
    member_client.post(url, settings_post(lesson))  # an unticked box is not sent
    lesson.refresh_from_db()
    assert lesson.burn_captions is False


@pytest.mark.parametrize("burn", [True, False])
def test_the_lessons_timeline_asks_for_its_captions_in_the_picture(
    member_client, member, make_avatar, lesson, burn
):
    grant = GrantFactory(subject__workspace=member.workspace)
    lesson.avatar = make_avatar(grant=grant)
    lesson.burn_captions = burn
    lesson.save()
    LessonScene.objects.create(lesson=lesson, position=1, title="Exits", script="Find the exit.")
    member_client.post(reverse("lessons:render", args=[lesson.pk]))
    job = RenderJob.objects.get()
    assert Timeline.from_dict(job.timeline).burn_captions is burn
