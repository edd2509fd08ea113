from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import get_in_workspace, member_required
from consent import emails, ledger, services
from consent.forms import (
    AddSignedPaperForm,
    InviteForm,
    RemoteInviteForm,
    ReviewForm,
    SignedDocumentForm,
    SubjectForm,
    WrittenRevocationForm,
)
from consent.link_views import evidence_of
from consent.models import ConsentError, ConsentGrant, ConsentMethod, Subject

# Who may read the evidence and decide reviews: auditors read everything and edit nothing else.
AUDIT_ROLES = frozenset({Role.OWNER, Role.AUDITOR})


def require_audit_role(request) -> None:
    if request.membership.role not in AUDIT_ROLES:
        raise PermissionDenied("Only the workspace owner or an auditor can do this.")


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


@require_GET
@member_required(edit=True)
def grant_new(request, subject_id: int):
    """In person: the ceremony on this device, or the upload of a consent signed on paper."""
    subject = get_in_workspace(request, Subject, pk=subject_id)
    return render(request, "consent/grant_form.html", {"subject": subject})


def _link_created(request, grant, token: str, *, title: str, status: int = 200):
    """The subject's link, shown once (only its hash is kept), to copy or print for them."""
    link = request.build_absolute_uri(reverse("consent:link_home", args=[token]))
    response = render(
        request,
        "consent/link_created.html",
        {"grant": grant, "link": link, "title": title},
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the page holds the subject's key
    return response


def _scope_form_page(request, template: str, form, subject):
    return render(
        request,
        template,
        {"form": form, "subject": subject, "documents": form.fields["document"].queryset},
        status=400 if form.errors else 200,
    )


def _invite(
    request, subject_id: int, *, method: str, template: str, created, form_class=InviteForm
):
    """An invitation's scope and references; `created(grant, token, form)` answers once made."""
    subject = get_in_workspace(request, Subject, pk=subject_id)
    form = form_class(request.POST or None, request.FILES or None, subject=subject)
    if request.method == "POST" and form.is_valid():
        grant, token = services.invite_subject(
            subject=subject,
            document=form.cleaned_data["document"],
            scope=form.scope(),
            reference_portrait=form.cleaned_data["reference_portrait"],
            reference_voice=form.cleaned_data["reference_voice"],
            invited_by=request.user,
            evidence=evidence_of(request),
            method=method,
        )
        return created(grant, token, form)
    return _scope_form_page(request, template, form, subject)


@member_required(edit=True)
def grant_in_person(request, subject_id: int):
    """Scope and references as for an invitation; then the subject does the same ceremony on
    this device, and the same automatic checks decide."""
    return _invite(
        request,
        subject_id,
        method=ConsentMethod.IN_PERSON,
        template="consent/in_person_form.html",
        created=lambda grant, token, form: _link_created(
            request, grant, token, title="Consent in person"
        ),
    )


@member_required(edit=True)
def grant_signed_document(request, subject_id: int):
    """A consent the subject signed on paper: the scan, the witness and the date; it awaits
    review by an owner or auditor other than the member who uploads it."""
    subject = get_in_workspace(request, Subject, pk=subject_id)
    form = SignedDocumentForm(request.POST or None, request.FILES or None, subject=subject)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grant, token = services.record_signed_document(
            subject=subject,
            document=data["document"],
            scope=form.scope(),
            reference_portrait=data["reference_portrait"],
            reference_voice=data["reference_voice"],
            signed_document=data["signed_document"],
            witness_name=data["witness_name"],
            signed_on=data["signed_on"],
            recorded_by=request.user,
            evidence=evidence_of(request),
        )
        return _link_created(request, grant, token, title="Signed consent uploaded")
    return _scope_form_page(request, "consent/signed_document_form.html", form, subject)


@member_required(edit=True)
def invite_new(request, subject_id: int):
    def created(grant, token, form):
        link = request.build_absolute_uri(reverse("consent:link_home", args=[token]))
        emailed = None
        if form.cleaned_data.get("email_link"):
            emailed = emails.send_subject_link(
                grant, link, message=form.cleaned_data["message"], by=request.user
            )
        # The token is stored only as a hash: this page is the one chance to copy the link.
        context = {"grant": grant, "link": link, "emailed": emailed}
        return render(request, "consent/invite_created.html", context)

    return _invite(
        request,
        subject_id,
        method=ConsentMethod.REMOTE,
        template="consent/invite_form.html",
        created=created,
        form_class=RemoteInviteForm,
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
            "review_form": ReviewForm(grant=grant),
            "can_audit": request.membership.role in AUDIT_ROLES,
            "can_manage": request.membership.can_manage,
            "can_add_paper": request.membership.can_edit
            and (grant.lacks_evidence or grant.awaits_ceremony),
            "can_revoke": request.membership.can_manage and grant.status in REVOCABLE,
        },
    )


