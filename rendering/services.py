"""Render workflows: submit (web) and run (worker). Both ask the consent policy first."""

import dataclasses
import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, transaction
from django.utils import timezone

from consent import services as consent_services
from core.errors import UserError
from core.files import copy_to_local
from engine.captions import caption_paths
from engine.errors import EngineError, RenderCancelled
from engine.face.drive import DEFAULT_MOTION
from engine.pipeline import STAGES, render
from engine.poster import poster_path
from engine.spec import RenderSpec
from engine.timeline import Timeline, TimelineError, TimelineLimits, one_scene
from rendering.models import RenderJob, StageCost, Video
from rendering.scheduler import (
    Heartbeat,
    claim_next_job,
    new_worker_id,
    reconnecting,
    retry_later,
)
from rendering.segment_cache import avatar_namespace, personal_namespace, site_segment_cache
from rendering.signals import (
    render_due,
    render_queued,
    render_spec_requested,
    render_starting,
    video_published,
)
from studio.models import PronunciationEntry

log = logging.getLogger(__name__)

# Progress is written at most this often, so a fast engine never floods the database.
PROGRESS_INTERVAL_SECONDS = 0.5


class RenderRefused(UserError):
    """The render may not start; the message says why, for the user."""

    code = "render_refused"


@transaction.atomic
def submit_render(
    *, workspace, user, avatar, script, purpose: str, motion: str = DEFAULT_MOTION
) -> RenderJob:
    timeline = one_scene(
        script.body,
        width=settings.RENDER_WIDTH,
        height=settings.RENDER_HEIGHT,
        fps=settings.RENDER_FPS,
    )
    return submit_timeline(
        workspace=workspace,
        user=user,
        avatar=avatar,
        script=script,
        purpose=purpose,
        timeline=timeline,
        script_text=script.body,
        motion=motion,
    )


@transaction.atomic
def submit_timeline(
    *,
    workspace,
    user,
    avatar,
    script,
    purpose: str,
    timeline: Timeline,
    script_text: str | None = None,
    lexicon: dict[str, str] | None = None,
    template: dict | None = None,
    part_of: str = "",
    frame_mark_id: str = "",
    priority: int = 0,
    motion: str = DEFAULT_MOTION,
) -> RenderJob:
    """Queue a render of ``timeline`` once the consent policy allows it, or raise RenderRefused
    with the policy's reason. ``template``: the timeline says a template filled in (a campaign's
    variant: consent.policy.TemplateUse as a dict); ``part_of``: what it is one video of."""
    if avatar.workspace_id != workspace.pk or script.workspace_id != workspace.pk:
        raise RenderRefused("The avatar and the script must belong to this workspace.")
    fmt = timeline.format
    # The lexicon is copied onto the job with the script: the policy checks the words these make
    # (language detected, forbidden topics, the subject's approval), and the worker says them.
    job = RenderJob(
        workspace=workspace,
        avatar=avatar,
        script=script,
        script_text=script_text if script_text is not None else script.body,
        timeline=timeline.to_dict(),
        pronunciations=(
            PronunciationEntry.lexicon_of(workspace) if lexicon is None else dict(lexicon)
        ),
        template=template,
        part_of=part_of,
        frame_mark_id=frame_mark_id,
        motion=motion,
        purpose=purpose,
        width=fmt.width,
        height=fmt.height,
        fps=fmt.fps,
        priority=priority,
        created_by=user,
    )
    check_timeline(job.timeline)
    decision = job.render_decision(at=timezone.now())
    if not decision:
        raise RenderRefused(decision.reason)
    job.save()
    render_queued.send(sender=RenderJob, job=job)  # billing reserves its credits, or refuses
    _record_decision(job, decision, stage="submit")
    transaction.on_commit(lambda: enqueue_render(job.pk))
    return job


def check_timeline(data: dict) -> None:
    """RenderRefused, with the timeline's own one-line reason, for a video the site's limits
    (TIMELINE_MAX_*) or the engine cannot make."""
    limits = TimelineLimits(
        max_scenes=settings.TIMELINE_MAX_SCENES,
        max_segments=settings.TIMELINE_MAX_SEGMENTS,
        max_seconds=settings.TIMELINE_MAX_SECONDS,
        max_segment_characters=settings.MAX_SCRIPT_CHARACTERS,  # a script is one segment
    )
    try:
        Timeline.from_dict(data).check(limits)
    except TimelineError as error:
        raise RenderRefused(str(error)) from error


def _record_decision(job: RenderJob, decision, *, stage: str) -> None:
    """Every decision about a saved job goes into the consent ledger."""
    consent_services.record_render_decision(
        job.avatar.grant, decision, job_id=job.pk, stage=stage, purpose=job.purpose
    )


def enqueue_render(job_id: int, *, run_after=None) -> None:
    """Ask the queue for a worker's turn for this job (call after commit)."""
    render_due.send(sender=RenderJob, job_id=job_id, run_after=run_after)


@transaction.atomic
def cancel_render(job: RenderJob, *, reason: str) -> bool:
    return job.cancel(reason)


