from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import get_in_workspace, member_required
from avatars.models import Avatar
from consent import screening
from consent import services as consent_services
from consent.models import ConsentError, Purpose, ScreeningReview
from engine.face.drive import MOTION_STYLES
from studio import services
from studio.forms import ApprovalRequestForm, PronunciationForm, ScriptForm
from studio.models import PronunciationEntry, Script


@member_required()
def script_list(request):
    return render(
        request,
        "studio/script_list.html",
        {"scripts": Script.objects.filter(workspace=request.workspace)},
    )


@member_required(edit=True)
def script_new(request):
    form = ScriptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        script = services.save_script(form, workspace=request.workspace, user=request.user)
        return redirect("studio:script_detail", script_id=script.pk)
    return render(
        request, "studio/script_form.html", {"form": form}, status=400 if form.errors else 200
    )


@member_required()
def script_detail(request, script_id: int):
    script = get_in_workspace(request, Script, pk=script_id)
    form = ScriptForm(instance=script)
    if request.method == "POST":
        if not request.membership.can_edit:
            return render(request, "403.html", status=403)
        form = ScriptForm(request.POST, instance=script)
        if form.is_valid():
            services.save_script(form, workspace=request.workspace, user=request.user)
            return redirect("studio:script_detail", script_id=script.pk)
    return render(
        request,
        "studio/script_detail.html",
        {
            "script": script,
            "form": form,
            # A script saved before screening existed is screened (and held) when first seen.
            "screening": _screen(request, script),
            # The Render form posts to rendering, which validates it again.
            "avatars": Avatar.objects.filter(
                workspace=request.workspace, status=Avatar.Status.ACTIVE
            ),
            "purposes": Purpose.choices,
            "motions": list(MOTION_STYLES),
            "approval_form": ApprovalRequestForm(workspace=request.workspace),
            "jobs": script.render_jobs.select_related("avatar__grant", "video").order_by(
                "-created_at"
            )[:20],
        },
        status=400 if form.errors else 200,
    )


def _screen(request, script: Script) -> ScreeningReview | None:
    """Acceptable-use screening of the script as saved: a flagged one is held for an owner."""
    return services.screen_script(script, by=request.user)


@require_POST
@member_required(manage=True)
def script_screening_decision(request, script_id: int):
    """An owner approves a script the screening held, or keeps it held (both in the ledger)."""
    script = get_in_workspace(request, Script, pk=script_id)
    review = _screen(request, script)
    if review is None:
        messages.info(request, f"“{script.title}” is not held: nothing in it needs review.")
        return redirect("studio:script_detail", script_id=script.pk)
    approve = request.POST.get("decision") == "approve"
    try:
        screening.decide_review(review, approve=approve, by=request.user)
    except ConsentError as error:
        messages.error(request, str(error))
    else:
        if approve:
            messages.success(request, f"“{script.title}” was approved: it may render.")
        else:
            messages.success(request, f"“{script.title}” stays held: it cannot render.")
    return redirect("studio:script_detail", script_id=script.pk)


@require_POST
@member_required(edit=True)
def script_send_for_approval(request, script_id: int):
    """Ask the subject of a consent that requires it to approve this script (on their link)."""
    script = get_in_workspace(request, Script, pk=script_id)
    form = ApprovalRequestForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            consent_services.request_script_approval(
                form.cleaned_data["grant"], title=script.title, text=script.body, by=request.user
            )
        except ConsentError as error:  # e.g. the script's markup is invalid
            messages.error(request, f"“{script.title}” was not sent: {error}")
        else:
            messages.success(request, f"“{script.title}” was sent to the subject for approval.")
    else:
        messages.error(request, "Choose an active consent of this workspace.")
    return redirect("studio:script_detail", script_id=script.pk)


@member_required()
def pronunciation_list(request):
    """The workspace's pronunciation lexicon; editors add entries here."""
    form = PronunciationForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST":
        if not request.membership.can_edit:
            return render(request, "403.html", status=403)
        if form.is_valid():
            entry = form.save(commit=False)
            entry.workspace = request.workspace
            entry.save()
            return redirect("studio:pronunciation_list")
    return render(
        request,
        "studio/pronunciation_list.html",
        {"form": form, "entries": PronunciationEntry.objects.filter(workspace=request.workspace)},
        status=400 if form.errors else 200,
    )


@require_POST
@member_required(edit=True)
def pronunciation_delete(request, pronunciation_id: int):
    get_in_workspace(request, PronunciationEntry, pk=pronunciation_id).delete()
    return redirect("studio:pronunciation_list")
