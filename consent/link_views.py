"""The subject's link: the signing ceremony, then their portal. No account: the token is the key.

Every view resolves the token first; an unknown or altered token answers 404 and an expired
invitation 410, each with a page that says what to do.
"""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consent import ledger, services
from consent.footage import PASSAGE, attach_footage
from consent.forms import DecisionForm, RevokeForm, SignForm
from consent.models import ConsentError, ConsentGrant, ScriptApproval
from consent.signals import uses_requested, videos_requested
from core.client import client_address
from core.media import serve_file
from engine.biometrics.bounds import MAX_CLIP_SECONDS

# The first frame of a video without a poster is decoded in the request: never for longer.
THUMBNAIL_SECONDS = 10


def evidence_of(request) -> services.Evidence:
    user = request.user.username if request.user.is_authenticated else None
    return services.Evidence(
        ip=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        user=user,
    )


def link_error(request, message: str, status: int, grant=None):
    return render(
        request, "consent/link_error.html", {"message": message, "grant": grant}, status=status
    )


def subject_link(view):
    """Resolve the token to its grant, or answer with the reason the link does not work."""

    @wraps(view)
    def wrapped(request, token: str, *args, **kwargs):
        try:
            grant = services.grant_for_link(token)
        except services.ExpiredLink as error:
            return link_error(request, str(error), 410)
        except services.InvalidLink as error:
            return link_error(request, str(error), 404)
        response = view(request, grant, token, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        # The token never leaks to other sites; same-origin keeps the Origin header CSRF needs.
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapped


def _ceremony(request, grant, token, *, form=None, error="", status=200):
    return render(
        request,
        "consent/ceremony.html",
        {
            "grant": grant,
            "token": token,
            "form": form
            or SignForm(subject=grant.subject, initial={"document_sha256": grant.document_sha256}),
            "error": error,
            "max_clip_seconds": int(MAX_CLIP_SECONDS),
        },
        status=status,
    )


@never_cache
@subject_link
def link_home(request, grant, token):
    if grant.awaits_ceremony:
        services.record_view(grant, evidence_of(request))
        return _ceremony(request, grant, token)
    return _portal(request, grant, token)


def _already_signed(request, grant):
    return link_error(
        request,
        "This consent was already signed on this link; it cannot be signed again. "
        "Open the link again to see your consent, approve scripts or revoke it.",
        409,
        grant=grant,
    )


@require_POST
@subject_link
def link_challenge(request, grant, token):
    """A take is starting: the live challenge its clip must show, and when to show it."""
    try:
        challenge = services.issue_liveness_challenge(grant)
    except ConsentError as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse({**challenge, "prompt": CHALLENGE_PROMPTS[challenge["kind"]]})


# What the page shows at the challenge's moment, by kind.
CHALLENGE_PROMPTS = {"blink": "Blink now"}


@require_POST
@subject_link
def link_clip(request, grant, token):
    """The recorded clip, uploaded by the page's script (or a file input). Answers JSON."""
    if not grant.awaits_ceremony:
        return JsonResponse({"error": "This consent is already signed."}, status=409)
    upload = request.FILES.get("clip")
    if upload is None:
        return JsonResponse({"error": "No clip was received; record it again."}, status=400)
    try:
        grant = services.attach_clip(grant, upload, evidence_of(request))
    except ConsentError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"ok": True, "sha256": grant.clip_sha256, "message": "Your clip is saved."})


@require_POST
@subject_link
def link_footage(request, grant, token):
    """Footage for a footage avatar, recorded by the portal's page once the subject signed (or a
    file input). Answers JSON."""
    upload = request.FILES.get("footage")
    if upload is None:
        return JsonResponse({"error": "No footage was received; record it again."}, status=400)
    try:
        grant = attach_footage(grant, upload, evidence_of(request))
    except ConsentError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "sha256": grant.footage_sha256,
            "message": "Your footage is saved; it can make a footage avatar of you.",
        }
    )


@require_POST
@subject_link
def link_sign(request, grant, token):
    if not grant.awaits_ceremony:
        return _already_signed(request, grant)
    form = SignForm(request.POST, subject=grant.subject)
    if not form.is_valid():
        return _ceremony(request, grant, token, form=form, status=400)
    data = form.cleaned_data
    try:
        services.sign_on_link(
            grant,
            typed_name=data["typed_name"],
            drawn_png=data["drawn_signature"],
            document_sha256=data["document_sha256"],
            evidence=evidence_of(request),
        )
    except ConsentError as error:
        grant.refresh_from_db()
        return _ceremony(request, grant, token, form=form, error=str(error), status=400)
    return redirect("consent:link_home", token=token)


def _videos_of(grant):
    """Every video made with the grant's likeness, from the app that publishes them."""
    answers = [videos for _, videos in videos_requested.send(sender=ConsentGrant, grant=grant)]
    return answers[0] if answers else []


def _uses_of(grant) -> list[dict]:
    """Uses of the grant's likeness made of many videos (a campaign), one entry each, from the
    apps that make them."""
    return [
        use for _, uses in uses_requested.send(sender=ConsentGrant, grant=grant) for use in uses
    ]


