from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentError, ConsentGrant, Purpose
from tests.factories import SubjectFactory, standard_document

pytestmark = pytest.mark.django_db


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
