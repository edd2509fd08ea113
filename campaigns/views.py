from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import get_in_workspace, member_required
from campaigns import engagement, progress, services
from campaigns.forms import CampaignForm, CampaignTextsForm, RecipientsForm
from campaigns.models import Campaign
from campaigns.recipients import RecipientFileError
from consent.models import ConsentError
from core.errors import UserError

# The problems of a refused import, kept for the "download as CSV" link (a bad file saves
# nothing in the database).
PROBLEMS_SECONDS = 3600
PROBLEMS_SHOWN = 200
RECIPIENTS_SHOWN = 200


def _problems_key(request, campaign) -> str:
    return f"campaign-problems:{campaign.pk}:{request.user.pk}"


@member_required()
def campaign_list(request):
    campaigns = Campaign.objects.filter(workspace=request.workspace).select_related("avatar")
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@member_required(edit=True)
def campaign_new(request):
    form = CampaignForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(
                workspace=request.workspace, user=request.user, **form.cleaned_data
            )
        except UserError as error:
            form.add_error("script", str(error))
        else:
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    return render(
        request, "campaigns/campaign_new.html", {"form": form}, status=400 if form.errors else 200
    )


def _campaign(request, campaign_id: int) -> Campaign:
    return get_in_workspace(
        request, Campaign.objects.select_related("avatar__grant", "script"), pk=campaign_id
    )


@member_required()
def campaign_detail(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    form = CampaignTextsForm(instance=campaign)
    status = 200
    if request.method == "POST":
        if not request.membership.can_edit:
            return render(request, "403.html", status=403)
        form = CampaignTextsForm(request.POST, instance=campaign)
        if form.is_valid():
            texts = {k: v for k, v in form.cleaned_data.items() if not k.startswith("kind_")}
            try:
                services.update_campaign(
                    Campaign.objects.get(pk=campaign.pk), kinds=form.kinds(), **texts
                )
            except UserError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "The campaign was saved.")
                return redirect("campaigns:detail", campaign_id=campaign.pk)
        status = 400
    return render(
        request,
        "campaigns/campaign_detail.html",
        _detail_context(request, campaign, form=form),
        status=status,
    )


def _detail_context(request, campaign: Campaign, **extra) -> dict:
    recipients = list(campaign.recipients.select_related("job__video")[:RECIPIENTS_SHOWN])
    for recipient in recipients:
        recipient.cells = [
            (recipient.values.get(f["name"], ""), recipient.say.get(f["name"], ""))
            for f in campaign.fields
        ]
    approval = campaign.avatar.grant.approvals.filter(script_text=campaign.template_text).first()
    return {
        "campaign": campaign,
        "recipients": recipients,
        "recipient_count": campaign.recipients.count(),
        "first_merged": progress.merged(campaign, recipients[0] if recipients else None),
        "recipients_form": RecipientsForm(),
        "needs_approval": campaign.avatar.grant.requires_script_approval,
        "approval": approval,
        "progress": progress.snapshot(campaign),
        "samples": progress.samples(campaign),
        "spoken_values": services.spoken_values(campaign) if campaign.is_draft else [],
        "funnel": [] if campaign.is_draft else engagement.funnel(campaign),
        **extra,
    }


@require_POST
@member_required(edit=True)
def campaign_recipients(request, campaign_id: int):
    """Import a CSV file or a paste: every row checked; any problem and nothing is kept."""
    campaign = _campaign(request, campaign_id)
    form = RecipientsForm(request.POST, request.FILES)
    context = {"recipients_form": form}
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            found = services.read_list(
                campaign,
                data=upload.read() if upload else None,
                text=None if upload else form.cleaned_data["text"],
            )
            if found.ok:
                count = services.replace_recipients(campaign, found)
                messages.success(request, f"{count} recipients imported.")
                return redirect("campaigns:detail", campaign_id=campaign.pk)
        except (RecipientFileError, UserError) as error:
            form.add_error(None, str(error))
        else:
            cache.set(_problems_key(request, campaign), found.problems_csv(), PROBLEMS_SECONDS)
            form.add_error(
                None,
                f"{len(found.problems)} problems in {len({p.line for p in found.problems})} rows: "
                "nothing was imported. Fix them and upload the file again.",
            )
            context |= {
                "problems": found.problems[:PROBLEMS_SHOWN],
                "problem_count": len(found.problems),
            }
    return render(
        request,
        "campaigns/campaign_detail.html",
        _detail_context(request, campaign, form=CampaignTextsForm(instance=campaign)) | context,
        status=400,
    )


@member_required()
def campaign_problems(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    text = cache.get(_problems_key(request, campaign))
    if text is None:
        messages.info(request, "Those problems are no longer kept; import the file again.")
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-problems.csv"'
    return response


@member_required()
def campaign_preview(request, campaign_id: int):
    """The texts of one row merged (htmx: the editor's preview as a row is chosen)."""
    campaign = _campaign(request, campaign_id)
    recipient = campaign.recipients.filter(pk=request.GET.get("recipient") or 0).first()
    if recipient is None:
        recipient = campaign.recipients.first()
    return render(
        request,
        "campaigns/_preview.html",
        {
            "campaign": campaign,
            "recipient": recipient,
            "merged": progress.merged(campaign, recipient),
        },
    )


@member_required(edit=True)
def campaign_say(request, campaign_id: int):
    """One value of the list alone in the subject's voice (the launch page's play buttons)."""
    campaign = _campaign(request, campaign_id)
    try:
        wav = services.say_value(
            campaign,
            field=request.GET.get("field", ""),
            value=request.GET.get("value", ""),
            say=request.GET.get("say", ""),
        )
    except UserError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(wav, content_type="audio/wav")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@member_required(edit=True)
def campaign_approval(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    try:
        services.request_approval(campaign, user=request.user)
    except ConsentError as error:
        messages.error(request, f"The template was not sent: {error}")
    else:
        messages.success(request, "The template was sent to the subject for approval.")
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@member_required(edit=True)
def campaign_samples(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    chosen = list(
        campaign.recipients.filter(pk__in=request.POST.getlist("recipient")[:4]).order_by("line")
    )
    try:
        jobs = services.render_samples(campaign, chosen, user=request.user)
    except UserError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{len(jobs)} sample videos are being made at low resolution.")
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@member_required(edit=True)
def campaign_launch(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    try:
        counts = services.launch(campaign, user=request.user)
    except UserError as error:
        messages.error(request, f"The campaign was not launched: {error}")
    else:
        refused = f"; {counts['refused']} refused (see their rows)" if counts["refused"] else ""
        if counts.get("launching"):
            messages.success(
                request, f"{counts['launching']} videos are being queued; the counts show it."
            )
        else:
            messages.success(request, f"{counts['submitted']} videos queued{refused}.")
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@member_required()
def campaign_progress(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "campaigns/_progress.html",
            {"campaign": campaign, "progress": progress.snapshot(campaign)},
        )
    return JsonResponse(progress.snapshot(campaign).as_json())


@require_POST
@member_required(edit=True)
def campaign_cancel(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    cancelled = services.cancel(campaign)
    messages.success(request, f"The campaign was cancelled ({cancelled} videos not made).")
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@member_required(edit=True)
def campaign_retry(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    retried = services.retry_failed(campaign)
    messages.success(request, f"{retried} failed videos are queued again.")
    return redirect("campaigns:detail", campaign_id=campaign.pk)
