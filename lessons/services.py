"""Lesson workflows: scenes added, duplicated, reordered and deleted; decks imported as scenes;
the lesson (or one scene, small) submitted as a render through the consent policy; a still of a
scene's first frame composed without a render."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Max

from consent import screening
from consent.models import Purpose
from core.errors import UserError
from core.files import copy_to_local, upload_to_local
from engine import timeline as tl
from engine.compose import SceneCompositor
from engine.errors import EngineError
from lessons.decks import DeckLimits, DeckRefused, read_deck
from lessons.models import Deck, Lesson, LessonRender, LessonScene
from rendering.services import submit_timeline
from studio.models import PronunciationEntry, Script

# Lessons are training: every render of one asks the consent for this purpose.
PURPOSE = Purpose.TRAINING


class LessonRefused(UserError):
    code = "lesson_refused"


def deck_limits() -> DeckLimits:
    return DeckLimits(
        max_bytes=settings.LESSON_DECK_MAX_BYTES,
        max_slides=settings.LESSON_DECK_MAX_SLIDES,
        max_unpacked_bytes=settings.LESSON_DECK_MAX_UNPACKED_BYTES,
        convert_seconds=settings.LESSON_DECK_CONVERT_SECONDS,
        soffice=settings.LESSON_SOFFICE,
    )


# Scenes --------------------------------------------------------------------------------------


def _next_position(lesson: Lesson) -> int:
    return (lesson.scenes.aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def add_scene(lesson: Lesson, **fields) -> LessonScene:
    if lesson.scenes.count() >= settings.TIMELINE_MAX_SCENES:
        raise LessonRefused(f"A lesson holds at most {settings.TIMELINE_MAX_SCENES} scenes.")
    return LessonScene.objects.create(lesson=lesson, position=_next_position(lesson), **fields)


@transaction.atomic
def duplicate_scene(scene: LessonScene) -> LessonScene:
    """A copy right after ``scene`` (an uploaded image is shared, never copied)."""
    lesson = scene.lesson
    if lesson.scenes.count() >= settings.TIMELINE_MAX_SCENES:
        raise LessonRefused(f"A lesson holds at most {settings.TIMELINE_MAX_SCENES} scenes.")
    lesson.scenes.filter(position__gt=scene.position).update(position=F("position") + 1)
    copy = LessonScene.objects.get(pk=scene.pk)
    copy.pk = None
    copy.position = scene.position + 1
    copy.save()
    lesson.renumber()
    return copy


def move_scene(scene: LessonScene, step: int) -> None:
    """Up (-1) or down (+1) by one place."""
    ids = list(scene.lesson.ordered_scenes().values_list("pk", flat=True))
    at = ids.index(scene.pk)
    to = max(0, min(len(ids) - 1, at + step))
    ids.insert(to, ids.pop(at))
    scene.lesson.renumber(ids)


@transaction.atomic
def delete_scene(scene: LessonScene) -> None:
    lesson = scene.lesson
    scene.delete()
    lesson.renumber()


# Decks ---------------------------------------------------------------------------------------


def import_deck(lesson: Lesson, upload) -> Deck:
    """One scene per slide of an uploaded PDF or PPTX (a PPTX's speaker notes become the
    scenes' scripts). DeckRefused with a message for a deck that cannot be imported: then
    nothing is saved, and no process is left running."""
    existing = lesson.scenes.count()
    with tempfile.TemporaryDirectory(prefix="likeness-deck-") as tmp:
        folder = Path(tmp)
        raw = folder / "upload"
        limits = deck_limits()
        if upload.size > limits.max_bytes:  # before the upload is copied anywhere
            raise DeckRefused(
                f"“{upload.name}” is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{limits.max_bytes / 1024 / 1024:.0f} MB."
            )
        upload_to_local(upload, raw)
        deck = read_deck(raw, upload.name, folder, limits)
        if existing + len(deck.slides) > settings.TIMELINE_MAX_SCENES:
            raise LessonRefused(
                f"The deck's {len(deck.slides)} slides would make {existing + len(deck.slides)} "
                f"scenes; a lesson holds at most {settings.TIMELINE_MAX_SCENES}."
            )
        record = Deck(
            workspace=lesson.workspace,
            lesson=lesson,
            name=Path(upload.name).name[:200],
            pages=len(deck.slides),
        )
        with open(deck.pdf_path, "rb") as handle:
            record.pdf.save("deck.pdf", File(handle), save=False)
    stored = record.pdf.name
    try:
        with transaction.atomic():
            record.save()
            position = _next_position(lesson)
            LessonScene.objects.bulk_create(
                LessonScene(
                    lesson=lesson,
                    position=position + i,
                    background=LessonScene.Background.SLIDE,
                    deck=record,
                    page=slide.page,
                    layout=LessonScene.Layout.CORNER,
                    script=slide.notes,
                    # The chapter: the slide's first line of text (its title, most often);
                    # not drawn again over the slide, which shows it already.
                    chapter=slide.title[:200],
                )
                for i, slide in enumerate(deck.slides)
            )
    except Exception:
        record.pdf.storage.delete(stored)
        raise
    return record


# Timelines -----------------------------------------------------------------------------------


def local_path(field_file, folder: Path) -> str:
    """A path the engine can open: the stored file itself where storage is local, else a copy
    in ``folder``."""
    try:
        return field_file.storage.path(field_file.name)
    except NotImplementedError:
        folder.mkdir(parents=True, exist_ok=True)
        return str(copy_to_local(field_file, folder, Path(field_file.name).stem))


def scene_timeline(scene: LessonScene, folder: Path) -> tl.Scene:
    background = tl.Background(kind="color", color=scene.color)
    if scene.background == LessonScene.Background.IMAGE and scene.image:
        background = tl.Background(
            kind="image", color=scene.color, path=local_path(scene.image, folder)
        )
    elif scene.background == LessonScene.Background.SLIDE and scene.deck_id:
        background = tl.Background(
            kind="document",
            color=scene.color,
            path=local_path(scene.deck.pdf, folder),
            page=scene.page,
        )
    layout = tl.Layout(
        kind=scene.layout,
        position=scene.corner,
        size=scene.presenter_size,
        side=scene.side,
    )
    script = scene.script.strip()
    return tl.Scene(
        segments=[tl.Segment(script)] if script else [],
        layout=layout,
        background=background,
        text=tl.OnScreenText(title=scene.title, bullets=scene.bullet_list),
        duration=0.0 if script else max(1.0, scene.seconds),
        transition=tl.Transition(kind=scene.transition),
        title=scene.chapter_name,
    )


def lesson_timeline(lesson: Lesson, folder: Path, *, scenes=None, size=None) -> tl.Timeline:
    scenes = list(scenes if scenes is not None else lesson.ordered_scenes())
    if not scenes:
        raise LessonRefused("Add a scene first: the lesson has none.")
    width, height = size or lesson.size
    return tl.Timeline(
        scenes=[scene_timeline(scene, folder) for scene in scenes],
        format=tl.OutputFormat(width, height, settings.RENDER_FPS),
        burn_captions=lesson.burn_captions,
    )


def asset_folder() -> Path:
    """Where copies of lesson files from remote storage wait for the engine."""
    return Path(settings.RENDER_WORK_DIR) / "lesson-assets"


# Renders -------------------------------------------------------------------------------------


def _lesson_script(lesson: Lesson, user, text: str) -> Script:
    title = f"Lesson: {lesson.title}"[:200]
    if lesson.script_id is None:
        script = Script.objects.create(
            workspace=lesson.workspace, title=title, body=text, created_by=user
        )
        lesson.script = script
        lesson.save(update_fields=["script"])
        return script
    script = lesson.script
    script.title, script.body = title, text
    script.save(update_fields=["title", "body", "updated_at"])
    return script


@transaction.atomic
def submit_lesson(lesson: Lesson, *, user) -> LessonRender:
    """The whole lesson at its size, through the consent policy (purpose training: every
    scene's words and on-screen text)."""
    return _submit(lesson, user=user, scenes=None, size=None)


@transaction.atomic
def submit_scene_preview(scene: LessonScene, *, user) -> LessonRender:
    """One scene alone, small: a quick look before the whole lesson renders."""
    lesson = scene.lesson
    return _submit(lesson, user=user, scenes=[scene], size=lesson.preview_size)


def screen(lesson: Lesson, *, user, scenes=None) -> None:
    """The acceptable-use screening of what the lesson (or the scenes) would say, in a
    transaction of its own: a flagged text is held for an owner (the render is then refused
    until they approve it, on the lesson's script page) and the hold is kept even though the
    render is refused."""
    scenes = list(scenes if scenes is not None else lesson.ordered_scenes())
    text = "\n\n".join(scene.script.strip() for scene in scenes if scene.script.strip())
    if text:
        with transaction.atomic():
            screening.hold_if_flagged(
                lesson.workspace,
                title=f"Lesson: {lesson.title}"[:200],
                text=text,
                by=user,
                lexicon=PronunciationEntry.lexicon_of(lesson.workspace),
            )


def _submit(lesson: Lesson, *, user, scenes, size) -> LessonRender:
    if lesson.avatar is None:
        raise LessonRefused("Choose the presenter (an avatar) first.")
    timeline = lesson_timeline(lesson, asset_folder(), scenes=scenes, size=size)
    text = "\n\n".join(timeline.spoken_texts())
    if not text.strip():
        raise LessonRefused("Write what the presenter says in at least one scene.")
    script = _lesson_script(lesson, user, text)
    job = submit_timeline(
        workspace=lesson.workspace,
        user=user,
        avatar=lesson.avatar,
        script=script,
        purpose=PURPOSE,
        timeline=timeline,
        script_text=text,
        part_of=lesson.part_of if scenes is None else lesson.preview_part_of,
    )
    return LessonRender.objects.create(
        lesson=lesson, job=job, scene=scenes[0] if scenes is not None else None
    )


# Stills --------------------------------------------------------------------------------------


def scene_still(scene: LessonScene, *, width: int) -> np.ndarray:
    """The scene's first frame composed without a render (the presenter as the avatar's
    portrait, or the place left empty), ``width`` pixels wide, as RGB."""
    lesson = scene.lesson
    full_w, full_h = lesson.size
    height = max(2, round(width * full_h / full_w / 2) * 2)
    folder = Path(tempfile.mkdtemp(prefix="likeness-still-"))
    try:
        scene_data = scene_timeline(scene, folder)
        try:
            scene_data.layout.check("scene")
            if scene_data.layout.kind != "full":
                scene_data.background.check("scene")
        except EngineError as error:
            raise LessonRefused(str(error)) from error
        presenter = None
        if lesson.avatar is not None and scene_data.layout.shows_presenter:
            presenter = _portrait(lesson.avatar, folder)
        with SceneCompositor(scene_data, tl.OutputFormat(width, height, 25)) as compositor:
            if presenter is not None and compositor.presenter_size:
                presenter = _fill(presenter, compositor.presenter_size)
            return compositor.frame(0, presenter).copy()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _portrait(avatar, folder: Path) -> np.ndarray:
    from PIL import Image

    path = copy_to_local(avatar.portrait, folder, "portrait")
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _fill(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The portrait cropped to the presenter's shape (its middle) and scaled to ``size``."""
    import cv2

    width, height = size
    h, w = picture.shape[:2]
    scale = max(width / w, height / h)
    crop_w, crop_h = round(width / scale), round(height / scale)
    left, top = (w - crop_w) // 2, max(0, (h - crop_h) // 3)
    crop = picture[top : top + crop_h, left : left + crop_w]
    return cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=cv2.INTER_AREA)
