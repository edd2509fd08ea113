from __future__ import annotations

import io

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from PIL import Image

from accounts.permissions import get_in_workspace, member_required
from core.errors import UserError
from lessons import scorm, services
from lessons.forms import DeckForm, LessonNewForm, LessonSettingsForm, SceneForm
from lessons.models import Lesson, LessonScene

STILL_WIDTH = 480
SCENE_ACTIONS = ("up", "down", "duplicate", "delete", "preview")


@member_required()
def lesson_list(request):
    return render(
        request,
        "lessons/lesson_list.html",
        {
            "lessons": Lesson.objects.filter(workspace=request.workspace),
            "form": LessonNewForm(),
        },
    )


@require_POST
@member_required(edit=True)
def lesson_new(request):
    form = LessonNewForm(request.POST)
    if form.is_valid():
        lesson = form.save(commit=False)
        lesson.workspace, lesson.created_by = request.workspace, request.user
        lesson.save()
        services.add_scene(lesson, title=lesson.title)
        return redirect("lessons:detail", lesson_id=lesson.pk)
    return render(
        request,
        "lessons/lesson_list.html",
        {"lessons": Lesson.objects.filter(workspace=request.workspace), "form": form},
        status=400,
    )


def _lesson(request, lesson_id: int) -> Lesson:
    return get_in_workspace(request, Lesson.objects.select_related("avatar__grant"), pk=lesson_id)


def _scene(request, lesson_id: int, scene_id: int) -> LessonScene:
    return get_object_or_404(
        LessonScene.objects.select_related("lesson__avatar", "deck"),
        pk=scene_id,
        lesson_id=lesson_id,
        lesson__workspace=request.workspace,
    )


def _scenes_context(lesson: Lesson, forms: dict | None = None) -> dict:
    scenes = list(lesson.ordered_scenes().select_related("deck"))
    forms = forms or {}
    return {
        "lesson": lesson,
        "scenes": [(scene, forms.get(scene.pk) or SceneForm(instance=scene)) for scene in scenes],
        "chapters": [s.chapter_name for s in scenes if s.chapter_name],
    }


@member_required()
def lesson_detail(request, lesson_id: int):
    lesson = _lesson(request, lesson_id)
    form = LessonSettingsForm(instance=lesson, workspace=request.workspace)
    status = 200
    if request.method == "POST":
        if not request.membership.can_edit:
            return render(request, "403.html", status=403)
        form = LessonSettingsForm(request.POST, instance=lesson, workspace=request.workspace)
        if form.is_valid():
            form.save()
            messages.success(request, "The lesson was saved.")
            return redirect("lessons:detail", lesson_id=lesson.pk)
        status = 400
    return render(
        request,
        "lessons/lesson_detail.html",
        _detail_context(lesson, settings_form=form),
        status=status,
    )


def _detail_context(lesson: Lesson, **extra) -> dict:
    renders = lesson.lesson_renders.select_related("job__video", "scene")[:10]
    return {
        **_scenes_context(lesson),
        "settings_form": LessonSettingsForm(instance=lesson, workspace=lesson.workspace),
        "deck_form": DeckForm(),
        "renders": renders,
        "video": lesson.latest_video(),
        **extra,
    }


def _scenes_response(request, lesson: Lesson, forms: dict | None = None, status: int = 200):
    """The scene list (htmx swaps it in place), or back to the editor without htmx."""
    if request.htmx:
        # The chapters beside the list change with it: swapped out of band.
        context = {**_scenes_context(lesson, forms), "oob": True}
        return render(request, "lessons/_scenes.html", context, status=status)
    return redirect("lessons:detail", lesson_id=lesson.pk)


@require_POST
@member_required(edit=True)
def scene_add(request, lesson_id: int):
    lesson = _lesson(request, lesson_id)
    try:
        services.add_scene(lesson)
    except UserError as error:
        messages.error(request, str(error))
    return _scenes_response(request, lesson)


