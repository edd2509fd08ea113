"""In-person consent keeps evidence (tester case 4): the ceremony on a member's device, or a
signed paper with its witness reviewed by someone else; every grant has a subject link that a
new one replaces; an owner revokes on the subject's written request."""

import functools
import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from avatars.models import Avatar
from consent import services
from consent.models import ConsentDocument, ConsentGrant, ConsentMethod, LedgerEntry, Purpose
from consent.policy import authorize_render
from rendering.models import RenderJob
from tests.factories import GrantFactory, MembershipFactory, RenderJobFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@functools.cache
def scan_pdf() -> bytes:
    """A one-page PDF, as a scanner writes a signed page (an image in a PDF); made once, as
    Pillow writes the time into it."""
    buffer = io.BytesIO()
    Image.new("RGB", (620, 877), "white").save(buffer, "PDF")
    return buffer.getvalue()


def scan_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (620, 877), 250).save(buffer, "PNG")
    return buffer.getvalue()


EMAIL = (
    b"From: Eileen Collins <eileen@example.com>\r\n"
    b"To: consent@example.com\r\n"
    b"Date: Mon, 30 Nov 2026 09:12:00 +0000\r\n"
    b"Subject: Please withdraw my consent\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"I withdraw my consent to the use of my face and voice. Eileen\r\n"
)


def media_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def other_member(member, role=Role.AUDITOR, client=None):
    from django.test import Client

    membership = MembershipFactory(workspace=member.workspace, role=role)
    client = client or Client()
    client.force_login(membership.user)
    return membership, client


@pytest.fixture
def subject(member):
    return SubjectFactory(workspace=member.workspace, full_name="Eileen Collins")


