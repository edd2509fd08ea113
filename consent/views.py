from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import get_in_workspace, member_required
from consent import ledger, services
from consent.forms import InviteForm, ReviewForm, ScriptRequestForm, SignedConsentForm, SubjectForm
from consent.link_views import evidence_of
from consent.models import ConsentError, ConsentGrant, Subject

# Who may read the evidence and decide reviews: auditors read everything and edit nothing else.
AUDIT_ROLES = frozenset({Role.OWNER, Role.AUDITOR})


def require_audit_role(request) -> None:
    if request.membership.role not in AUDIT_ROLES:
        raise PermissionDenied("Only the workspace owner or an auditor can do this.")


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@member_required()
def subject_list(request):
    subjects = Subject.objects.filter(workspace=request.workspace).prefetch_related("grants")
    return render(request, "consent/subject_list.html", {"subjects": subjects})


@member_required(edit=True)
def subject_new(request):
    form = SubjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subject = form.save(commit=False)
        subject.workspace, subject.created_by = request.workspace, request.user
        subject.save()
        return redirect("consent:grant_new", subject_id=subject.pk)
    return render(
        request, "consent/subject_form.html", {"form": form}, status=400 if form.errors else 200
    )


@member_required()
def subject_detail(request, subject_id: int):
    subject = get_in_workspace(request, Subject, pk=subject_id)
    return render(
        request, "consent/subject_detail.html", {"subject": subject, "grants": subject.grants.all()}
    )


@member_required(edit=True)
def grant_new(request, subject_id: int):
    subject = get_in_workspace(request, Subject, pk=subject_id)
    form = SignedConsentForm(request.POST or None, subject=subject)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grant = services.record_signed_consent(
            subject=subject,
            document=data["document"],
            purposes=data["purposes"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            signature_name=data["signature_name"],
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            recorded_by=request.user,
        )
        return redirect("consent:grant_detail", grant_id=grant.pk)
    documents = {str(d.pk): d for d in form.fields["document"].queryset}
    return render(
        request,
        "consent/grant_form.html",
        {"form": form, "subject": subject, "documents": documents.values()},
        status=400 if form.errors else 200,
    )


@member_required(edit=True)
def invite_new(request, subject_id: int):
    subject = get_in_workspace(request, Subject, pk=subject_id)
    form = InviteForm(request.POST or None, request.FILES or None, subject=subject)
    if request.method == "POST" and form.is_valid():
        grant, token = services.invite_subject(
            subject=subject,
            document=form.cleaned_data["document"],
            scope=form.scope(),
            reference_portrait=form.cleaned_data["reference_portrait"],
            reference_voice=form.cleaned_data["reference_voice"],
            invited_by=request.user,
            evidence=evidence_of(request),
        )
        link = request.build_absolute_uri(reverse("consent:link_home", args=[token]))
        # The token is stored only as a hash: this page is the one chance to copy the link.
        return render(request, "consent/invite_created.html", {"grant": grant, "link": link})
    return render(
        request,
        "consent/invite_form.html",
        {"form": form, "subject": subject, "documents": form.fields["document"].queryset},
        status=400 if form.errors else 200,
    )


def _grant(request, grant_id: int) -> ConsentGrant:
    return get_in_workspace(
        request, ConsentGrant.objects.select_related("subject", "document"), pk=grant_id
    )


@member_required()
def grant_detail(request, grant_id: int):
    grant = _grant(request, grant_id)
    return render(
        request,
        "consent/grant_detail.html",
        {
            "grant": grant,
            "verification": grant.verifications.first(),
            "timeline": ledger.timeline(grant),
            "approvals": grant.approvals.all(),
            "review_form": ReviewForm(),
            "script_form": ScriptRequestForm(workspace=request.workspace),
            "can_audit": request.membership.role in AUDIT_ROLES,
        },
    )


@require_POST
@member_required()
def grant_review(request, grant_id: int):
    require_audit_role(request)
    grant = _grant(request, grant_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Not reviewed: {error}")
        return redirect("consent:grant_detail", grant_id=grant.pk)
    try:
        services.review_grant(
            grant, approve=form.approve, reason=form.cleaned_data["reason"], by=request.user
        )
    except ConsentError as error:
        messages.error(request, str(error))
    return redirect("consent:grant_detail", grant_id=grant.pk)


@require_POST
@member_required(edit=True)
def grant_request_script(request, grant_id: int):
    grant = _grant(request, grant_id)
    form = ScriptRequestForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        script = form.cleaned_data["script"]
        services.request_script_approval(
            grant, title=script.title, text=script.body, by=request.user
        )
        messages.success(request, f"“{script.title}” was sent to the subject for approval.")
    else:
        messages.error(request, "Choose a script of this workspace.")
    return redirect("consent:grant_detail", grant_id=grant.pk)


@member_required()
def grant_certificate(request, grant_id: int):
    from consent.certificate import certificate_response

    grant = _grant(request, grant_id)
    if grant.signed_at is None:
        messages.error(request, "The certificate exists once the subject has signed.")
        return redirect("consent:grant_detail", grant_id=grant.pk)
    return certificate_response(grant)
