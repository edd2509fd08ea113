import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentError, ConsentGrant, Purpose
from tests.factories import SubjectFactory, standard_document

pytestmark = pytest.mark.django_db


def _consent_form(**overrides):
    now = timezone.now()
    data = {
        "document": standard_document().pk,
        "purposes": [Purpose.TRAINING],
        "valid_from": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"),
        "signature_name": "",
        "subject_read_document": "on",
    }
    return {**data, **overrides}


def test_recording_a_consent_stores_the_exact_text_its_hash_and_the_signature(
    member_client, member
):
    subject = SubjectFactory(workspace=member.workspace, full_name="Grace Hopper")
    response = member_client.post(
        reverse("consent:grant_new", args=[subject.pk]),
        _consent_form(signature_name="  grace   HOPPER "),
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    assert response.status_code == 302
    grant = ConsentGrant.objects.get(subject=subject)
    assert grant.status == ConsentGrant.Status.ACTIVE
    assert grant.document_text == standard_document().body
    assert grant.document_sha256 == hashlib.sha256(grant.document_text.encode()).hexdigest()
    assert grant.signature_name == "grace   HOPPER"
    assert (grant.signer_ip, grant.signer_user_agent) == ("203.0.113.9", "TestBrowser/1.0")
    assert grant.recorded_by == member.user
    assert grant.purposes == [Purpose.TRAINING]


def test_a_signature_that_is_not_the_subjects_name_is_refused(member_client, member):
    subject = SubjectFactory(workspace=member.workspace, full_name="Grace Hopper")
    response = member_client.post(
        reverse("consent:grant_new", args=[subject.pk]),
        _consent_form(signature_name="Someone Else"),
    )
    assert response.status_code == 400
    assert "must be the subject&#x27;s full name" in response.content.decode()
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("valid_until", "2001-01-01T00:00", "must end after it starts"),
        ("subject_read_document", "", "This field is required"),
        ("purposes", [], "This field is required"),
        ("purposes", ["world-domination"], "not one of the available choices"),
        ("document", "999999", "Select a valid choice"),
    ],
)
def test_bad_consent_input_gets_a_specific_message_and_saves_nothing(
    member_client, member, field, value, message
):
    subject = SubjectFactory(workspace=member.workspace, full_name="Grace Hopper")
    form = _consent_form(signature_name="Grace Hopper", **{field: value})
    response = member_client.post(reverse("consent:grant_new", args=[subject.pk]), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConsentGrant.objects.exists()


def test_a_consent_document_text_cannot_be_edited_in_place():
    document = standard_document()
    document.body += "\nAnd one more thing."
    with pytest.raises(ConsentError, match="new version"):
        document.save()


def test_a_grant_whose_stored_text_was_altered_cannot_be_signed():
    subject = SubjectFactory()
    grant = ConsentGrant.draft(
        subject=subject,
        document=standard_document(),
        purposes=[Purpose.INTERNAL],
        valid_from=timezone.now(),
        valid_until=timezone.now() + timedelta(days=1),
    )
    grant.document_text = grant.document_text.replace("revoke", "never revoke")
    grant.save()
    with pytest.raises(ConsentError, match="does not match its hash"):
        grant.sign(
            name=subject.full_name, at=timezone.now(), ip=None, user_agent="", recorded_by=None
        )
