from datetime import datetime

from django.db import transaction
from django.utils import timezone

from consent.models import ConsentDocument, ConsentGrant, Subject


@transaction.atomic
def record_signed_consent(
    *,
    subject: Subject,
    document: ConsentDocument,
    purposes: list[str],
    valid_from: datetime,
    valid_until: datetime,
    signature_name: str,
    ip: str | None,
    user_agent: str,
    recorded_by,
) -> ConsentGrant:
    """A consent signed in person and typed in by a member (the remote ceremony comes later)."""
    grant = ConsentGrant.draft(
        subject=subject,
        document=document,
        purposes=purposes,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    grant.save()
    grant.sign(
        name=signature_name,
        at=timezone.now(),
        ip=ip,
        user_agent=user_agent,
        recorded_by=recorded_by,
    )
    return grant
