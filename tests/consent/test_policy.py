from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentGrant, Purpose, ScriptApproval
from consent.policy import authorize_render
from tests.factories import GrantFactory, ScriptApprovalFactory

pytestmark = pytest.mark.django_db


def decide(grant, *, purpose=Purpose.INTERNAL, enabled=True, at=None, **checks):
    return authorize_render(
        grant, avatar_enabled=enabled, purpose=purpose, at=at or timezone.now(), **checks
    )


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


def test_a_language_outside_the_consent_refuses():
    decision = authorize_render(
        GrantFactory(languages=["en"]),
        avatar_enabled=True,
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        language="fr",
    )
    assert not decision and "does not cover videos in French" in decision.reason


def test_a_language_inside_the_consent_allows():
    grant = GrantFactory(languages=["en", "fr"])
    assert decide(grant, language="fr").allowed


def test_a_script_on_a_forbidden_topic_refuses():
    grant = GrantFactory(forbidden_topics=["politics", "online gambling"])
    decision = decide(grant, script_text="Try online   Gambling tonight!")
    assert not decision and "“online gambling”, a topic the subject forbade" in decision.reason
    assert decide(grant, script_text="Our politically neutral update.").allowed  # whole words


def test_a_script_that_needs_approval_and_was_never_sent_refuses():
    decision = decide(GrantFactory(requires_script_approval=True), script_text="Hello.")
    assert not decision and "has not been sent to them for approval" in decision.reason


def test_approval_required_and_no_script_given_refuses():
    decision = decide(GrantFactory(requires_script_approval=True))
    assert not decision and "no script was given" in decision.reason


@pytest.mark.parametrize(
    ("status", "allowed", "reason"),
    [
        (ScriptApproval.Status.PENDING, False, "has not approved this script yet"),
        (ScriptApproval.Status.REJECTED, False, "rejected this script"),
        (ScriptApproval.Status.APPROVED, True, ""),
    ],
)
def test_per_script_approval_decides(status, allowed, reason):
    grant = GrantFactory(requires_script_approval=True)
    ScriptApprovalFactory(grant=grant, script_text="Hello team.", status=status)
    decision = decide(grant, script_text="Hello team.")
    assert decision.allowed is allowed and reason in decision.reason
    # Approval is of the exact text: one changed word needs a new approval.
    assert not decide(grant, script_text="Hello world.")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ConsentGrant.Status.VERIFYING, "being verified"),
        (ConsentGrant.Status.NEEDS_REVIEW, "awaits review"),
        (ConsentGrant.Status.REJECTED, "rejected on review"),
    ],
)
def test_a_grant_that_is_not_live_refuses_with_its_reason(status, reason):
    decision = decide(GrantFactory(status=status))
    assert not decision and reason in decision.reason
