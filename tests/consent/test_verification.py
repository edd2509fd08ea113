"""Automatic verification of a consent clip, and the auditor's review when it fails."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from consent import services, verification
from consent.models import ConsentGrant, LedgerEntry
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SUBJECT = services.Evidence(ip="198.51.100.7", user_agent="Chromium")


def signed_with_clip(invite, clip_bytes_for, monkeypatch):
    """A grant through the ceremony (clip + signature), verification not yet run."""
    monkeypatch.setattr(services, "enqueue_verification", lambda grant_id: None)
    grant, token = invite()
    services.attach_clip(grant, SimpleUploadedFile("clip.webm", clip_bytes_for(grant)), SUBJECT)
    services.sign_on_link(
        grant,
        typed_name=grant.subject.full_name,
        drawn_png=None,
        document_sha256=grant.document_sha256,
        evidence=SUBJECT,
    )
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.VERIFYING
    return grant, token


def test_the_right_person_reading_the_sentence_activates_the_grant(invite, take, monkeypatch):
    grant, _ = signed_with_clip(invite, take, monkeypatch)
    assert verification.run_verification(grant.pk) == ConsentGrant.Status.ACTIVE
    check = grant.verifications.get()
    assert check.passed and check.reasons == []
    assert check.word_error_rate <= check.thresholds["max_word_error_rate"] == 0.35
    assert check.face_distance <= 0.3  # the same photo, animated and encoded as video
    assert check.voice_similarity >= check.thresholds["min_voice_similarity"] == 0.75
    assert check.single_face_ratio == 1.0
    assert check.liveness["challenge_passed"] is True
    assert (
        check.liveness["lip_sync_correlation"]
        >= (check.liveness["thresholds"]["min_lip_sync_correlation"])
    )
    entry = LedgerEntry.objects.get(grant_id=grant.pk, event="verified")
    assert entry.payload["passed"] and entry.payload["scores"]["face_distance"] == (
        check.face_distance
    )
    assert entry.payload["scores"]["challenge_passed"] is True


def test_another_face_needs_review_with_the_reason(invite, take, drawn_face_rgb, monkeypatch):
    grant, _ = signed_with_clip(invite, lambda g: take(g, face=drawn_face_rgb), monkeypatch)
    assert verification.run_verification(grant.pk) == ConsentGrant.Status.NEEDS_REVIEW
    check = grant.verifications.get()
    assert not check.passed
    assert check.face_distance > 0.6
    assert any("does not match the reference photo" in r for r in check.reasons)


def test_the_wrong_sentence_needs_review(invite, take, monkeypatch):
    grant, _ = signed_with_clip(
        invite,
        lambda g: take(g, sentence="Please send me the weekly report before Friday."),
        monkeypatch,
    )
    assert verification.run_verification(grant.pk) == ConsentGrant.Status.NEEDS_REVIEW
    check = grant.verifications.get()
    assert check.word_error_rate > 0.35
    assert any("The sentence was not heard" in r for r in check.reasons)


def test_a_grant_revoked_while_verifying_stays_revoked(invite, take, monkeypatch):
    grant, _ = signed_with_clip(invite, take, monkeypatch)
    services.revoke_grant(grant, reason="changed my mind", evidence=SUBJECT)
    verification.run_verification(grant.pk)
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.REVOKED


def needs_review(grant):
    ConsentGrant.objects.filter(pk=grant.pk).update(status=ConsentGrant.Status.NEEDS_REVIEW)


def test_an_auditor_approves_with_a_written_reason(client, invite, member):
    grant, _ = invite()
    needs_review(grant)
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    review = reverse("consent:grant_review", args=[grant.pk])
    client.post(review, {"decision": "approve", "reason": ""})
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW  # no reason, no decision
    client.post(review, {"decision": "approve", "reason": "Same person; the lighting was poor."})
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.ACTIVE
    assert grant.reviewed_by == auditor.user and "lighting" in grant.review_reason
    assert LedgerEntry.objects.get(grant_id=grant.pk, event="reviewed").payload["decision"] == (
        "approved"
    )


def test_an_auditor_rejects(client, invite, member):
    grant, _ = invite()
    needs_review(grant)
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    client.post(
        reverse("consent:grant_review", args=[grant.pk]),
        {"decision": "reject", "reason": "Not the person in the photo."},
    )
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.REJECTED


def test_an_editor_cannot_review(client, invite, member):
    grant, _ = invite()
    needs_review(grant)
    editor = MembershipFactory(workspace=member.workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    response = client.post(
        reverse("consent:grant_review", args=[grant.pk]),
        {"decision": "approve", "reason": "Looks fine to me."},
    )
    assert response.status_code == 403
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.NEEDS_REVIEW
