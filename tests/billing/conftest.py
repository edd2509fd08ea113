"""Billing switched on (a Stripe key set), a workspace with a real avatar and a script, and a
way to give it credits through the ledger itself."""

import pytest

from billing import services
from billing.models import Plan
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_likeness"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_likeness_test"
    settings.STRIPE_HTTP_CLIENT = "tests.billing.stripe_fake.http_client"
    settings.BILLING_DEFAULT_CONCURRENCY = 5
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 128


@pytest.fixture
def studio(db, billing_on, make_avatar):
    """An owner, their avatar and a one-sentence script."""
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    script = ScriptFactory(workspace=owner.workspace, body="Hello there. This is a short test.")
    return owner, avatar, script


def give(workspace, seconds: float, *, user=None):
    return services.adjust(
        workspace, milliseconds=round(seconds * 1000), user=user, reason="Test credits"
    )


@pytest.fixture
def pro_plan(db):
    return Plan.objects.create(
        slug="pro",
        name="Pro",
        stripe_price_id="price_pro_monthly",
        price_label="$49/month",
        included_seconds=1800,
        concurrency=2,
        longest_video_seconds=600,
        priority=5,
    )