@require_POST
@member_required(edit=True)
def scene_save(request, lesson_id: int, scene_id: int):
    scene = _scene(request, lesson_id, scene_id)
    form = SceneForm(request.POST, request.FILES, instance=scene)
    if form.is_valid():
        form.save()
        return _scenes_response(request, scene.lesson)
    if not request.htmx:
        return render(
            request,
            "lessons/lesson_detail.html",
            {**_detail_context(scene.lesson), **_scenes_context(scene.lesson, {scene.pk: form})},
            status=400,
        )
    return _scenes_response(request, scene.lesson, {scene.pk: form}, status=400)


@require_POST
@member_required(edit=True)
def scene_action(request, lesson_id: int, scene_id: int, action: str):
    if action not in SCENE_ACTIONS:
        raise Http404("No such action.")
    scene = _scene(request, lesson_id, scene_id)
    try:
        if action == "up":
            services.move_scene(scene, -1)
        elif action == "down":
            services.move_scene(scene, +1)
        elif action == "duplicate":
            services.duplicate_scene(scene)
        elif action == "delete":
            services.delete_scene(scene)
        elif action == "preview":
            services.screen(scene.lesson, user=request.user, scenes=[scene])
            services.submit_scene_preview(scene, user=request.user)
            messages.success(request, "The scene's preview is rendering (small, this scene only).")
            return redirect("lessons:detail", lesson_id=lesson_id)
    except UserError as error:
        messages.error(request, str(error))
        if action == "preview":
            return redirect("lessons:detail", lesson_id=lesson_id)
    return _scenes_response(request, scene.lesson)


@member_required()
def scene_still(request, lesson_id: int, scene_id: int):
    """The scene's first frame, composed without a render (PNG)."""
    scene = _scene(request, lesson_id, scene_id)
    try:
        frame = services.scene_still(scene, width=STILL_WIDTH)
    except UserError as error:
        return HttpResponse(str(error), status=422, content_type="text/plain; charset=utf-8")
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
@member_required(edit=True)
def deck_import(request, lesson_id: int):
    lesson = _lesson(request, lesson_id)
    form = DeckForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            deck = services.import_deck(lesson, form.cleaned_data["deck"])
        except UserError as error:
            form.add_error("deck", str(error))
        else:
            messages.success(request, f"{deck.pages} slides of “{deck.name}” became scenes.")
            return redirect("lessons:detail", lesson_id=lesson.pk)
    return render(
        request,
        "lessons/lesson_detail.html",
        _detail_context(lesson, deck_form=form),
        status=400,
    )


@require_POST
@member_required(edit=True)
def lesson_render(request, lesson_id: int):
    lesson = _lesson(request, lesson_id)
    try:
        services.screen(lesson, user=request.user)
        services.submit_lesson(lesson, user=request.user)
    except UserError as error:
        messages.error(request, f"The lesson was not rendered: {error}")
    else:
        messages.success(request, "The lesson is rendering.")
    return redirect("lessons:detail", lesson_id=lesson.pk)


@member_required()
def lesson_scorm(request, lesson_id: int, version: str):
    """The lesson's latest video as a SCORM package (1.2 or 2004 4th edition)."""
    if version not in scorm.VERSIONS:
        raise Http404("SCORM 1.2 or 2004.")
    lesson = _lesson(request, lesson_id)
    video = lesson.latest_video()
    if video is None or video.withdrawal:
        messages.error(request, "Render the lesson first: SCORM packages hold its video.")
        return redirect("lessons:detail", lesson_id=lesson.pk)
    return scorm_package_response(request, lesson, video, version)


def scorm_package_response(request, lesson, video, version: str) -> FileResponse:
    """The SCORM package of ``video`` as a download (the lesson's page and the API's link),
    linking to the video's own provenance record, else to the verify page."""
    verify_url = request.build_absolute_uri(reverse("provenance:verify"))
    record = getattr(video.job, "provenance", None)
    if record is not None:
        verify_url = request.build_absolute_uri(
            reverse("provenance:record", args=[record.payload_id])
        )
    package = scorm.build_package(lesson, video, version=version, verify_url=verify_url)
    return FileResponse(
        package,
        as_attachment=True,
        filename=f"lesson-{lesson.pk}-scorm-{version}.zip",
        content_type="application/zip",
    )
