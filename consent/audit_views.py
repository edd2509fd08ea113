"""Auditor pages: grants by status, subject and expiry; the ledger's state; exports.

Read-only: owners and auditors only (an auditor's other power is reviewing flagged grants)."""

from datetime import timedelta

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import member_required
from consent import checkpoints, ledger
from consent.forms import AuditFilterForm
from consent.models import ConsentGrant, LedgerEntry
from consent.views import require_audit_role
from core.errors import UserError
from core.spreadsheet import csv_text

EXPORT_FIELDS = [
    "id",
    "subject",
    "email",
    "status",
    "document",
    "document_sha256",
    # What the subject agreed to (compensation is between the parties, not for an export).
    *(name for name in ConsentGrant.SCOPE_FIELDS if name != "compensation"),
    "signed_at",
    "signature_kind",
    "signature_sha256",
    "clip_sha256",
    "word_error_rate",
    "face_distance",
    "voice_similarity",
    "single_face_ratio",
    "verification_passed",
    "revoked_at",
    "biometrics_erased_at",
]


class BadFilter(UserError):
    """The query string's filters are invalid; ``str(error)`` says which and why."""

    code = "bad_filter"


def _filtered_grants(request):
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        raise BadFilter(form.error_message())
    return form.grants(request.workspace)


def _row(grant) -> dict:
    check = grant.verifications.all()[:1]
    check = check[0] if check else None

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": grant.pk,
        "subject": grant.subject.full_name,
        "email": grant.subject.email,
        "status": grant.status,
        "document": str(grant.document),
        "document_sha256": grant.document_sha256,
        **{name: value for name, value in grant.scope().items() if name in EXPORT_FIELDS},
        "signed_at": iso(grant.signed_at),
        "signature_kind": grant.signature_kind,
        "signature_sha256": grant.signature_sha256,
        "clip_sha256": grant.clip_sha256,
        "word_error_rate": check.word_error_rate if check else None,
        "face_distance": check.face_distance if check else None,
        "voice_similarity": check.voice_similarity if check else None,
        "single_face_ratio": check.single_face_ratio if check else None,
        "verification_passed": check.passed if check else None,
        "revoked_at": iso(grant.revoked_at),
        "biometrics_erased_at": iso(grant.biometrics_erased_at),
    }


@member_required()
def audit_grants(request):
    require_audit_role(request)
    soon = timezone.now() + timedelta(days=30)
    try:
        grants, problem = _filtered_grants(request), None
    except BadFilter as error:
        grants, problem = ConsentGrant.objects.none(), str(error)
    return render(
        request,
        "consent/audit_grants.html",
        {
            "grants": grants,
            "problem": problem,
            "statuses": ConsentGrant.Status.choices,
            "query": request.GET,
            "soon": soon,
            "now": timezone.now(),
        },
        status=400 if problem else 200,
    )


@member_required()
def audit_ledger(request):
    require_audit_role(request)
    checkpoint, comparison, checkpoint_problem = checkpoints.latest(), None, ""
    if checkpoint is not None:
        try:
            comparison = checkpoints.compare(checkpoints.verify_stored(checkpoint))
        except checkpoints.CheckpointInvalid as error:
            checkpoint_problem = str(error)
    return render(
        request,
        "consent/audit_ledger.html",
        {
            "status": ledger.verify(),
            "workspace_head": ledger.workspace_head(request.workspace.pk),
            "checkpoint": checkpoint,
            "comparison": comparison,
            "checkpoint_problem": checkpoint_problem,
            "entries": LedgerEntry.objects.filter(workspace_id=request.workspace.pk).order_by(
                "-seq"
            )[:200],
        },
    )


@member_required()
def audit_checkpoint(request):
    """The latest ledger checkpoint as this workspace may see it (its own head only), a signed JSON
    file to keep: `manage.py verify_ledger --checkpoint FILE` compares the ledger with it later."""
    require_audit_role(request)
    checkpoint = checkpoints.latest()
    if checkpoint is None:
        raise Http404("No ledger checkpoint has been signed yet.")
    try:
        document = checkpoints.workspace_file(checkpoint, request.workspace.pk)
    except checkpoints.CheckpointInvalid as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    response = JsonResponse(document, json_dumps_params={"indent": 1, "ensure_ascii": False})
    name = f"ledger-checkpoint-{checkpoint.pk}-workspace-{request.workspace.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_required()
def audit_export_csv(request):
    require_audit_role(request)
    try:
        grants = _filtered_grants(request)
    except BadFilter as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="consent-grants.csv"'
    # A subject's name or a purpose typed as "=HYPERLINK(...)" stays text in a spreadsheet.
    response.write(
        csv_text(
            EXPORT_FIELDS,
            (
                {k: "; ".join(v) if isinstance(v, list) else v for k, v in _row(grant).items()}
                for grant in grants
            ),
        )
    )
    return response


@member_required()
def audit_export_json(request):
    require_audit_role(request)
    try:
        grants = _filtered_grants(request)
    except BadFilter as error:
        return JsonResponse({"error": str(error)}, status=400)
    status = ledger.verify()
    head = ledger.workspace_head(request.workspace.pk)  # the site-wide head would tell of others
    payload = {
        "workspace": request.workspace.name,
        "exported_at": timezone.now().isoformat(),
        "ledger": {"intact": status.intact, "workspace_entries": head.entries, "head": head.head},
        "grants": [
            {
                **_row(grant),
                "timeline": [
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "event": e.event,
                        "hash": e.hash,
                        "payload": e.payload,
                    }
                    for e in ledger.timeline(grant)
                ],
            }
            for grant in grants
        ],
    }
    response = JsonResponse(payload, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'attachment; filename="consent-grants.json"'
    return response
