"""Owners' pages for API tokens, and the short-lived download links the API hands out."""

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import get_in_workspace, member_required
from api import services
from api.forms import ApiTokenForm
from api.models import ApiToken
from api.resources import DOWNLOAD_SALT
from rendering.models import RenderJob, Video
from rendering.views import channel_mark, serve_video_file, withdrawn_response


@member_required(manage=True)
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _token, created = services.create_token(
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                by=request.user,
                expires_at=form.cleaned_data["expires_at"],
            )
            form = ApiTokenForm()
        else:
            status = 400
    tokens = ApiToken.objects.filter(workspace=request.workspace)
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "created": created},
        status=status,
    )


@require_POST
@member_required(manage=True)
def token_revoke(request, api_token_id: int):
    token = get_in_workspace(request, ApiToken, pk=api_token_id)
    if services.revoke_token(token):
        messages.success(request, f"Revoked “{token.name}”; it no longer works.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("api:tokens")


@require_GET
def download(request, token: str):
    """A file of a finished render, for whoever holds the link while it is valid (the API gave it
    to a token of the video's workspace); 410 once the consent is withdrawn."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.API_DOWNLOAD_SECONDS)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise Http404("This download link is not valid or has expired.") from error
    kind = data.get("kind") if isinstance(data, dict) else None
    video = (
        Video.objects.select_related("job__avatar__grant")
        .filter(pk=data.get("video") if kind else None, job__status=RenderJob.Status.SUCCEEDED)
        .first()
    )
    if video is None or kind not in ("mp4", "vtt", "srt", "jpg"):
        raise Http404("This download link is not valid or has expired.")
    if withdrawal := video.job.withdrawal:
        return withdrawn_response(request, withdrawal)
    stem = f"likeness-render-{video.job_id}-{channel_mark(video.job.avatar.grant)}"
    return serve_video_file(request, video, kind, stem, "private, no-store")


@require_GET
def scorm_download(request, token: str):
    """A SCORM package of a lesson's latest video, for whoever holds the link while it is valid."""
    from api.campaign_routes import SCORM_SALT
    from lessons import scorm
    from lessons.models import Lesson
    from lessons.views import scorm_package_response

    try:
        data = signing.loads(token, salt=SCORM_SALT, max_age=settings.API_DOWNLOAD_SECONDS)
    except signing.BadSignature as error:
        raise Http404("This download link is not valid or has expired.") from error
    lesson = Lesson.objects.filter(pk=data.get("lesson")).first()
    version = data.get("version")
    video = lesson.latest_video() if lesson is not None else None
    if video is None or version not in scorm.VERSIONS:
        raise Http404("This lesson has no video to package.")
    if withdrawal := video.withdrawal:
        return withdrawn_response(request, withdrawal)
    return scorm_package_response(request, lesson, video, version)


# ---- webhook endpoints (owners) ------------------------------------------------------------


@member_required(manage=True)
def webhook_list(request):
    from api.forms import WebhookEndpointForm
    from api.models import WebhookEndpoint

    form = WebhookEndpointForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.create_endpoint(workspace=request.workspace, **form.cleaned_data)
            except services.EndpointInvalid as error:
                form.add_error("url", str(error))
            else:
                form = WebhookEndpointForm()
        if form.errors:
            status = 400
    endpoints = WebhookEndpoint.objects.filter(workspace=request.workspace)
    context = {"form": form, "endpoints": endpoints, "created": created}
    return render(request, "api/webhooks.html", context, status=status)


def _endpoint(request, endpoint_id: int):
    from api.models import WebhookEndpoint

    return get_in_workspace(request, WebhookEndpoint, pk=endpoint_id)


@member_required(manage=True)
def webhook_detail(request, endpoint_id: int):
    from api.webhooks import RETRY_SCHEDULE

    endpoint = _endpoint(request, endpoint_id)
    deliveries = endpoint.deliveries.select_related("message").prefetch_related("log")[:50]
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "schedule": [int(d.total_seconds()) for d in RETRY_SCHEDULE],
        "secret": request.session.pop(f"webhook-secret-{endpoint.pk}", None),
    }
    return render(request, "api/webhook_detail.html", context)


@require_POST
@member_required(manage=True)
def webhook_action(request, endpoint_id: int, webhook_action: str):
    from django.db import transaction

    from api import webhooks

    endpoint = _endpoint(request, endpoint_id)
    action = webhook_action
    if action == "test":
        with transaction.atomic():
            webhooks.send_test_event(endpoint)
        messages.success(request, "A test event is on its way.")
    elif action == "rotate":
        secret = services.rotate_secret(endpoint)
        request.session[f"webhook-secret-{endpoint.pk}"] = secret  # shown once, on the next page
        messages.success(request, "New secret made; the old one signs too until the time shown.")
    elif action in ("enable", "disable"):
        services.update_endpoint(endpoint, enabled=action == "enable")
        if action == "disable":
            endpoint.disabled_reason = f"Disabled by {request.user.username}."
            endpoint.save(update_fields=["disabled_reason"])
    elif action == "delete":
        endpoint.delete()
        messages.success(request, "The endpoint was deleted.")
        return redirect("api:webhooks")
    else:
        raise Http404("No such action.")
    return redirect("api:webhook_detail", endpoint_id=endpoint.pk)


@require_POST
@member_required(manage=True)
def webhook_redeliver(request, endpoint_id: int, delivery_id: int):
    from django.db import transaction
    from django.shortcuts import get_object_or_404

    from api import webhooks

    endpoint = _endpoint(request, endpoint_id)
    delivery = get_object_or_404(endpoint.deliveries, pk=delivery_id)
    with transaction.atomic():
        webhooks.redeliver(delivery)
    messages.success(request, f"The {delivery.message.event} event is being sent again.")
    return redirect("api:webhook_detail", endpoint_id=endpoint.pk)
