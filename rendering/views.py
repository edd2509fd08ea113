from functools import wraps

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import get_in_workspace, member_required
from config.private_media import serve_file
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
        )
    except services.RenderRefused as refusal:
        messages.error(request, f"Not rendered: {refusal}")
        return redirect("studio:script_detail", script_id=script.pk)
    return redirect("rendering:job_detail", job_id=job.pk)


def _job(request, job_id: int) -> RenderJob:
    return get_in_workspace(
        request, RenderJob.objects.select_related("avatar", "script"), pk=job_id
    )


@member_required()
def job_list(request):
    jobs = RenderJob.objects.filter(workspace=request.workspace)
    jobs = jobs.select_related("avatar", "script", "video")[:100]
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


@member_required()
def job_video(request, job_id: int):
    response = serve_file(
        request,
        _finished_video(request, job_id).file,
        content_type="video/mp4",
        filename=f"likeness-render-{job_id}.mp4",
        as_attachment=request.GET.get("download") == "1",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


CAPTION_TYPES = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8"}


@member_required()
def job_captions(request, job_id: int, fmt: str):
    """The render's captions (WebVTT for players, SRT to download), disclosure cue first."""
    captions = getattr(_finished_video(request, job_id), f"captions_{fmt}")
    if not captions:
        raise Http404("This render has no captions.")
    response = serve_file(
        request,
        captions,
        content_type=CAPTION_TYPES[fmt],
        filename=f"likeness-render-{job_id}.{fmt}",
        as_attachment=request.GET.get("download") == "1",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@member_required()
def job_poster(request, job_id: int):
    """The render's poster frame (JPEG), for the player and the list of renders."""
    video = _finished_video(request, job_id)
    if not video.poster:
        raise Http404("This render has no poster.")
    response = serve_file(
        request, video.poster, content_type="image/jpeg", filename=f"likeness-render-{job_id}.jpg"
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _withdrawal_reason(video: Video) -> str | None:
    """Why a shared video may no longer be shown, or None: consent revoked, or its period over
    (the grant's valid-until covers every use of the likeness, showing a made video included)."""
    from consent.models import ConsentGrant

    grant = video.job.avatar.grant
    if grant.status == ConsentGrant.Status.REVOKED:
        return "revoked"
    if grant.valid_until <= timezone.now():
        return "expired"
    return None


def shared_video_view(view):
    """A public share view: the token's video is passed on, a bad token is 404, and once the
    subject's consent is revoked or has run out every share URL answers 410 Gone."""

    @wraps(view)
    def wrapper(request, token: str):
        video = Video.from_share_token(token)
        if video is None or not video.file:
            raise Http404("This video does not exist.")
        reason = _withdrawal_reason(video)
        if reason:
            return render(request, "rendering/share_gone.html", {"reason": reason}, status=410)
        return view(request, video, token)

    return wrapper


@shared_video_view
def share_page(request, video: Video, token: str):
    return render(request, "rendering/share.html", {"video": video, "token": token})


@shared_video_view
def share_video(request, video: Video, token: str):
    response = serve_file(
        request, video.file, content_type="video/mp4", filename=f"likeness-{video.pk}.mp4"
    )
    response["Cache-Control"] = "no-cache"  # a revocation must take effect at once
    return response


@shared_video_view
def share_poster(request, video: Video, token: str):
    """The share page's preview image, for email and chat apps; gone with the consent."""
    if not video.poster:
        raise Http404("This video has no poster.")
    response = serve_file(
        request, video.poster, content_type="image/jpeg", filename=f"likeness-{video.pk}.jpg"
    )
    response["Cache-Control"] = "no-cache"
    return response


@shared_video_view
def share_captions(request, video: Video, token: str):
    """The share page's caption track (WebVTT), public like the page, gone once revoked."""
    if not video.captions_vtt:
        raise Http404("This video has no captions.")
    response = serve_file(
        request,
        video.captions_vtt,
        content_type=CAPTION_TYPES["vtt"],
        filename=f"likeness-{video.pk}.vtt",
    )
    response["Cache-Control"] = "no-cache"
    return response