@require_POST
@member_required(manage=True)
def grant_issue_link(request, grant_id: int):
    """A new subject link (the earlier one stops working), shown once. Owners only: the link is
    the subject's key to their consent (sign, approve scripts, revoke)."""
    grant = _grant(request, grant_id)
    grant, token = services.issue_subject_link(
        grant, by=request.user, evidence=evidence_of(request)
    )
    return _link_created(request, grant, token, title="New subject link")


@member_required(edit=True)
def grant_add_signed_document(request, grant_id: int):
    """The signed paper for a consent recorded without evidence (or still awaiting signing)."""
    grant = _grant(request, grant_id)
    if not (grant.lacks_evidence or grant.awaits_ceremony):
        messages.error(request, "This consent has its evidence already.")
        return redirect("consent:grant_detail", grant_id=grant.pk)
    form = AddSignedPaperForm(request.POST or None, request.FILES or None, grant=grant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_signed_document(
                grant,
                signed_document=data["signed_document"],
                witness_name=data["witness_name"],
                signed_on=data["signed_on"],
                recorded_by=request.user,
                evidence=evidence_of(request),
            )
        except ConsentError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, "The signed consent is uploaded; another owner or an auditor reviews it."
            )
        return redirect("consent:grant_detail", grant_id=grant.pk)
    return render(
        request,
        "consent/add_signed_document.html",
        {"form": form, "grant": grant},
        status=400 if form.errors else 200,
    )


# A consent the subject gave (signed, being checked or reviewed, or live) can be revoked.
REVOCABLE = frozenset(
    {ConsentGrant.Status.VERIFYING, ConsentGrant.Status.NEEDS_REVIEW, ConsentGrant.Status.ACTIVE}
)


@member_required(manage=True)
def grant_revoke(request, grant_id: int):
    """An owner revokes on the subject's written request, which is kept as evidence. Owners
    only: revoking ends every use of the likeness at once and cannot be undone."""
    grant = _grant(request, grant_id)
    if grant.status not in REVOCABLE:
        messages.error(
            request,
            "This consent is already revoked."
            if grant.status == ConsentGrant.Status.REVOKED
            else "Only a signed consent can be revoked; this one was "
            f"{grant.get_status_display().lower()}.",
        )
        return redirect("consent:grant_detail", grant_id=grant.pk)
    form = WrittenRevocationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke_on_written_request(
                grant,
                written_request=form.cleaned_data["written_request"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                evidence=evidence_of(request),
            )
        except ConsentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "The consent is revoked, at the subject's written request.")
        return redirect("consent:grant_detail", grant_id=grant.pk)
    return render(
        request,
        "consent/revoke_form.html",
        {"form": form, "grant": grant},
        status=400 if form.errors else 200,
    )


EVIDENCE_FILES = {
    "signed-document": "signed_document",
    "revocation-request": "revocation_request",
}
EVIDENCE_CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".eml": "text/plain; charset=utf-8",  # shown as text: never rendered as a message or HTML
    ".txt": "text/plain; charset=utf-8",
}


@member_required()
def grant_evidence_file(request, grant_id: int, kind: str):
    """The signed paper or the written request to revoke, for the owner and auditors."""
    from pathlib import PurePath

    from django.http import Http404

    from core.media import serve_file

    require_audit_role(request)
    grant = _grant(request, grant_id)
    if kind not in EVIDENCE_FILES:
        raise Http404("No such evidence.")
    stored = getattr(grant, EVIDENCE_FILES[kind])
    if not stored:
        raise Http404("This consent has no such file.")
    suffix = PurePath(stored.name).suffix.lower()
    response = serve_file(
        request,
        stored,
        filename=f"consent-{grant.pk}-{kind}{suffix}",
        content_type=EVIDENCE_CONTENT_TYPES.get(suffix, "application/octet-stream"),
    )
    response["Cache-Control"] = "private, no-store"
    if suffix != ".pdf":  # the browser's PDF viewer does not open in a sandbox
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response


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
@member_required()
def grant_reverify(request, grant_id: int):
    require_audit_role(request)
    grant = _grant(request, grant_id)
    try:
        services.request_reverification(grant, by=request.user)
    except ConsentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The clip is being checked again.")
    return redirect("consent:grant_detail", grant_id=grant.pk)


@member_required()
def grant_certificate(request, grant_id: int):
    from consent.certificate import certificate_response

    grant = _grant(request, grant_id)
    if grant.signed_at is None:
        messages.error(request, "The certificate exists once the subject has signed.")
        return redirect("consent:grant_detail", grant_id=grant.pk)
    return certificate_response(grant)
