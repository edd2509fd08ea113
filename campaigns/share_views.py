"""Share pages, engagement, exports and deletion of a campaign (see campaigns.services).

A recipient's share page and its files are public (the token is the key) for as long as the
video may be shown: 410 once the subject's consent is withdrawn or the campaign erased, 404 for a
token that never existed, and no public page at all for a consent that covers internal use only.
"""

from __future__ import annotations

import re
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.permissions import get_in_workspace, member_required
from campaigns import engagement, exports, retention
from campaigns.media import published_video
from campaigns.models import Campaign, Recipient
from core.media import serve_file
from core.merge_fields import TemplateError, merge
from rendering.views import serve_video_file, withdrawn_response

BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND = "#1f6feb"


def cta_link(recipient: Recipient) -> str:
    """The recipient's call-to-action URL (values percent-encoded), or "" when there is none or
    it is not an http(s) URL with a host: a javascript:, data: or relative link is never shown
    nor followed."""
    campaign = recipient.campaign
    if not campaign.cta_url or not campaign.cta_label:
        return ""
    try:
        url = merge(campaign.cta_url, recipient.values, url=True).strip()
    except TemplateError:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url


def page_text(template: str, recipient: Recipient) -> str:
    """A page text merged with the recipient's values (escaped by the template); "" if a value
    it needs is missing."""
    try:
        return merge(template, recipient.values) if template else ""
    except TemplateError:
        return ""


def brand_color(campaign: Campaign) -> str:
    return campaign.brand_color if BRAND_COLOR.match(campaign.brand_color or "") else DEFAULT_BRAND


def shared_recipient(view):
    """A public view of one recipient: 404 for an unknown token, 410 once the campaign is erased
    or the consent withdrawn, 404 (saying why) where the consent allows no public sharing."""

    @wraps(view)
    def wrapper(request, token: str, **kwargs):
        recipient = (
            Recipient.objects.select_related(
                "campaign__workspace", "campaign__avatar__grant", "job__video"
            )
            .filter(share_token=token)
            .first()
        )
        if recipient is None:
            raise Http404("This page does not exist.")
        campaign = recipient.campaign
        if campaign.erased_at or campaign.status == Campaign.Status.DELETED:
            return render(request, "campaigns/share_gone.html", {"campaign": campaign}, status=410)
        grant = campaign.avatar.grant
        video = published_video(recipient)
        if withdrawal := (video.withdrawal if video else grant.withdrawal()):
            return withdrawn_response(request, withdrawal)
        if not grant.allows_public_sharing:
            return render(request, "rendering/share_internal.html", status=404)
        return view(request, recipient, **kwargs)

    return wrapper


@never_cache
@require_safe
@shared_recipient
def share_page(request, recipient: Recipient):
    """The recipient's page; each GET counts as a view (never cached, so each one is seen; a
    HEAD is not a view)."""
    if request.method == "GET":
        engagement.record_view(recipient)
    campaign = recipient.campaign
    video = published_video(recipient)
    context = {
        "recipient": recipient,
        "campaign": campaign,
        "token": recipient.share_token,
        "video": video,
        "job": recipient.job,
        "title": page_text(campaign.page_title, recipient) or campaign.name,
        "message": page_text(campaign.page_message, recipient),
        "cta_url": cta_link(recipient),
        "has_gif": bool(recipient.gif),
    }
    return render(request, "campaigns/share_page.html", context)


@require_safe
@shared_recipient
def share_brand(request, recipient: Recipient):
    """The campaign's colour as a style sheet (the strict CSP allows no inline style)."""
    color = brand_color(recipient.campaign)
    response = HttpResponse(f":root {{ --brand: {color}; }}\n", content_type="text/css")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
@shared_recipient
def share_logo(request, recipient: Recipient):
    logo = recipient.campaign.logo
    if not logo:
        raise Http404("This campaign has no logo.")
    response = serve_file(request, logo, filename=logo.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
@shared_recipient
def share_file(request, recipient: Recipient, kind: str):
    """The recipient's video, captions, poster or GIF; never cached, so a revocation or an
    erasure takes effect at once."""
    video = published_video(recipient)
    if video is None:
        raise Http404("This video is not ready.")
    stem = f"video-{recipient.campaign_id}-{recipient.line}"
    if kind == "gif":
        if not recipient.gif:
            raise Http404("This video has no preview GIF yet.")
        response = serve_file(
            request, recipient.gif, content_type="image/gif", filename=f"{stem}.gif"
        )
        if response.status_code == 200:
            response["Cache-Control"] = "no-cache"
        return response
    return serve_video_file(request, video, kind, stem, "no-cache")


@require_POST
@shared_recipient
def share_event(request, recipient: Recipient):
    """A play or a watched step posted by the page's script (CSRF-checked like any POST)."""
    if published_video(recipient) is None:
        return JsonResponse({"error": "no video"}, status=409)
    if not engagement.allow_event(recipient.share_token):
        return JsonResponse({"error": "too many events"}, status=429)
    try:
        engagement.record_event(
            recipient, request.POST.get("event", ""), request.POST.get("percent")
        )
    except engagement.BadEvent as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"ok": True})


@never_cache
@require_safe
@shared_recipient
def share_go(request, recipient: Recipient):
    """The call to action: counted, then on to the recipient's http(s) link (404 if none)."""
    url = cta_link(recipient)
    if not url:
        raise Http404("This page has no call to action.")
    if engagement.allow_event(recipient.share_token):  # over the limit: followed, not counted
        engagement.record_click(recipient)
    return HttpResponseRedirect(url)


@member_required()
def campaign_export(request, campaign_id: int):
    """Every row with its status, links and engagement, as a spreadsheet-safe CSV."""
    campaign = get_in_workspace(request, Campaign, pk=campaign_id)
    response = HttpResponse(
        exports.campaign_csv(campaign, absolute=request.build_absolute_uri),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@member_required(edit=True)
def campaign_delete(request, campaign_id: int):
    """Ask, then erase the campaign: its recipients' data and its videos' files go, its share
    pages answer 410, the record that the videos were made stays."""
    campaign = get_in_workspace(request, Campaign, pk=campaign_id)
    context = {"campaign": campaign, "counts": campaign.counts()}
    if campaign.erased_at:
        messages.info(request, "This campaign was already deleted.")
        return redirect(reverse("campaigns:list"))
    if request.method != "POST":
        return render(request, "campaigns/share_delete_confirm.html", context)
    if request.POST.get("confirm") != campaign.name:
        context["error"] = "Type the campaign's name exactly to delete it."
        return render(request, "campaigns/share_delete_confirm.html", context, status=400)
    erased = retention.erase(campaign)
    messages.success(
        request,
        f"Deleted “{campaign.name}”: the data of {erased['recipients']} recipients and "
        f"{erased['files']} files of {erased['videos']} videos.",
    )
    return redirect(reverse("campaigns:list"))
