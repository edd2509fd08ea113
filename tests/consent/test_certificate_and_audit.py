"""The signed certificate, per-script approval on the link, and the auditor's pages."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from consent import ledger, services
from consent.models import ConsentGrant, LedgerEntry, ScriptApproval
from consent.policy import ALLOWED
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_keys(settings, tmp_path):
    settings.SITE_KEYS_DIR = tmp_path / "keys"


def validate(pdf: bytes, settings):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from engine.keys import ensure_site_identity

    root = load_cert_from_pemder(str(ensure_site_identity(settings.SITE_KEYS_DIR).root_cert_path))
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


def signed_grant(member):
    grant = GrantFactory(subject__workspace=member.workspace, forbidden_topics=["politics"])
    services.record_render_decision(grant, ALLOWED, job_id=1, stage="submit")
    return grant


def test_the_certificate_is_signed_by_the_site_and_an_altered_copy_fails(
    member_client, member, settings
):
    grant = signed_grant(member)
    response = member_client.get(reverse("consent:certificate", args=[grant.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    status = validate(pdf, settings)
    assert status.intact and status.valid and status.trusted
    altered = bytearray(pdf)
    altered[len(pdf) // 3] ^= 0x01
    assert not validate(bytes(altered), settings).intact


def test_the_certificate_shows_the_scope_and_the_ledger_head(member, settings):
    from consent.certificate import certificate_html

    grant = signed_grant(member)
    html = certificate_html(grant)
    assert grant.document_sha256 in html and "politics" in html
    assert ledger.workspace_head(grant.workspace_id).head in html


def test_the_subject_approves_a_script_on_their_link(client, member_client, invite, member):
    grant, token = invite(requires_script_approval=True)
    ConsentGrant.objects.filter(pk=grant.pk).update(status=ConsentGrant.Status.ACTIVE)
    script = ScriptFactory(workspace=member.workspace, body="Welcome to the safety course.")
    member_client.post(
        reverse("studio:script_send_for_approval", args=[script.pk]), {"grant": grant.pk}
    )
    approval = ScriptApproval.objects.get(grant=grant)
    page = client.get(reverse("consent:link_home", args=[token])).content.decode()
    assert "Welcome to the safety course." in page
    client.post(
        reverse("consent:link_script_decision", args=[token, approval.pk]),
        {"decision": "approve", "reason": "Fine by me."},
    )
    approval.refresh_from_db()
    assert approval.status == ScriptApproval.Status.APPROVED
    again = client.post(
        reverse("consent:link_script_decision", args=[token, approval.pk]),
        {"decision": "reject"},
    )
    assert again.status_code == 409
    events = LedgerEntry.objects.filter(grant_id=grant.pk).values_list("event", flat=True)
    assert list(events)[-2:] == ["script_requested", "script_approved"]


def test_an_auditor_reads_the_audit_pages_and_exports(client, member):
    grant = signed_grant(member)
    GrantFactory(subject__full_name="Other Person")  # another workspace: never listed
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    page = client.get(reverse("consent:audit_grants"), {"status": "active"})
    assert page.status_code == 200 and grant.subject.full_name in page.content.decode()
    assert "Other Person" not in page.content.decode()
    ledger_page = client.get(reverse("consent:audit_ledger")).content.decode()
    assert ledger.workspace_head(member.workspace.pk).head in ledger_page
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("consent:audit_export_csv")).content.decode())
        )
    )
    assert [r["subject"] for r in rows] == [grant.subject.full_name]
    data = json.loads(client.get(reverse("consent:audit_export_json")).content)
    assert data["ledger"]["intact"] and data["grants"][0]["timeline"][0]["event"] == (
        "render_authorized"
    )
    detail = client.get(reverse("consent:grant_detail", args=[grant.pk]))
    assert detail.status_code == 200 and "render_authorized" in detail.content.decode()


def test_the_csv_export_keeps_a_formula_typed_as_a_name_as_text(client, member):
    grant = signed_grant(member)
    grant.subject.full_name = '=HYPERLINK("http://evil.example","Open")'
    grant.subject.save()
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    export = client.get(reverse("consent:audit_export_csv")).content.decode()
    rows = list(csv.DictReader(io.StringIO(export)))
    assert rows[0]["subject"] == "'" + grant.subject.full_name


def test_an_auditor_cannot_invite_and_a_viewer_cannot_audit(client, member):
    grant = signed_grant(member)
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    assert client.get(reverse("consent:invite_new", args=[grant.subject.pk])).status_code == 403
    viewer = MembershipFactory(workspace=member.workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(reverse("consent:audit_grants")).status_code == 403
    assert client.get(reverse("consent:audit_export_csv")).status_code == 403


@pytest.mark.parametrize(
    "page", ["consent:audit_grants", "consent:audit_export_csv", "consent:audit_export_json"]
)
@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01"])
def test_an_expiry_filter_on_a_day_that_does_not_exist_is_refused_with_a_message(
    client, member, page, day
):
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    response = client.get(reverse(page), {"expires_before": day})
    assert response.status_code == 400
    assert "Expires before: Enter a date that exists" in response.content.decode()


def test_an_unknown_status_filter_is_refused_with_a_message(client, member):
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    response = client.get(reverse("consent:audit_export_json"), {"status": "lost"})
    assert response.status_code == 400
    assert response.json()["error"] == "Status: “lost” is not a consent status."


def test_the_expiry_filter_keeps_grants_that_expire_by_that_day(client, member):
    grant = signed_grant(member)
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    day = grant.valid_until.date()
    kept = client.get(reverse("consent:audit_export_json"), {"expires_before": day.isoformat()})
    before = (day - timedelta(days=1)).isoformat()
    dropped = client.get(reverse("consent:audit_export_json"), {"expires_before": before})
    assert [g["id"] for g in kept.json()["grants"]] == [grant.pk]
    assert dropped.json()["grants"] == []
