"""The public verification page and API (no login), a public record page, and the workspace's
label settings (owners only)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import MANAGE_ROLES
from provenance import services
from provenance.forms import LabelSettingsForm, VerifyForm
from provenance.models import LabelSettings, ProvenanceRecord
from provenance.ratelimit import rate_limited


def _problem(status: int, message: str, code: str) -> JsonResponse:
    """An API refusal as an RFC 9457 problem; ``error`` repeats the message for older clients."""
    body = {"type": "about:blank", "title": message, "status": status, "detail": message}
    body.update(code=code, error=message)
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _too_large(request) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    return length.isdigit() and int(length) > settings.VERIFY_MAX_BYTES + 64 * 1024


@require_http_methods(["GET", "HEAD"])
def site_root_certificate(request):
    """The site's root certificate, public: what a consent certificate, a signed ledger
    checkpoint or a C2PA manifest from this site is checked against."""
    response = HttpResponse(services.trust_anchor(), content_type="application/x-pem-file")
    name = f"{slugify(settings.SITE_NAME) or 'site'}-root.pem"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@rate_limited("verify")
def verify(request):
    if request.method == "POST" and _too_large(request):
        limit = settings.VERIFY_MAX_BYTES // (1024 * 1024)
        return HttpResponse(f"The file is larger than {limit} MB.", status=413)
    # Bound on every POST: a POST without a file is refused, not shown an empty form.
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    report, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = services.verify_upload(form.cleaned_data["file"]).report
            except services.VerificationRefused as error:
                form.add_error("file", str(error))
        if form.errors:
            status = 400
    context = {"form": form, "report": report, "max_mb": settings.VERIFY_MAX_BYTES // 2**20}
    return render(request, "provenance/verify.html", context, status=status)


@csrf_exempt  # a public, stateless API: no session, nothing changes
@require_POST
@rate_limited("verify", json=True)
def verify_api(request):
    if _too_large(request):
        limit = settings.VERIFY_MAX_BYTES // (1024 * 1024)
        return _problem(413, f"The file is larger than {limit} MB.", "too_large")
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _problem(400, " ".join(form.errors.get("file", ["Send a file."])), "invalid_upload")
    try:
        return JsonResponse(services.verify_upload(form.cleaned_data["file"]).report)
    except services.VerificationRefused as error:
        return _problem(400, str(error), error.code)


def record(request, token: str):
    """The public record a manifest or watermark points to (``token``: the provenance id)."""
    found = ProvenanceRecord.objects.filter(payload_id=token.lower()[:16]).first()
    if found is None:
        raise Http404("No provenance record has this id.")
    summary = found.public_summary()
    if request.GET.get("format") == "json":
        return JsonResponse(summary)
    return render(request, "provenance/record.html", {"record": summary})


@login_required
@require_http_methods(["GET", "POST"])
def label_settings(request):
    membership = getattr(request, "membership", None)
    workspace = getattr(request, "workspace", None)
    if workspace is None or membership is None or membership.role not in MANAGE_ROLES:
        raise Http404
    current = LabelSettings.of(workspace)
    form = LabelSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Disclosure settings saved; they apply to new renders.")
        return redirect("provenance:label_settings")
    return render(request, "provenance/label_settings.html", {"form": form})
