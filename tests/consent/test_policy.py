from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentGrant, Purpose
from consent.policy import authorize_render
from tests.factories import GrantFactory

pytestmark = pytest.mark.django_db


def decide(grant, *, purpose=Purpose.INTERNAL, enabled=True, at=None):
    return authorize_render(grant, avatar_enabled=enabled, purpose=purpose, at=at or timezone.now())


def test_a_signed_in_date_consent_allows_rendering():
    assert decide(GrantFactory()).allowed


def test_an_unsigned_consent_refuses():
    decision = decide(GrantFactory(status=ConsentGrant.Status.PENDING, signed_at=None))
    assert not decision and "not been signed" in decision.reason


def test_an_expired_consent_refuses():
    grant = GrantFactory(
        valid_until=timezone.now() - timedelta(seconds=1),
        valid_from=timezone.now() - timedelta(days=2),
    )
    decision = decide(grant)
    assert not decision and "expired" in decision.reason


def test_a_consent_not_yet_valid_refuses():
    grant = GrantFactory(
        valid_from=timezone.now() + timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=2),
    )
    decision = decide(grant)
    assert not decision and "not valid until" in decision.reason


def test_a_revoked_consent_refuses():
    grant = GrantFactory()
    grant.revoke(reason="changed my mind", at=timezone.now())
    decision = decide(grant)
    assert not decision and "revoked" in decision.reason


def test_a_purpose_outside_the_consent_refuses():
    decision = decide(GrantFactory(purposes=[Purpose.TRAINING]), purpose=Purpose.MARKETING)
    assert not decision and "does not cover marketing" in decision.reason


def test_a_disabled_avatar_refuses():
    decision = decide(GrantFactory(), enabled=False)
    assert not decision and "disabled" in decision.reason
