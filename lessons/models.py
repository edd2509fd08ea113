"""Lessons: ordered scenes (script, layout, background, title and bullets, transition) that
render as one timeline, decks whose pages are scenes' slides, and the renders made of them.

A lesson lives in its own app above rendering (beside campaigns): it submits renders and reads
their videos, which studio, below rendering, may not import.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, transaction

from accounts.models import WorkspaceScoped
from avatars.models import Avatar
from rendering.models import RenderJob
from studio.models import Script

# The lesson's shape: a timeline format name (engine.timeline.FORMATS) and, for previews, a
# small size of the same shape.
ASPECTS = {
    "landscape-720p": ("16:9, 1280x720", (1280, 720), (320, 180)),
    "landscape-1080p": ("16:9, 1920x1080", (1920, 1080), (320, 180)),
    "vertical-1080p": ("9:16, 1080x1920", (1080, 1920), (180, 320)),
    "square-1080": ("1:1, 1080x1080", (1080, 1080), (256, 256)),
}


def _asset_upload_to(instance, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    workspace_id = getattr(instance, "workspace_id", None) or instance.lesson.workspace_id
    return f"lessons/{workspace_id}/{uuid.uuid4().hex}.{suffix}"


class Lesson(WorkspaceScoped):
    """A training video made of scenes. ``completion_share``: the share of the video a learner
    must watch for the LMS to mark the lesson complete; ``quiz``: multiple-choice questions
    after the video ([{question, choices: [..], answer: index}]), passed at ``mastery_percent``."""

    title = models.CharField(max_length=200)
    aspect = models.CharField(
        max_length=20,
        choices=[(k, v[0]) for k, v in ASPECTS.items()],
        default="landscape-720p",
    )
    avatar = models.ForeignKey(
        Avatar, null=True, blank=True, on_delete=models.PROTECT, related_name="lessons"
    )
    # The lesson's words as one script (every scene's, in order), updated at each render: a
    # render job keeps its own copy, this is what the job's script link points at.
    script = models.OneToOneField(
        Script, null=True, blank=True, on_delete=models.PROTECT, related_name="lesson"
    )
    completion_share = models.FloatField(default=0.9)
    quiz = models.JSONField(default=list, blank=True)
    mastery_percent = models.PositiveSmallIntegerField(default=80)
    # The captions drawn into the picture too, for players and LMSs that show no caption track.
    burn_captions = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def part_of(self) -> str:
        """What the lesson's renders are one video of (RenderJob.part_of)."""
        return f"lesson:{self.pk}"

    @property
    def preview_part_of(self) -> str:
        return f"lesson-preview:{self.pk}"

    @property
    def size(self) -> tuple[int, int]:
        return ASPECTS[self.aspect][1]

    @property
    def preview_size(self) -> tuple[int, int]:
        return ASPECTS[self.aspect][2]

    def ordered_scenes(self):
        return self.scenes.order_by("position", "pk")

    def renders(self):
        """The lesson's whole renders, newest first."""
        return RenderJob.objects.filter(part_of=self.part_of).order_by("-created_at")

    def latest_video(self):
        job = (
            self.renders()
            .filter(status=RenderJob.Status.SUCCEEDED)
            .select_related("video", "avatar__grant")
            .first()
        )
        return getattr(job, "video", None) if job else None

    @transaction.atomic
    def renumber(self, order: list[int] | None = None) -> None:
        """Positions 1..n in ``order`` (scene ids; ids not named keep their relative order
        after those named)."""
        scenes = list(self.scenes.select_for_update().order_by("position", "pk"))
        if order:
            rank = {pk: i for i, pk in enumerate(order)}
            scenes.sort(key=lambda s: (rank.get(s.pk, len(rank)), s.position, s.pk))
        for number, scene in enumerate(scenes, 1):
            if scene.position != number:
                scene.position = number
                scene.save(update_fields=["position"])


class Deck(WorkspaceScoped):
    """An imported slide deck, kept as a PDF (a PPTX is converted on import): its pages are
    scenes' backgrounds."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="decks")
    name = models.CharField(max_length=200)
    pdf = models.FileField(upload_to=_asset_upload_to)
    pages = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class LessonScene(models.Model):
    class Layout(models.TextChoices):
        FULL = "full", "Presenter full frame"
        CORNER = "corner", "Presenter in a corner"
        HALF = "half", "Presenter on one half"
        VOICE_OVER = "voice_over", "Voice-over only"

    class Background(models.TextChoices):
        COLOR = "color", "Colour"
        IMAGE = "image", "Uploaded image"
        SLIDE = "slide", "Slide of a deck"

    class Transition(models.TextChoices):
        CUT = "cut", "Cut"
        CROSSFADE = "crossfade", "Crossfade"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="scenes")
    position = models.PositiveIntegerField(default=0)
    script = models.TextField(blank=True)
    layout = models.CharField(max_length=16, choices=Layout.choices, default=Layout.CORNER)
    corner = models.CharField(
        max_length=16,
        choices=[
            (c, c.replace("-", " "))
            for c in ("top-left", "top-right", "bottom-left", "bottom-right")
        ],
        default="bottom-right",
    )
    presenter_size = models.FloatField(default=0.35)
    side = models.CharField(
        max_length=8, choices=[("left", "left"), ("right", "right")], default="right"
    )
    background = models.CharField(
        max_length=8, choices=Background.choices, default=Background.COLOR
    )
    color = models.CharField(max_length=7, default="#1f2933")
    image = models.FileField(upload_to=_asset_upload_to, blank=True)
    deck = models.ForeignKey(
        Deck, null=True, blank=True, on_delete=models.SET_NULL, related_name="scenes"
    )
    page = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200, blank=True)  # drawn on the scene
    # The chapter's name; empty: the title.
    chapter = models.CharField(max_length=200, blank=True)
    bullets = models.TextField(blank=True, help_text="One bullet a line.")
    transition = models.CharField(max_length=16, choices=Transition.choices, default=Transition.CUT)
    # A scene with no speech (a title card) lasts this long.
    seconds = models.FloatField(default=3.0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title or f"Scene {self.position}"

    @property
    def chapter_name(self) -> str:
        return self.chapter or self.title

    @property
    def bullet_list(self) -> list[str]:
        return [line.strip() for line in self.bullets.splitlines() if line.strip()]


class LessonRender(models.Model):
    """A render of a lesson (``scene`` None) or of one scene as a preview, with the chapters
    the engine wrote beside the video (WebVTT; kept here: the video's own row has no field)."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="lesson_renders")
    job = models.OneToOneField(RenderJob, on_delete=models.CASCADE, related_name="lesson_render")
    scene = models.ForeignKey(
        LessonScene, null=True, blank=True, on_delete=models.SET_NULL, related_name="previews"
    )
    chapters_vtt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'Preview' if self.scene_id else 'Render'} of {self.lesson}"
