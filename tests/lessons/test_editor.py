"""The lesson editor: scenes added, edited, reordered, duplicated and deleted; a still of each
scene's first frame without a render; the lesson and one-scene previews rendered through the
consent policy for training; the subject's portal lists the lesson."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from consent.models import Purpose
from engine.timeline import Timeline
from lessons.forms import parse_quiz
from lessons.models import Deck, Lesson, LessonRender, LessonScene
from rendering.models import RenderJob
from tests.factories import GrantFactory
from tests.lessons import decks

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def avatar(member, make_avatar):
    grant = GrantFactory(subject__workspace=member.workspace, forbidden_topics=["gambling"])
    return make_avatar(grant=grant)


def scene_post(scene, **fields):
    data = {
        "script": scene.script,
        "title": scene.title,
        "bullets": scene.bullets,
        "chapter": scene.chapter,
        "layout": scene.layout,
        "corner": scene.corner,
        "presenter_size": scene.presenter_size,
        "side": scene.side,
        "background": scene.background,
        "color": scene.color,
        "page": scene.page,
        "transition": scene.transition,
        "seconds": scene.seconds,
        **fields,
    }
    return {f"scene-{scene.pk}-{k}": v for k, v in data.items()}


def action(client, scene, name, **extra):
    return client.post(
        reverse("lessons:scene_action", args=[scene.lesson_id, scene.pk, name]), **extra
    )


def test_a_new_lesson_opens_in_the_editor_with_one_scene(member_client):
    response = member_client.post(
        reverse("lessons:new"), {"title": "Fire safety", "aspect": "landscape-720p"}
    )
    lesson = Lesson.objects.get()
    assert response.url == reverse("lessons:detail", args=[lesson.pk])
    assert lesson.scenes.count() == 1
    page = member_client.get(response.url).content.decode()
    assert 'id="scene-' in page and "Add a scene" in page


def test_scenes_are_added_duplicated_reordered_and_deleted_in_place(member_client, lesson):
    url = reverse("lessons:scene_add", args=[lesson.pk])
    for _ in range(2):
        assert member_client.post(url, **HTMX).status_code == 200
    first, second = lesson.ordered_scenes()
    LessonScene.objects.filter(pk=first.pk).update(title="Exits", script="Find the exit.")
    first.refresh_from_db()

    response = action(member_client, first, "duplicate", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().startswith('<div id="scenes">')  # the list alone, for htmx
    titles = [s.title for s in lesson.ordered_scenes()]
    assert titles == ["Exits", "Exits", ""]
    copy = lesson.ordered_scenes()[1]
    assert copy.pk != first.pk and copy.script == "Find the exit."

    action(member_client, second, "up", **HTMX)
    assert [s.pk for s in lesson.ordered_scenes()] == [first.pk, second.pk, copy.pk]
    action(member_client, first, "down", **HTMX)
    assert [s.pk for s in lesson.ordered_scenes()] == [second.pk, first.pk, copy.pk]
    action(member_client, second, "delete", **HTMX)
    assert [(s.pk, s.position) for s in lesson.ordered_scenes()] == [(first.pk, 1), (copy.pk, 2)]


def test_an_unknown_scene_action_is_not_found(member_client, lesson):
    scene = LessonScene.objects.create(lesson=lesson, position=1)
    assert action(member_client, scene, "explode").status_code == 404


def test_another_workspaces_lesson_is_not_found(member_client):
    other = Lesson.objects.create(workspace=GrantFactory().workspace, title="Theirs")
    assert member_client.get(reverse("lessons:detail", args=[other.pk])).status_code == 404


def test_a_scene_saves_its_script_text_layout_background_image_and_transition(
    member_client, lesson, portrait_png
):
    scene = LessonScene.objects.create(lesson=lesson, position=1)
    fields = scene_post(
        scene,
        script="Welcome to the course.",
        title="Welcome",
        bullets="Exits\n\nAlarms",
        layout="half",
        side="left",
        background="image",
        transition="crossfade",
    )
    fields[f"scene-{scene.pk}-image"] = SimpleUploadedFile("slide.png", portrait_png)
    response = member_client.post(
        reverse("lessons:scene_save", args=[lesson.pk, scene.pk]), fields, **HTMX
    )
    assert response.status_code == 200
    scene.refresh_from_db()
    assert (scene.script, scene.title, scene.bullet_list) == (
        "Welcome to the course.",
        "Welcome",
        ["Exits", "Alarms"],
    )
    assert (scene.layout, scene.side, scene.background, scene.transition) == (
        "half",
        "left",
        "image",
        "crossfade",
    )
    assert scene.image.name.startswith(f"lessons/{lesson.workspace_id}/")


def test_a_scene_with_bad_values_shows_its_errors_and_keeps_the_old_ones(member_client, lesson):
    scene = LessonScene.objects.create(lesson=lesson, position=1, script="Old words.")
    fields = scene_post(
        scene, script="New words.", presenter_size="0.9", bullets="\n".join("b" * 9), color="red"
    )
    response = member_client.post(
        reverse("lessons:scene_save", args=[lesson.pk, scene.pk]), fields, **HTMX
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "From 0.15 to 0.6" in page and "A colour is written #rrggbb." in page
    scene.refresh_from_db()
    assert scene.script == "Old words."


def test_a_scenes_still_is_its_first_frame_composed_without_a_render(member_client, lesson, avatar):
    lesson.avatar = avatar
    lesson.save()
    scene = LessonScene.objects.create(
        lesson=lesson, position=1, title="Exits", color="#00ff00", layout="corner"
    )
    response = member_client.get(reverse("lessons:scene_still", args=[lesson.pk, scene.pk]))
    assert response["Content-Type"] == "image/png"
    still = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert still.size == (480, 270)  # 16:9, as the lesson
    assert still.getpixel((240, 200)) == (0, 255, 0)  # the background, clear of text and face
    assert not RenderJob.objects.exists()


def test_a_slide_scenes_still_shows_the_slide(member_client, lesson, media_root):
    member_client.post(
        reverse("lessons:deck_import", args=[lesson.pk]),
        {"deck": SimpleUploadedFile("deck.pdf", decks.plain_pdf(1, size=(320, 180)))},
    )
    scene = lesson.scenes.get()
    response = member_client.get(reverse("lessons:scene_still", args=[lesson.pk, scene.pk]))
    still = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert still.getpixel((100, 200)) == pytest.approx((40, 90, 160), abs=3)


def test_chapters_come_from_scene_titles(member_client, lesson):
    LessonScene.objects.create(lesson=lesson, position=1, title="Exits")
    LessonScene.objects.create(lesson=lesson, position=2, title="Alarms", chapter="Alarm bells")
    LessonScene.objects.create(lesson=lesson, position=3)
    page = member_client.get(reverse("lessons:detail", args=[lesson.pk])).content.decode()
    chapters = page.split('id="lesson-chapters"')[1].split("</ol>")[0]
    assert "<li>Exits</li><li>Alarm bells</li>" in chapters


def make_scenes(lesson):
    deck_pdf = decks.plain_pdf(2)
    deck = Deck(workspace=lesson.workspace, lesson=lesson, name="deck.pdf", pages=2)
    deck.pdf.save("deck.pdf", SimpleUploadedFile("deck.pdf", deck_pdf))
    LessonScene.objects.create(
        lesson=lesson, position=1, title="Exits", script="Find the nearest exit."
    )
    LessonScene.objects.create(
        lesson=lesson,
        position=2,
        background="slide",
        deck=deck,
        page=2,
        chapter="Alarms",
        script="Learn the alarm.",
        transition="crossfade",
    )


def test_rendering_the_lesson_submits_one_timeline_for_training(member_client, lesson, avatar):
    lesson.avatar = avatar
    lesson.save()
    make_scenes(lesson)
    response = member_client.post(reverse("lessons:render", args=[lesson.pk]))
    assert response.status_code == 302
    job = RenderJob.objects.get()
    assert (job.purpose, job.part_of, job.width, job.height) == (
        Purpose.TRAINING,
        f"lesson:{lesson.pk}",
        1280,
        720,
    )
    timeline = Timeline.from_dict(job.timeline)
    assert [s.chapter for s in timeline.scenes] == ["Exits", "Alarms"]
    assert timeline.scenes[1].background.kind == "document"
    assert timeline.scenes[1].background.page == 2
    assert timeline.scenes[1].transition.kind == "crossfade"
    assert job.script_text == "Find the nearest exit.\n\nLearn the alarm."
    assert LessonRender.objects.get(job=job).scene is None


def test_a_scene_preview_renders_that_scene_alone_small(member_client, lesson, avatar):
    lesson.avatar = avatar
    lesson.save()
    make_scenes(lesson)
    second = lesson.ordered_scenes()[1]
    action(member_client, second, "preview")
    job = RenderJob.objects.get()
    assert (job.width, job.height, job.part_of) == (320, 180, f"lesson-preview:{lesson.pk}")
    assert Timeline.from_dict(job.timeline).spoken_texts() == ["Learn the alarm."]
    assert LessonRender.objects.get(job=job).scene == second


def test_a_forbidden_topic_in_a_bullet_refuses_the_render(member_client, lesson, avatar):
    lesson.avatar = avatar
    lesson.save()
    LessonScene.objects.create(
        lesson=lesson, position=1, script="Welcome.", bullets="Friday gambling night"
    )
    response = member_client.post(reverse("lessons:render", args=[lesson.pk]), follow=True)
    assert "gambling" in response.content.decode()
    assert "The lesson was not rendered" in response.content.decode()
    assert not RenderJob.objects.exists()


def test_a_consent_without_training_refuses_the_lesson(member_client, lesson, make_avatar, member):
    grant = GrantFactory(subject__workspace=member.workspace, purposes=[Purpose.MARKETING])
    lesson.avatar = make_avatar(grant=grant)
    lesson.save()
    LessonScene.objects.create(lesson=lesson, position=1, script="Welcome.")
    member_client.post(reverse("lessons:render", args=[lesson.pk]))
    assert not RenderJob.objects.exists()


def test_the_subjects_portal_lists_the_lesson_once(member_client, lesson, avatar):
    from consent.signals import uses_requested

    lesson.avatar = avatar
    lesson.save()
    make_scenes(lesson)
    member_client.post(reverse("lessons:render", args=[lesson.pk]))
    action(member_client, lesson.ordered_scenes()[0], "preview")
    RenderJob.objects.update(status=RenderJob.Status.SUCCEEDED)
    uses = [
        use
        for _, answer in uses_requested.send(sender=None, grant=avatar.grant)
        for use in answer
        if use.get("kind") == "lesson"
    ]
    assert [(u["name"], u["videos"], u["samples"], u["purpose"]) for u in uses] == [
        ("Fire safety", 1, 1, "Training")
    ]


def test_the_quiz_is_written_as_text_and_kept_as_questions():
    quiz = parse_quiz("Q: Where do you go?\n- The lift\n* The stairs\n\nQ: Who calls?\n* You\n- Me")
    assert quiz == [
        {"question": "Where do you go?", "choices": ["The lift", "The stairs"], "answer": 1},
        {"question": "Who calls?", "choices": ["You", "Me"], "answer": 0},
    ]
    for bad, words in [
        ("- An answer first", "needs a question above it"),
        ("Q: Two right?\n* a\n* b", "has two right answers"),
        ("Q: None right?\n- a\n- b", "Mark the right answer"),
        ("Q: One answer\n* a", "two answers or more"),
    ]:
        with pytest.raises(Exception, match=words):
            parse_quiz(bad)


def test_a_flagged_scene_holds_the_lesson_for_an_owner_and_refuses_the_render(
    member_client, lesson, avatar
):
    from consent.models import ScreeningReview
    from tests.studio.test_screening import GIFT_CARDS

    lesson.avatar = avatar
    lesson.save()
    LessonScene.objects.create(lesson=lesson, position=1, script=GIFT_CARDS)
    response = member_client.post(reverse("lessons:render", args=[lesson.pk]), follow=True)
    assert "held for acceptable-use review" in response.content.decode()
    review = ScreeningReview.objects.get()  # kept, though the render was refused
    assert (review.title, review.text) == ("Lesson: Fire safety", GIFT_CARDS)
    assert not RenderJob.objects.exists()
