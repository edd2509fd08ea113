"""What lessons do when rendering publishes a video and when consent's portal asks."""

from __future__ import annotations

from django.db.models import Count, Q
from django.dispatch import receiver

from billing.usage import parts_named
from consent.models import Purpose
from consent.signals import uses_requested
from engine.captions import chapters_path
from lessons.models import Lesson, LessonRender
from rendering.models import RenderJob
from rendering.signals import video_published


@receiver(video_published, dispatch_uid="lessons-chapters")
def keep_chapters_of_lesson(sender, video, result, **kwargs) -> None:
    """The chapters the engine wrote beside a lesson's video (WebVTT, a few hundred bytes) are
    kept with its render: the SCORM player lists them."""
    path = chapters_path(result.video_path)
    if path.is_file():
        LessonRender.objects.filter(job_id=video.job_id).update(
            chapters_vtt=path.read_text(encoding="utf-8")
        )


@receiver(uses_requested, dispatch_uid="lessons-portal")
def lessons_of_grant(sender, grant, **kwargs) -> list[dict]:
    """Each lesson made with the grant's likeness as one entry of the subject's portal, with its
    videos and its scene previews counted."""
    entries = []
    lessons = Lesson.objects.filter(lesson_renders__job__avatar__grant=grant).distinct()
    for lesson in lessons.select_related("workspace").order_by("-created_at"):
        made = RenderJob.objects.filter(
            avatar__grant=grant,
            status=RenderJob.Status.SUCCEEDED,
            part_of__in=[lesson.part_of, lesson.preview_part_of],
        ).aggregate(
            videos=Count("pk", filter=Q(part_of=lesson.part_of)),
            samples=Count("pk", filter=Q(part_of=lesson.preview_part_of)),
        )
        if not (made["videos"] or made["samples"]):
            continue
        entries.append(
            {
                "kind": "lesson",
                "id": lesson.pk,
                "name": lesson.title,
                "workspace": str(lesson.workspace),
                "purpose": Purpose.TRAINING.label,
                "videos": made["videos"],
                "samples": made["samples"],
                "share_pages": [],
                "erased": False,
                "created_at": lesson.created_at,
            }
        )
    return entries


@receiver(parts_named, dispatch_uid="lessons-usage-names")
def lesson_names(sender, parts, **kwargs) -> dict[str, str]:
    """The billing usage page's names for lessons' videos and scene previews."""
    ids = [p.split(":")[1] for p in parts if p.startswith(("lesson:", "lesson-preview:"))]
    named = {}
    for lesson in Lesson.objects.filter(pk__in=[i for i in ids if i.isdigit()]):
        named[lesson.part_of] = f"Lesson: {lesson.title}"
        named[lesson.preview_part_of] = f"Lesson: {lesson.title} (scene previews)"
    return named