@transaction.atomic
def retry_render(job: RenderJob) -> None:
    """Try a failed render again; consent is checked again as at submit (same words)."""
    decision = job.render_decision(at=timezone.now())
    _record_decision(job, decision, stage="retry")
    if not decision:
        raise RenderRefused(decision.reason)
    if not job.retry():
        raise RenderRefused("Only a failed render can be retried.")
    render_queued.send(sender=RenderJob, job=job)
    transaction.on_commit(lambda: enqueue_render(job.pk))


def warm_footage(avatar_id: int) -> str:
    """Analyse a footage avatar's footage into the segment cache before its first render (five
    minutes of footage take minutes), once the consent lets its likeness be used: what happened,
    in a word, for the task's result."""
    from avatars.models import Avatar
    from engine.pipeline import warm_footage as analyse_into_cache

    avatar = Avatar.objects.select_related("grant").filter(pk=avatar_id).first()
    if avatar is None or not avatar.is_footage:
        return "no footage"
    decision = avatar.preparation_decision(at=timezone.now())
    if not decision:
        log.info("Footage of avatar %s not analysed: %s", avatar_id, decision.reason)
        return "refused"
    folder = Path(settings.RENDER_WORK_DIR) / f"footage-{avatar_id}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        footage = copy_to_local(avatar.footage, folder, "footage")
        analyse_into_cache(str(footage), site_segment_cache(), avatar_namespace(avatar_id))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return "analysed"


def voice_weights_dir() -> str:
    """The weights folder of the site's voice engine (its own setting; "" for engines without
    weights)."""
    if settings.VOICE_ENGINE == "chatterbox":
        return settings.VOICE_CHATTERBOX_WEIGHTS_DIR
    return settings.XTTS_WEIGHTS_DIR


def build_spec(
    job: RenderJob, *, portrait: Path, voice_sample: Path, footage: Path | None = None
) -> RenderSpec:
    """The engine's spec of a job; ``footage``: a footage avatar's video, copied locally."""
    avatar = job.avatar
    # The voice profile is computed once per avatar (at enrollment, or here for older avatars).
    avatar.ensure_voice_profile()
    voice_profile = copy_to_local(avatar.voice_profile, voice_sample.parent, "voice-profile")
    return RenderSpec(
        script_text=job.script_text,
        portrait_path=str(portrait),
        footage_path=str(footage) if footage else "",
        voice_sample_paths=[str(voice_sample)],
        portrait_landmarks=avatar.face_landmarks,
        width=job.width,
        height=job.height,
        fps=job.fps,
        voice_engine=settings.VOICE_ENGINE,
        voice_profile_path=str(voice_profile),
        pronunciations=dict(job.pronunciations),  # the snapshot consent was checked with
        voice_weights_dir=voice_weights_dir(),
        voice_device=settings.XTTS_DEVICE,
        face_engine=settings.FACE_ENGINE,
        face_weights_dir=settings.FACE_NEURAL_WEIGHTS_DIR,
        timeline=job.timeline,  # the video asked for at submit, checked by the consent policy
        # A lineage's frame mark (a campaign's variants share frames); "" = this render's own id.
        frame_mark_id=job.frame_mark_id,
        motion=job.motion,
        cache_namespace=avatar_namespace(avatar.pk),  # erased with the avatar's biometric data
        # A campaign's recipients' values, spoken once for all who share them; erased with the
        # campaign's personal data (campaigns.retention) as well as with the avatar's.
        personal_cache_namespace=personal_namespace(avatar.pk, job.part_of) if job.part_of else "",
        stage_costs=learned_stage_costs(),
        metadata={
            "likeness_render_job": str(job.pk),
            "likeness_site": settings.SITE_NAME,
            "likeness_workspace": str(job.workspace_id),
            # Where the consent lets this video be shown ("intranet": internal use only).
            "likeness_channels": ",".join(avatar.grant.channels) or "none named",
        },
    )


def learned_stage_costs() -> dict[str, float] | None:
    """The stage costs this site's renders measured, to weight a render's progress by; None
    before any (the engine's prior). A stage the engine no longer has is left out."""
    return {s: cost for s, cost in StageCost.learned().items() if s in STAGES} or None


def learn_stage_costs(result) -> None:
    """Fold a finished render's measured seconds per unit of work into StageCost, for each stage
    that did enough work to measure."""
    measured = {
        stage: result.stage_seconds[stage] / units
        for stage, units in result.stage_units.items()
        if units > 0 and result.stage_seconds.get(stage, 0.0) >= StageCost.MIN_SECONDS
    }
    try:
        StageCost.learn(measured)
    except DatabaseError:  # the costs only weight progress bars: losing one sample is harmless
        log.exception("Learning the stage costs of a render failed")


def _with_provenance(job: RenderJob, spec: RenderSpec) -> RenderSpec:
    """Fields other apps add to the spec (the provenance id, label settings, signing keys)."""
    for _, fields in render_spec_requested.send(sender=RenderJob, job=job):
        if fields:
            spec = dataclasses.replace(spec, **fields)
    return spec


