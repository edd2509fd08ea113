"""Rendering asks for the provenance of a job before it renders and announces what it published."""

from django.conf import settings
from django.dispatch import receiver

from provenance.models import LabelSettings, ProvenanceRecord
from rendering.signals import render_spec_requested, video_published


@receiver(render_spec_requested, dispatch_uid="provenance-spec")
def provenance_for_render(sender, job, **kwargs) -> dict:
    record = ProvenanceRecord.for_job(job)
    return {
        "provenance_id": record.payload_id,
        "provenance": record.manifest_link(),
        "signing_keys_dir": str(settings.SITE_KEYS_DIR) if settings.C2PA_SIGN else "",
        **LabelSettings.of(job.workspace).spec_fields(),
    }


@receiver(video_published, dispatch_uid="provenance-publish")
def link_published_video(sender, video, result, **kwargs) -> None:
    record = ProvenanceRecord.objects.filter(job_id=video.job_id).first()
    if record is None:
        return
    record.video = video
    # The mark its frames really carry (the job's lineage, or the record's own id).
    record.frame_mark_id = getattr(result, "frame_mark_id", "") or record.payload_id
    record.c2pa_signed = bool(getattr(result, "c2pa_signed", False))
    # The engines that actually ran (the settings may have named an alias).
    record.engines = {
        **record.engines,
        "voice": getattr(result, "voice_engine", record.engines.get("voice")),
        "face": getattr(result, "face_engine", record.engines.get("face")),
    }
    record.save(update_fields=["video", "frame_mark_id", "c2pa_signed", "engines"])
