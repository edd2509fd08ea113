"""A trainer in Chromium: make a lesson, import a deck as scenes, write what the presenter says,
reorder and duplicate scenes in place, see each scene's still, render one scene as a preview."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from lessons.models import Lesson
from rendering.models import RenderJob
from tests.factories import PASSWORD, GrantFactory, MembershipFactory
from tests.lessons import decks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = settings.BASE_DIR / "var" / "screenshots"


def test_a_lesson_from_a_deck_to_a_scene_preview(page, render_worker, make_avatar, tmp_path):
    member = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject__workspace=member.workspace))
    avatar.name = "Grace"
    avatar.save()
    deck = tmp_path / "fire-safety.pdf"
    deck.write_bytes(decks.titled_pdf(["Exits", "Alarms"]))

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(member.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Lessons").click()
    page.get_by_label("Title").fill("Fire safety")
    page.get_by_role("button", name="Create lesson").click()
    expect(page.get_by_role("heading", name="Fire safety", exact=True)).to_be_visible()
    lesson = Lesson.objects.get()

    settings_form = page.locator("#lesson-settings")
    settings_form.get_by_label("Presenter").select_option(label="Grace")
    settings_form.get_by_role("button", name="Save lesson").click()
    expect(page.get_by_text("The lesson was saved.")).to_be_visible()

    page.get_by_label("Slides (PDF or PPTX)").set_input_files(str(deck))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("2 slides of “fire-safety.pdf” became scenes.")).to_be_visible()
    scenes = page.locator("article.scene")
    expect(scenes).to_have_count(3)
    expect(page.locator("#lesson-chapters")).to_contain_text("Exits")

    # The first scene (made with the lesson): a title and words, saved in place by htmx.
    first = scenes.nth(0)
    first.get_by_label("Title on screen").fill("Welcome")
    first.get_by_label("What the presenter says").fill("Welcome to fire safety.")
    first.get_by_role("button", name="Save scene").click()
    expect(scenes.nth(0).locator("h3")).to_contain_text("Welcome")

    # The last scene (slide 2) moves to the top, and is duplicated.
    scenes.nth(2).get_by_role("button", name="↑ Up").click()
    expect(scenes.nth(1).locator("h3")).to_contain_text("Alarms")
    scenes.nth(1).get_by_role("button", name="↑ Up").click()
    expect(scenes.nth(0).locator("h3")).to_contain_text("Alarms")
    scenes.nth(0).get_by_role("button", name="Duplicate").click()
    expect(scenes).to_have_count(4)
    expect(page.locator("#lesson-chapters li").first).to_have_text("Alarms")  # out of band
    assert [s.chapter_name for s in lesson.ordered_scenes()] == [
        "Alarms",
        "Alarms",
        "Welcome",
        "Exits",
    ]

    # Every still is a picture the browser decoded.
    stills = page.locator("img.scene-still")
    for index in range(4):
        stills.nth(index).scroll_into_view_if_needed()
        still = stills.nth(index).element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=still)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lesson-editor.png"), full_page=True)
    page.locator("#scene-" + str(lesson.ordered_scenes()[2].pk)).screenshot(
        path=str(SHOTS / "lesson-scene.png")
    )

    # One scene alone, small, rendered by the worker.
    welcome = scenes.nth(2)
    welcome.get_by_role("button", name="Render preview").click()
    expect(page.get_by_text("The scene's preview is rendering")).to_be_visible()
    job = RenderJob.objects.get()
    assert (job.width, job.height, job.purpose) == (320, 180, "training")
    for _ in range(600):
        job.refresh_from_db()
        if job.is_finished:
            break
        page.wait_for_timeout(200)
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    page.reload()
    expect(page.locator("#lesson-renders")).to_contain_text("Preview of scene “Welcome”")
    expect(page.locator("#lesson-renders")).to_contain_text("Ready")