class _ProgressReporter:
    """Engine progress → the job row, throttled; raises RenderCancelled once this worker must stop
    (the job was cancelled, or its lease went to another worker)."""

    def __init__(self, job: RenderJob, heartbeat: Heartbeat):
        self.job, self.heartbeat, self.last_write, self.last_stage = job, heartbeat, 0.0, None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.heartbeat.lost:
            raise RenderCancelled("This worker lost the job's lease.")
        now = time.monotonic()
        if stage == self.last_stage and now - self.last_write < PROGRESS_INTERVAL_SECONDS:
            return
        self.last_write, self.last_stage = now, stage
        if not reconnecting(lambda: self.job.report_progress(stage, fraction)):
            raise RenderCancelled("The render was cancelled.")


def run_render(job_id: int | None = None) -> str | None:
    """One turn of a render worker: claim the fairest ready job (not necessarily `job_id`, which
    only says why the turn exists), render it, return its final status; None if nothing was ready.
    Safe to call any number of times: a job is claimed by one worker at a time."""
    job = claim_next_job(new_worker_id())
    if job is None:
        return None
    heartbeat = Heartbeat(job)
    heartbeat.start()
    try:
        return _render_claimed(job, heartbeat)
    finally:
        heartbeat.stop()


def start_refusal(job: RenderJob) -> str:
    """Why a claimed job may not start after all (other apps say, e.g. billing: its credit
    reservation is gone), or "" when it may."""
    reasons = [reason for _, reason in render_starting.send(sender=RenderJob, job=job) if reason]
    return " ".join(reasons)


def _work_folder(job: RenderJob) -> Path:
    """A folder per attempt; leftovers of this job's earlier (dead) attempts are removed first."""
    root = Path(settings.RENDER_WORK_DIR)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f"job-{job.pk}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = root / f"job-{job.pk}-{job.attempts}"
    folder.mkdir()
    return folder


def _render_claimed(job: RenderJob, heartbeat: Heartbeat) -> str:
    decision = job.render_decision(at=timezone.now())
    _record_decision(job, decision, stage="worker")
    if not decision:
        job.cancel(f"Consent check failed before rendering: {decision.reason}")
        return job.status
    if refusal := start_refusal(job):
        job.cancel(refusal)
        return job.status
    workdir = _work_folder(job)
    try:
        try:
            spec = build_spec(
                job,
                portrait=copy_to_local(job.avatar.portrait, workdir, "portrait"),
                voice_sample=copy_to_local(job.avatar.voice_sample, workdir, "voice"),
                footage=(
                    copy_to_local(job.avatar.footage, workdir, "footage")
                    if job.avatar.is_footage
                    else None
                ),
            )
            spec = _with_provenance(job, spec)
            result = render(
                spec,
                workdir / "video.mp4",
                progress=_ProgressReporter(job, heartbeat),
                cache=site_segment_cache(),
            )
        except RenderCancelled:
            job.refresh_from_db()
            return job.status
        except EngineError as error:
            job.fail(str(error))
            return job.status
        except Exception:
            log.exception("Render %s crashed", job.pk)
            job.fail("The render failed because of an internal error; the team has been notified.")
            return job.status
        job.report_progress("saving", 0.99)
        try:
            _publish(job, result)
        except Exception as error:  # any storage backend's failure (disk, S3, network)
            log.exception("Saving render %s failed", job.pk)
            retry_later(job, reason=f"Saving the video to storage failed ({error}).")
        learn_stage_costs(result)  # what the engine measured holds whether or not it was published
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return job.status


def _publish(job: RenderJob, result) -> None:
    """Store the video and its captions and poster, then, under the job's row lock, publish them
    unless the job was cancelled or handed to another worker while encoding. The uploads (slow,
    to S3 perhaps) happen before the lock; files of a video that is not published are deleted."""

    def still_ours(rows) -> bool:
        current = rows.get(pk=job.pk)
        return current.status == RenderJob.Status.RUNNING and current.lease_owner == job.lease_owner

    if not still_ours(RenderJob.objects):  # cancelled or handed on while encoding: upload nothing
        return
    path = Path(result.video_path)
    video = Video(
        workspace=job.workspace,
        job=job,
        seconds=result.video_seconds,
        width=result.width,
        height=result.height,
        fps=result.fps,
        frames=result.frames,
        size_bytes=path.stat().st_size,
    )
    vtt, srt = caption_paths(path)
    files = [(video.file, path), (video.captions_vtt, vtt), (video.captions_srt, srt)]
    files.append((video.poster, poster_path(path)))
    published = False
    try:
        for field, local in files:
            if local.is_file():
                with open(local, "rb") as handle:
                    field.save(f"render-{job.pk}{local.suffix}", File(handle), save=False)
        with transaction.atomic():
            if still_ours(RenderJob.objects.select_for_update()):
                video.save()
                video_published.send(sender=Video, video=video, result=result)
                job.succeed()
                published = True
    finally:
        if not published:
            for field, _ in files:
                if field:
                    field.storage.delete(field.name)