def _portal(request, grant, token, *, revoke_form=None, status=200):
    return render(
        request,
        "consent/portal.html",
        {
            "grant": grant,
            "token": token,
            "videos": _videos_of(grant),
            "uses": _uses_of(grant),
            "withdrawal": grant.withdrawal(),
            "approvals": grant.approvals.all(),
            "verification": grant.verifications.first(),
            "revoke_form": revoke_form or RevokeForm(),
            "decision_form": DecisionForm(),
            "timeline": ledger.timeline(grant),
            "footage_passage": PASSAGE,
            "footage_minutes": (settings.FOOTAGE_MIN_SECONDS, settings.FOOTAGE_MAX_SECONDS),
        },
        status=status,
    )


@require_POST
@subject_link
def link_revoke(request, grant, token):
    if grant.awaits_ceremony:
        return link_error(
            request, "This consent was never signed; there is nothing to revoke.", 409
        )
    if grant.status == ConsentGrant.Status.REVOKED:
        return link_error(request, "You already revoked this consent.", 409, grant=grant)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _portal(request, grant, token, revoke_form=form, status=400)
    services.revoke_grant(grant, reason=form.cleaned_data["reason"], evidence=evidence_of(request))
    return redirect("consent:link_home", token=token)


@require_POST
@subject_link
def link_script_decision(request, grant, token, approval_id: int):
    approval = get_object_or_404(ScriptApproval, grant=grant, pk=approval_id)
    if grant.status == ConsentGrant.Status.REVOKED:
        return link_error(request, "You revoked this consent; no script will be made.", 409)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return link_error(request, "Choose approve or reject for this script.", 400, grant=grant)
    try:
        services.decide_script(
            approval,
            approve=form.approve,
            reason=form.cleaned_data["reason"],
            evidence=evidence_of(request),
        )
    except ConsentError as error:
        return link_error(request, str(error), 409, grant=grant)
    return redirect("consent:link_home", token=token)


@subject_link
def link_certificate(request, grant, token):
    from consent.certificate import certificate_response

    if grant.awaits_ceremony:
        return link_error(request, "The certificate exists once you have signed.", 404)
    return certificate_response(grant)


def _video_of(grant, video_id: int):
    """One video made with this grant's likeness; 404 for any other (another subject's too)."""
    videos = _videos_of(grant)
    video = videos.filter(pk=video_id).first() if videos else None
    if video is None or not video.file:
        raise Http404("No video made with your likeness has this number.")
    return video


def _withdrawn(request, grant, withdrawal):
    if withdrawal.revoked:
        when = f" on {withdrawal.at:%Y-%m-%d}" if withdrawal.at else ""
        message = f"You revoked your consent{when}: the videos made with it are withdrawn."
    else:
        message = (
            f"Your consent ended on {withdrawal.at:%Y-%m-%d}: "
            "the videos made with it are withdrawn."
        )
    return link_error(request, message, 410, grant=grant)


# What the portal's player loads of a video: the field and its content type.
PORTAL_FILES = {
    "mp4": ("file", "video/mp4"),
    "vtt": ("captions_vtt", "text/vtt; charset=utf-8"),  # the disclosure cue comes first
}


@subject_link
def link_video_file(request, grant, token, video_id: int, kind: str):
    """A video made with the subject's likeness, or its captions, for the portal's player, until
    the consent is revoked or over; then 410 for them as for everyone else."""
    video = _video_of(grant, video_id)
    if withdrawal := grant.withdrawal():
        return _withdrawn(request, grant, withdrawal)
    field, content_type = PORTAL_FILES[kind]
    stored = getattr(video, field)
    if not stored:  # captions of videos rendered before they existed
        raise Http404(f"This video has no .{kind} file.")
    return serve_file(
        request, stored, content_type=content_type, filename=f"likeness-{video.pk}.{kind}"
    )


@subject_link
def link_thumbnail(request, grant, token, video_id: int):
    """One of the subject's videos as a picture: its poster, or for videos rendered before posters
    existed, the first frame (decoded by ffmpeg). Withdrawn with the video."""
    import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell

    video = _video_of(grant, video_id)
    if withdrawal := grant.withdrawal():
        return _withdrawn(request, grant, withdrawal)
    if video.poster:
        with video.poster.open("rb") as handle:
            return HttpResponse(handle.read(), content_type="image/jpeg")
    with video.file.open("rb") as handle:
        try:
            result = subprocess.run(  # nosec B603 B607: a fixed argument list, no shell; ffmpeg is found on PATH like every engine tool
                [
                    "ffmpeg",
                    "-v",
                    "error",
                    "-i",
                    "pipe:0",
                    "-frames:v",
                    "1",
                    "-vf",
                    "scale=160:-2",
                    "-f",
                    "image2",
                    "-c:v",
                    "mjpeg",
                    "pipe:1",
                ],
                input=handle.read(),
                capture_output=True,
                timeout=THUMBNAIL_SECONDS,
            )
        except subprocess.TimeoutExpired as error:
            raise Http404("This video has no picture.") from error
    if result.returncode != 0 or not result.stdout:
        raise Http404("This video has no picture.")
    return HttpResponse(result.stdout, content_type="image/jpeg")