@pytest.fixture
def consent_form(portrait_png, speech_wav):
    """consent_form(**overrides) → the POST data of a consent's scope, references and (for the
    signed-document form) its paper, witness and date; files are fresh uploads each call."""

    def make(**overrides):
        now = timezone.now()
        data = {
            "document": ConsentDocument.standard().pk,
            "purposes": [Purpose.TRAINING.value],
            "languages": ["en"],
            "channels": ["intranet"],
            "territory": "Worldwide",
            "valid_from": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "valid_until": (now + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"),
            "forbidden_topics": "politics",
            "compensation": "",
            "reference_portrait": SimpleUploadedFile("eileen.png", portrait_png),
            "reference_voice": SimpleUploadedFile("eileen.wav", speech_wav),
            "signed_document": SimpleUploadedFile("signed consent.pdf", scan_pdf()),
            "witness_name": "  Sally   Ride ",
            "signed_on": timezone.localdate().isoformat(),
        }
        return {**data, **overrides}

    return make


def upload_signed(client, subject, data):
    return client.post(reverse("consent:grant_signed_document", args=[subject.pk]), data)


def review(client, grant, decision="approve", reason="Scan matches: v1, scope, signature."):
    return client.post(
        reverse("consent:grant_review", args=[grant.pk]), {"decision": decision, "reason": reason}
    )


def may_render(grant) -> bool:
    return authorize_render(grant, avatar_enabled=True, purpose="training", at=timezone.now())


# The tick-box form is gone.


def test_the_old_tick_box_form_can_no_longer_record_a_consent(member_client, subject):
    now = timezone.now()
    response = member_client.post(
        reverse("consent:grant_new", args=[subject.pk]),
        {
            "document": ConsentDocument.standard().pk,
            "purposes": [Purpose.TRAINING.value],
            "valid_from": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "valid_until": (now + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"),
            "signature_name": "Eileen Collins",
            "subject_read_document": "on",
        },
    )
    assert response.status_code == 405
    assert not ConsentGrant.objects.exists()
    assert not hasattr(services, "record_signed_consent")


def test_the_in_person_page_offers_the_ceremony_and_the_signed_paper(member_client, subject):
    page = member_client.get(reverse("consent:grant_new", args=[subject.pk])).content.decode()
    assert reverse("consent:grant_in_person", args=[subject.pk]) in page
    assert reverse("consent:grant_signed_document", args=[subject.pk]) in page
    assert 'type="checkbox"' not in page


# A consent signed on paper.


def test_a_signed_paper_awaits_review_with_its_hash_and_witness_in_the_ledger(
    member_client, member, subject, consent_form
):
    response = upload_signed(member_client, subject, consent_form())
    assert response.status_code == 200
    grant = ConsentGrant.objects.get(subject=subject)
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW
    assert grant.method == ConsentMethod.SIGNED_DOCUMENT
    assert not may_render(grant)
    assert grant.signed_document_sha256 == hashlib.sha256(scan_pdf()).hexdigest()
    with grant.signed_document.open("rb") as stored:
        assert stored.read() == scan_pdf()
    assert (grant.witness_name, grant.recorded_by) == ("Sally Ride", member.user)
    assert grant.signed_at.date() == timezone.localdate()
    assert grant.forbidden_topics == ["politics"] and grant.reference_portrait
    signed = LedgerEntry.objects.get(grant_id=grant.pk, event="signed").payload
    assert signed["signed_document_sha256"] == grant.signed_document_sha256
    assert signed["witness"] == "Sally Ride" and signed["user"] == member.user.username
    assert signed["status"] == "needs_review"
    assert LedgerEntry.objects.filter(grant_id=grant.pk, event="link_issued").exists()


def test_another_member_approves_a_signed_paper_and_it_goes_live(
    member_client, member, subject, consent_form
):
    upload_signed(member_client, subject, consent_form())
    grant = ConsentGrant.objects.get(subject=subject)
    auditor, auditor_client = other_member(member)
    response = review(auditor_client, grant)
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.ACTIVE and grant.reviewed_by == auditor.user
    assert may_render(grant)
    reviewed = LedgerEntry.objects.get(grant_id=grant.pk, event="reviewed").payload
    assert reviewed["decision"] == "approved" and reviewed["user"] == auditor.user.username


def test_the_certificate_of_a_signed_paper_names_the_witness_and_the_scan(
    member_client, member, subject, consent_form
):
    from consent.certificate import certificate_html

    upload_signed(member_client, subject, consent_form())
    grant = ConsentGrant.objects.get(subject=subject)
    _, auditor_client = other_member(member)
    review(auditor_client, grant)
    grant.refresh_from_db()
    html = certificate_html(grant)
    assert "witnessed by Sally Ride" in html and grant.signed_document_sha256 in html
    assert f"approved by {grant.reviewed_by}" in html


def test_the_member_who_uploaded_the_paper_cannot_approve_it(member_client, subject, consent_form):
    upload_signed(member_client, subject, consent_form())
    grant = ConsentGrant.objects.get(subject=subject)
    response = review(member_client, grant)
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW and grant.reviewed_by is None
    page = member_client.get(response.url).content.decode()
    assert "another owner or an auditor must review it" in page
    assert not LedgerEntry.objects.filter(grant_id=grant.pk, event="reviewed").exists()


def test_an_editor_uploads_a_signed_paper_but_cannot_review_it(member, subject, consent_form):
    _, editor_client = other_member(member, Role.EDITOR)
    assert upload_signed(editor_client, subject, consent_form()).status_code == 200
    grant = ConsentGrant.objects.get(subject=subject)
    assert review(editor_client, grant).status_code == 403


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("consent.pdf", b"%PDF-1.7\n1 0 obj <<>> garbage"), "is a damaged PDF"),
        (("consent.pdf", "png"), "is not a PDF: it is a PNG image"),
        (("consent.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), "damaged image"),
        (("consent.jpg", b"GIF89a\x01\x00\x01\x00"), "is not a JPEG image: its content is not"),
        (("consent.docx", b"PK\x03\x04 word"), "must be a PDF, JPEG or PNG file"),
        (("consent.pdf", b""), "The submitted file is empty"),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_is_saved(
    member_client, subject, consent_form, media_root, upload, message
):
    name, content = upload
    content = scan_png() if content == "png" else content
    data = consent_form(signed_document=SimpleUploadedFile(name, content))
    response = upload_signed(member_client, subject, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConsentGrant.objects.exists()
    assert media_files(media_root) == []


def test_an_oversized_scan_is_refused_and_nothing_is_saved(
    member_client, subject, consent_form, media_root, settings
):
    settings.CONSENT_MAX_DOCUMENT_BYTES = 1000
    response = upload_signed(member_client, subject, consent_form())
    assert response.status_code == 400
    assert "the signed consent may be at most 1000" in response.content.decode()
    assert not ConsentGrant.objects.exists()
    assert media_files(media_root) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("witness_name", "eileen  COLLINS", "not the subject"),
        ("signed_on", "2999-01-01", "cannot be in the future"),
        ("signed_on", "2001-01-01", "a paper signed before that is another document"),
    ],
)
def test_the_witness_and_date_are_checked(
    member_client, subject, consent_form, media_root, field, value, message
):
    response = upload_signed(member_client, subject, consent_form(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConsentGrant.objects.exists() and media_files(media_root) == []


def test_a_failure_after_storing_leaves_no_file_behind(
    member, subject, consent_form, media_root, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.ledger, "append", broken)
    data = consent_form()
    with pytest.raises(RuntimeError):
        services.record_signed_document(
            subject=subject,
            document=ConsentDocument.standard(),
            scope={
                "purposes": ["training"],
                "valid_from": timezone.now(),
                "valid_until": timezone.now() + timedelta(days=1),
            },
            reference_portrait=data["reference_portrait"],
            reference_voice=data["reference_voice"],
            signed_document=data["signed_document"],
            witness_name="Sally Ride",
            signed_on=timezone.localdate(),
            recorded_by=member.user,
            evidence=services.Evidence(),
        )
    assert not ConsentGrant.objects.exists()
    assert media_files(media_root) == []


# The ceremony on the member's device.


def test_the_ceremony_on_this_device_shows_the_link_once_and_opens_the_ceremony(
    member_client, member, subject, consent_form
):
    data = {k: v for k, v in consent_form().items() if k not in ("signed_document", "witness_name")}
    response = member_client.post(reverse("consent:grant_in_person", args=[subject.pk]), data)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    grant = ConsentGrant.objects.get(subject=subject)
    assert grant.method == ConsentMethod.IN_PERSON and grant.awaits_ceremony
    assert grant.invited_by == member.user and grant.challenge_text
    link = response.context["link"]
    page = response.content.decode()
    assert f'id="start-ceremony" href="{link}"' in page and "Hand this device" in page
    assert page.count(link) >= 3  # the button, the field to copy, and the printable slip
    ceremony = member_client.get(link)
    assert ceremony.status_code == 200 and grant.challenge_text in ceremony.content.decode()
    invited = LedgerEntry.objects.get(grant_id=grant.pk, event="invited").payload
    assert invited["method"] == ConsentMethod.IN_PERSON.label
    assert invited["user"] == member.user.username


def test_the_member_who_held_the_ceremony_cannot_review_its_failed_check(
    member, member_client, invite
):
    grant, _ = invite()
    ConsentGrant.objects.filter(pk=grant.pk).update(
        method=ConsentMethod.IN_PERSON, status=ConsentGrant.Status.NEEDS_REVIEW
    )
    review(member_client, grant)
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW
    _, owner_client = other_member(member, Role.OWNER)
    review(owner_client, grant, decision="reject", reason="Another person in the clip.")
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.REJECTED


# Subject links.


def test_a_new_subject_link_works_and_the_old_one_stops(client, member_client, invite):
    grant, old_token = invite()
    response = member_client.post(reverse("consent:grant_issue_link", args=[grant.pk]))
    assert response.status_code == 200
    new_link = response.context["link"]
    assert old_token not in new_link
    assert client.get(reverse("consent:link_home", args=[old_token])).status_code == 404
    assert client.get(new_link).status_code == 200
    issued = LedgerEntry.objects.get(grant_id=grant.pk, event="link_issued").payload
    assert issued["replaces_earlier_link"] is True and issued["user"]


def test_a_legacy_typed_consent_lacks_evidence_and_gets_its_first_link(
    client, member_client, member
):
    grant = GrantFactory(subject__workspace=member.workspace, method=ConsentMethod.TYPED)
    assert grant.lacks_evidence and not GrantFactory().lacks_evidence
    detail = member_client.get(reverse("consent:grant_detail", args=[grant.pk])).content.decode()
    assert 'id="lacks-evidence"' in detail
    response = member_client.post(reverse("consent:grant_issue_link", args=[grant.pk]))
    portal = client.get(response.context["link"])
    assert portal.status_code == 200 and "Revoke your consent" in portal.content.decode()
    issued = LedgerEntry.objects.get(grant_id=grant.pk, event="link_issued").payload
    assert issued["replaces_earlier_link"] is False


def test_the_signed_paper_of_a_legacy_consent_is_reviewed_before_it_counts(member_client, member):
    grant = GrantFactory(subject__workspace=member.workspace, method=ConsentMethod.TYPED)
    response = member_client.post(
        reverse("consent:grant_add_signed_document", args=[grant.pk]),
        {
            "signed_document": SimpleUploadedFile("scan.png", scan_png()),
            "witness_name": "Sally Ride",
            "signed_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.method == ConsentMethod.SIGNED_DOCUMENT and not grant.lacks_evidence
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW
    assert grant.signed_document_sha256 == hashlib.sha256(scan_png()).hexdigest()


def test_only_owners_issue_subject_links(member, invite):
    grant, token = invite()
    for role in (Role.EDITOR, Role.AUDITOR, Role.VIEWER):
        _, other = other_member(member, role)
        assert other.post(reverse("consent:grant_issue_link", args=[grant.pk])).status_code == 403
    grant.refresh_from_db()
    assert grant.invite_token_hash == services.token_hash(token)


# Revocation by an owner on the subject's written request.


@pytest.fixture
def active_grant(invite):
    grant, token = invite()
    grant.status, grant.signed_at = ConsentGrant.Status.ACTIVE, timezone.now()
    grant.save()
    return grant, token


def revoke_on_request(client, grant, upload=None, **overrides):
    data = {
        "written_request": upload or SimpleUploadedFile("request.eml", EMAIL),
        "reason": "Email of 30 November from her usual address, confirmed by phone.",
        "confirm": "on",
        **overrides,
    }
    return client.post(reverse("consent:grant_revoke", args=[grant.pk]), data)


def test_an_owner_revokes_on_a_written_request_with_the_same_effect_as_the_subject(
    client, member_client, member, active_grant, make_avatar
):
    grant, token = active_grant
    avatar = make_avatar(grant=grant)
    queued = RenderJobFactory(avatar=avatar)
    running = RenderJobFactory(avatar=avatar, status=RenderJob.Status.RUNNING)
    response = revoke_on_request(member_client, grant)
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.REVOKED and grant.revoked_by == member.user
    with grant.revocation_request.open("rb") as stored:
        assert stored.read() == EMAIL
    for job in (queued, running):
        job.refresh_from_db()
        assert job.status == RenderJob.Status.CANCELLED
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.DISABLED
    revoked = LedgerEntry.objects.get(grant_id=grant.pk, event="revoked").payload
    assert revoked["method"] == "written request"
    assert revoked["revoked_by"] == member.user.username
    assert revoked["written_request_sha256"] == hashlib.sha256(EMAIL).hexdigest()
    portal = client.get(reverse("consent:link_home", args=[token])).content.decode()
    assert "revoked at your written request" in portal


def test_the_subject_revoking_on_the_link_is_ledgered_as_such(client, active_grant):
    grant, token = active_grant
    client.post(reverse("consent:link_revoke", args=[token]), {"reason": "", "confirm": "on"})
    revoked = LedgerEntry.objects.get(grant_id=grant.pk, event="revoked").payload
    assert revoked["method"] == "subject's link" and "revoked_by" not in revoked
    grant.refresh_from_db()
    assert grant.revoked_by is None and not grant.revocation_request


@pytest.mark.parametrize(
    ("upload", "confirm", "message"),
    [
        (("request.eml", b"just some words, no headers"), "on", "is not an email message"),
        (("request.pdf", b"%PDF-1.4 broken"), "on", "is a damaged PDF"),
        (("request.txt", b"\x89PNG\r\n\x1a\n\x00\x00"), "on", "it is a PNG image"),
        (
            ("request.html", b"<p>please revoke</p>"),
            "on",
            "must be a PDF, JPEG, PNG, EML or TXT file",
        ),
        (("request.eml", EMAIL), "", "Tick the box to confirm"),
    ],
)
def test_a_bad_written_request_revokes_nothing_and_keeps_nothing(
    member_client, active_grant, media_root, upload, confirm, message
):
    grant, _ = active_grant
    before = set(media_files(media_root))
    response = revoke_on_request(member_client, grant, SimpleUploadedFile(*upload), confirm=confirm)
    assert response.status_code == 400
    assert message in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.ACTIVE
    assert set(media_files(media_root)) == before
    assert not LedgerEntry.objects.filter(grant_id=grant.pk, event="revoked").exists()


def test_a_consent_never_signed_is_not_revoked_on_request(member_client, invite, media_root):
    grant, _ = invite()
    response = revoke_on_request(member_client, grant)
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.PENDING and not grant.revocation_request
    assert not LedgerEntry.objects.filter(grant_id=grant.pk, event="revoked").exists()


@pytest.mark.parametrize("role", [Role.EDITOR, Role.AUDITOR, Role.VIEWER])
def test_only_owners_revoke_on_a_written_request(member, active_grant, role):
    grant, _ = active_grant
    _, other = other_member(member, role)
    assert revoke_on_request(other, grant).status_code == 403
    assert other.get(reverse("consent:grant_revoke", args=[grant.pk])).status_code == 403
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.ACTIVE


def test_auditors_open_the_evidence_and_editors_cannot(
    member_client, member, subject, consent_form
):
    upload_signed(member_client, subject, consent_form())
    grant = ConsentGrant.objects.get(subject=subject)
    url = reverse("consent:grant_evidence_file", args=[grant.pk, "signed-document"])
    _, auditor_client = other_member(member)
    response = auditor_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == scan_pdf()
    _, editor_client = other_member(member, Role.EDITOR)
    assert editor_client.get(url).status_code == 403
