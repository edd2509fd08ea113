"""The credit ledger around a render: reserved at submit, settled to the video's real length,
released on failure or cancel, and the limits of the plan enforced at submit."""

import pytest
from django.utils import timezone

from billing import services
from billing.errors import ConcurrencyLimitExceeded, QuotaExceeded, VideoTooLong
from billing.models import BillingAccount, CreditEntry, LedgerImmutable
from consent.models import Purpose
from rendering.models import RenderJob
from rendering.services import cancel_render, submit_render
from rendering.workers import drain_queue
from tests.billing.conftest import give

pytestmark = pytest.mark.django_db

ESTIMATE_MS = 3429  # engine.timeline's estimate of the studio fixture's script, rounded up


def submit(owner, avatar, script):
    return submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )


def balance(workspace) -> int:
    return CreditEntry.balance_of(workspace.pk)


def test_without_a_stripe_key_nothing_is_limited_or_written(db, make_avatar, settings):
    from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

    settings.STRIPE_SECRET_KEY = ""
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    job = submit(owner, avatar, ScriptFactory(workspace=owner.workspace))
    assert job.status == RenderJob.Status.QUEUED
    assert not CreditEntry.objects.exists() and not BillingAccount.objects.exists()


def test_a_submit_reserves_the_estimated_seconds(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    reservation = CreditEntry.objects.get(kind=CreditEntry.Kind.RESERVATION)
    assert (reservation.job_id, reservation.milliseconds) == (job.pk, -ESTIMATE_MS)
    assert CreditEntry.held_by(f"job:{job.pk}") == ESTIMATE_MS
    assert balance(owner.workspace) == 10_000 - ESTIMATE_MS


def test_a_submit_without_enough_credits_is_refused_naming_cost_balance_and_shortfall(studio):
    owner, avatar, script = studio
    give(owner.workspace, 2)
    with pytest.raises(QuotaExceeded) as refusal:
        submit(owner, avatar, script)
    assert str(refusal.value).startswith(
        "This render: about 3.4 s of video credits are needed and the workspace has 2 s left "
        "(1.4 s short)."
    )
    assert (refusal.value.cost_ms, refusal.value.balance_ms) == (ESTIMATE_MS, 2000)
    assert not RenderJob.objects.exists()
    assert list(CreditEntry.objects.values_list("kind", flat=True)) == ["adjustment"]


def test_a_failed_render_gives_every_reserved_second_back(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    assert job.start(worker_id="w1", lease_seconds=60)
    assert job.fail("The engine broke.")
    release = CreditEntry.objects.get(kind=CreditEntry.Kind.RELEASE)
    assert (release.job_id, release.milliseconds) == (job.pk, ESTIMATE_MS)
    assert balance(owner.workspace) == 10_000
    assert CreditEntry.held_by(f"job:{job.pk}") == 0


def test_a_cancelled_render_gives_every_reserved_second_back(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    assert cancel_render(job, reason="Changed my mind.")
    assert balance(owner.workspace) == 10_000
    assert not cancel_render(job, reason="Twice.")  # a second cancel releases nothing more
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.RELEASE).count() == 1


def test_a_retried_render_reserves_again(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    job.start(worker_id="w1", lease_seconds=60)
    job.fail("The engine broke.")
    from rendering.services import retry_render

    retry_render(job)
    assert balance(owner.workspace) == 10_000 - ESTIMATE_MS


@pytest.mark.django_db(transaction=True)
def test_a_finished_render_is_charged_its_real_length_to_the_millisecond(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    used = round(job.video.seconds * 1000)
    settlement = CreditEntry.objects.get(kind=CreditEntry.Kind.SETTLEMENT)
    assert settlement.used_milliseconds == used and used != ESTIMATE_MS
    assert settlement.milliseconds == ESTIMATE_MS - used  # the estimate's rest comes back
    assert balance(owner.workspace) == 10_000 - used
    assert CreditEntry.held_by(f"job:{job.pk}") == 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_does_not_start_a_render_whose_reservation_vanished(studio, media_root):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    services.release_job(job, reason="Released by support", user=owner.user)
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.CANCELLED
    assert "credit reservation is gone" in job.error
    assert not hasattr(job, "video") or job.video is None
    assert balance(owner.workspace) == 10_000  # nothing charged, nothing released twice


def test_the_ledger_refuses_changes_and_deletions(studio):
    owner, _, _ = studio
    entry = give(owner.workspace, 10)
    entry.milliseconds = 10_000_000
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        CreditEntry.objects.filter(pk=entry.pk).update(milliseconds=1)
    with pytest.raises(LedgerImmutable):
        CreditEntry.objects.all().delete()
    assert balance(owner.workspace) == 10_000


def test_a_correction_needs_a_reason_and_records_who_made_it(studio):
    owner, _, _ = studio
    with pytest.raises(services.CorrectionRefused, match="Say why"):
        services.adjust(owner.workspace, milliseconds=5000, user=owner.user, reason="  ")
    entry = services.adjust(
        owner.workspace, milliseconds=-1500, user=owner.user, reason="Duplicate grant"
    )
    assert (entry.actor_id, entry.actor, entry.reason) == (
        owner.user.pk,
        owner.user.get_username(),
        "Duplicate grant",
    )
    assert balance(owner.workspace) == -1500


def test_a_settled_render_is_refunded_once_with_a_reason(studio):
    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    job.start(worker_id="w1", lease_seconds=60)
    services.settle_job(job, seconds=2.5)
    assert balance(owner.workspace) == 7_500
    refund = services.refund_job(job, user=owner.user, reason="Mouth out of sync")
    assert (refund.milliseconds, refund.used_milliseconds) == (2500, -2500)
    assert balance(owner.workspace) == 10_000
    with pytest.raises(services.CorrectionRefused, match="already refunded"):
        services.refund_job(job, user=owner.user, reason="Again")


def test_a_video_longer_than_the_plan_allows_is_refused(studio, settings):
    owner, avatar, script = studio
    settings.BILLING_DEFAULT_LONGEST_VIDEO_SECONDS = 3
    give(owner.workspace, 10)
    too_long = r"would last about 3\.4 s; No plan allows videos up to 3 s"
    with pytest.raises(VideoTooLong, match=too_long):
        submit(owner, avatar, script)
    assert not RenderJob.objects.exists()


def test_more_renders_at_once_than_the_plan_allows_are_refused(studio, settings):
    owner, avatar, script = studio
    settings.BILLING_DEFAULT_CONCURRENCY = 1
    give(owner.workspace, 20)
    first = submit(owner, avatar, script)
    with pytest.raises(ConcurrencyLimitExceeded, match=r"renders 1 at a time .* 1 are in progress"):
        submit(owner, avatar, script)
    cancel_render(first, reason="Make room")
    submit(owner, avatar, script)  # room again


def test_an_active_plan_sets_the_limits_and_raises_the_renders_priority(studio, pro_plan):
    owner, avatar, script = studio
    BillingAccount.objects.create(
        workspace=owner.workspace,
        plan=pro_plan,
        subscription_status="active",
        current_period_end=timezone.now(),
    )
    give(owner.workspace, 10)
    job = submit(owner, avatar, script)
    job.refresh_from_db()
    assert job.priority == 5


def test_the_usage_page_shows_what_renders_in_progress_keep_aside(studio, client):
    from django.urls import reverse

    owner, avatar, script = studio
    give(owner.workspace, 10)
    first, second = submit(owner, avatar, script), submit(owner, avatar, script)
    cancel_render(first, reason="Not needed")
    client.force_login(owner.user)
    page = client.get(reverse("billing:overview")).content.decode()
    assert "3.429 s are reserved by renders in progress." in page  # the second's hold only
    assert 'id="balance">6.571 s<' in page
    assert second.status == RenderJob.Status.QUEUED
