from django.shortcuts import redirect, render

from accounts.permissions import get_in_workspace, member_required
from consent import services
from consent.forms import SignedConsentForm, SubjectForm
from consent.models import ConsentGrant, Subject


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


@member_required()
def grant_detail(request, grant_id: int):
    grant = get_in_workspace(
        request, ConsentGrant.objects.select_related("subject", "document"), pk=grant_id
    )
    return render(request, "consent/grant_detail.html", {"grant": grant})
