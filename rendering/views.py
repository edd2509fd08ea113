from functools import wraps

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import get_in_workspace, member_required
from core.media import serve_file
from rendering import services
from rendering.forms import RenderForm
from rendering.models import RenderJob, Video


@require_POST
@member_required(edit=True)
def submit(request):
    form = RenderForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("studio:script_list")
    script = form.cleaned_data["script"]
    try:
        job = services.submit_render(
            workspace=request.workspace,
            user=request.user,
            avatar=form.cleaned_data["avatar"],
            script=script,
            purpose=form.cleaned_data["purpose"],
            motion=form.cleaned_data["motion"],
        )
    except services.RenderRefused as refusal:
        messages.error(request, f"Not rendered: {refusal}")
        return redirect("studio:script_detail", script_id=script.pk)
    return redirect("rendering:job_detail", job_id=job.pk)


def _job(request, job_id: int) -> RenderJob:
    return get_in_workspace(
        request, RenderJob.objects.select_related("avatar__grant", "script"), pk=job_id
    )


@member_required()
def job_list(request):
    jobs = RenderJob.objects.filter(workspace=request.workspace)
    jobs = jobs.select_related("avatar__grant", "script", "video")[:100]
    return render(request, "rendering/job_list.html", {"jobs": jobs})


@member_required()
def job_detail(request, job_id: int):
    return render(request, "rendering/job_detail.html", {"job": _job(request, job_id)})


@member_required()
def job_status(request, job_id: int):
    """The live part of the job page; htmx polls it until the job finishes."""
    return render(request, "rendering/_job_status.html", {"job": _job(request, job_id)})


@member_required()
def job_status_json(request, job_id: int):
    job = _job(request, job_id)
    payload = {
        "job": job.pk,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 3),
        "error": job.error or None,
        "video_seconds": None,
    }
    if job.status == RenderJob.Status.SUCCEEDED:
        payload["video_seconds"] = job.video.seconds
    withdrawal = job.withdrawal
    payload["withdrawn"] = (
        {"reason": withdrawal.reason, "at": withdrawal.at.isoformat() if withdrawal.at else None}
        if withdrawal
        else None
    )
    return JsonResponse(payload)


@require_POST
@member_required(edit=True)
def job_cancel(request, job_id: int):
    job = _job(request, job_id)
    if not services.cancel_render(job, reason=f"Cancelled by {request.user.username}."):
        messages.info(request, "The render had already finished.")
    return redirect("rendering:job_detail", job_id=job.pk)


@require_POST
@member_required(edit=True)
def job_retry(request, job_id: int):
    job = _job(request, job_id)
    try:
        services.retry_render(job)
    except services.RenderRefused as refusal:
        messages.error(request, f"Not retried: {refusal}")
    return redirect("rendering:job_detail", job_id=job.pk)


def _finished_video(request, job_id: int) -> Video:
    job = _job(request, job_id)
    video = getattr(job, "video", None) if job.status == RenderJob.Status.SUCCEEDED else None
    if video is None:
        raise Http404("This render has no video.")
    return video


# What a finished render serves besides its page: the Video field and its content type.
VIDEO_FILES = {
    "mp4": ("file", "video/mp4"),
    "vtt": ("captions_vtt", "text/vtt; charset=utf-8"),  # for players
    "srt": ("captions_srt", "application/x-subrip; charset=utf-8"),  # to download
    "jpg": ("poster", "image/jpeg"),
}


def serve_video_file(request, video: Video, kind: str, stem: str, cache_control: str):
    """A video's file of ``kind`` (a VIDEO_FILES key) after the caller checked who may have it;
    the campaigns' share pages serve their files through it too."""
    field, content_type = VIDEO_FILES[kind]
    stored = getattr(video, field)
    if not stored:  # captions and posters of videos rendered before they existed
        raise Http404(f"This video has no .{kind} file.")
    response = serve_file(
        request,
        stored,
        content_type=content_type,
        filename=f"{stem}.{kind}",
        as_attachment=request.GET.get("download") == "1",
    )
    if response.status_code in (200, 206):  # a redirect to a signed URL keeps its no-store
        response["Cache-Control"] = cache_control
    return response


def withdrawn_response(request, withdrawal, *, job: RenderJob | None = None):
    """410 Gone, saying why: the consent the video was made under was revoked or has run out.
    `job`: a member asked, so the page links back to the render's record, which stays."""
    context = {"reason": withdrawal.reason, "withdrawal": withdrawal, "job": job}
    return render(request, "rendering/share_gone.html", context, status=410)


@member_required()
def job_file(request, job_id: int, kind: str):
    """A finished render's video, captions (disclosure cue first) or poster, for its members;
    410 once its consent is revoked or over (auditors keep the record, not the media)."""
    video = _finished_video(request, job_id)
    if withdrawal := video.job.withdrawal:
        return withdrawn_response(request, withdrawal, job=video.job)
    stem = f"likeness-render-{job_id}-{channel_mark(video.job.avatar.grant)}"
    return serve_video_file(request, video, kind, stem, "private, max-age=3600")


def channel_mark(grant) -> str:
    """What a download's name says of where the consent lets it be shown: "for-intranet",
    "for-website-email", or "no-channel-named"."""
    from consent.models import Channel

    channels = [c for c in grant.channels if c in Channel.values]
    return "for-" + "-".join(channels) if channels else "no-channel-named"


def shared_video_view(view):
    """A public share view: the token's video is passed on, a bad token is 404, and once the
    subject's consent is revoked or has run out every share URL answers 410 Gone. A consent that
    covers no public channel (intranet only) has no share URLs: they answer 404 and say why."""

    @wraps(view)
    def wrapper(request, token: str, **kwargs):
        video = Video.from_share_token(token)
        if video is None or not video.file:
            raise Http404("This video does not exist.")
        if withdrawal := video.withdrawal:
            return withdrawn_response(request, withdrawal)
        if not video.job.avatar.grant.allows_public_sharing:
            # Internal use only: no public page, preview image or file, ever (not "gone").
            return render(request, "rendering/share_internal.html", status=404)
        return view(request, video, token, **kwargs)

    return wrapper


@shared_video_view
def share_page(request, video: Video, token: str):
    return render(request, "rendering/share.html", {"video": video, "token": token})


@shared_video_view
def share_file(request, video: Video, token: str, kind: str):
    """The share page's video, caption track or preview image (for email and chat apps), public
    like the page and gone with the consent: never cached, so a revocation takes effect at once."""
    return serve_video_file(request, video, kind, f"likeness-{video.pk}", "no-cache")
