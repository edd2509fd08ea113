"""A month of a workspace's usage written into its ledger: settlements on chosen days, of a
campaign, a lesson and single renders, a refund, a plan renewing. Shared by the usage page's
tests and its browser test."""

from datetime import timedelta

from django.utils import timezone

from billing.models import BillingAccount, CreditEntry, Plan
from campaigns.models import Campaign
from lessons.models import Lesson

# (days ago, seconds, part): what was charged.
CHARGES = [
    (0, 42.5, "campaign"),
    (0, 12.0, ""),
    (1, 30.0, "campaign"),
    (3, 95.25, "lesson"),
    (9, 8.0, ""),
    (20, 61.0, "campaign"),
]


def write_month(workspace, *, avatar, script, user) -> dict:
    campaign = Campaign.objects.create(
        workspace=workspace, name="Spring visit", script=script, avatar=avatar, purpose="marketing"
    )
    lesson = Lesson.objects.create(workspace=workspace, title="Fire safety", created_by=user)
    parts = {"campaign": campaign.part_of, "lesson": lesson.part_of, "": ""}
    plan = Plan.objects.create(
        slug="studio",
        name="Studio",
        stripe_price_id="price_studio",
        price_label="$99/month",
        included_seconds=600,
        concurrency=3,
        longest_video_seconds=900,
        priority=5,
    )
    now = timezone.now()
    BillingAccount.objects.update_or_create(
        workspace=workspace,
        defaults={
            "plan": plan,
            "subscription_status": "active",
            "stripe_customer_id": "cus_test_usage",
            "current_period_end": now + timedelta(days=12),
        },
    )
    CreditEntry.objects.create(
        workspace=workspace,
        kind=CreditEntry.Kind.GRANT,
        milliseconds=600_000,
        stripe_ref="in_test_usage",
        reason="Studio: invoice LIKE-0001",
        at=now - timedelta(days=25),
    )
    for job_id, (days, seconds, part) in enumerate(CHARGES, start=9000):
        ms = round(seconds * 1000)
        at = now - timedelta(days=days)
        CreditEntry.objects.create(
            workspace=workspace,
            kind=CreditEntry.Kind.RESERVATION,
            milliseconds=-ms - 500,
            hold=f"job:{job_id}",
            held_milliseconds=ms + 500,
            job_id=job_id,
            part_of=parts[part],
            at=at,
        )
        CreditEntry.objects.create(
            workspace=workspace,
            kind=CreditEntry.Kind.SETTLEMENT,
            milliseconds=500,
            hold=f"job:{job_id}",
            held_milliseconds=-ms - 500,
            used_milliseconds=ms,
            job_id=job_id,
            part_of=parts[part],
            at=at,
        )
    CreditEntry.objects.create(
        workspace=workspace,
        kind=CreditEntry.Kind.REFUND,
        milliseconds=8000,
        used_milliseconds=-8000,
        job_id=9004,
        reason="Mouth out of sync",
        actor="support",
        at=now - timedelta(days=9),
    )
    return {"campaign": campaign, "lesson": lesson, "plan": plan}
