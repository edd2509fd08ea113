"""Credit workflows: reserve at submit, settle on success, release on failure or cancel, grant,
purchase, refund and adjust. Each takes the workspace's BillingAccount row lock first, so that the
balance read and the entry written are one step for concurrent submits.

Billing is on only when STRIPE_SECRET_KEY is set; otherwise these are never called (the receivers
and pages check ``billing_enabled`` first) and nothing is limited or written.
"""

import math

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum

from billing.errors import (
    ConcurrencyLimitExceeded,
    QuotaExceeded,
    VideoTooLong,
    seconds_text,
)
from billing.models import BillingAccount, CreditEntry
from core.errors import UserError
from engine.timeline import Timeline
from rendering.models import RenderJob


def billing_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def job_hold(job_id: int) -> str:
    return f"job:{job_id}"


def estimated_ms(timeline: dict | Timeline | None, *, script_text: str = "") -> int:
    """What a render is expected to last, in milliseconds, rounded up: its timeline's estimate
    (engine.timeline), which is what the site's length limits use too."""
    if timeline is None:
        return 1000 * max(1, math.ceil(len(script_text.split()) / 2.5))  # ~150 words a minute
    if isinstance(timeline, dict):
        timeline = Timeline.from_dict(timeline)
    return math.ceil(timeline.estimated_seconds() * 1000)


def locked_account(workspace_id: int) -> BillingAccount:
    """The workspace's account, created on first use, locked until the transaction ends."""
    account, _ = BillingAccount.objects.select_for_update().get_or_create(workspace_id=workspace_id)
    return account


def _actor(user) -> dict:
    if user is None or not getattr(user, "pk", None):
        return {"actor_id": None, "actor": ""}
    return {"actor_id": user.pk, "actor": user.get_username()}


def _in_flight_units(workspace_id: int, *, exclude_job: int | None = None) -> tuple[int, set]:
    """Renders in progress (queued or running), a campaign's or lesson's videos counting as one
    unit: the number of units, and the part_of names among them."""
    jobs = RenderJob.objects.filter(
        workspace_id=workspace_id,
        status__in=[RenderJob.Status.QUEUED, RenderJob.Status.RUNNING],
    )
    if exclude_job is not None:
        jobs = jobs.exclude(pk=exclude_job)
    counts = jobs.aggregate(
        single=Count("pk", filter=Q(part_of="")),
    )
    parts = set(jobs.exclude(part_of="").values_list("part_of", flat=True).distinct())
    return counts["single"] + len(parts), parts


def check_limits(account: BillingAccount, *, longest_ms: int, part_of: str, exclude_job=None):
    """The plan's limits on one more render (or one more campaign, whose videos count as one)."""
    limits = account.limits
    if longest_ms > limits.longest_video_seconds * 1000:
        raise VideoTooLong(
            f"This video would last about {seconds_text(longest_ms)}; {limits.name} allows "
            f"videos up to {seconds_text(limits.longest_video_seconds * 1000)}. Shorten it or "
            "choose a larger plan."
        )
    units, parts = _in_flight_units(account.workspace_id, exclude_job=exclude_job)
    if part_of and part_of in parts:
        return  # one more video of a campaign or lesson already in progress
    if units >= limits.concurrency:
        raise ConcurrencyLimitExceeded(
            f"{limits.name} renders {limits.concurrency} at a time (a campaign or lesson counts "
            f"as one) and {units} are in progress. Wait for one to finish or choose a larger plan."
        )


def _check_balance(account: BillingAccount, cost_ms: int, *, what: str) -> None:
    balance = CreditEntry.balance_of(account.workspace_id)
    if cost_ms > balance:
        raise QuotaExceeded(cost_ms=cost_ms, balance_ms=balance, what=what)


def _what(part_of: str) -> str:
    if part_of.startswith("lesson:"):
        return "This lesson's video"
    if part_of.startswith("campaign:"):
        return "This campaign video"
    return "This render"


@transaction.atomic
def reserve_for_job(job: RenderJob) -> CreditEntry | None:
    """Hold the job's estimated seconds, drawn from its campaign's reservation when it has one,
    otherwise from the balance after the plan's checks; raise QuotaExceeded / PlanLimitExceeded.
    Also gives the job the plan's priority."""
    account = locked_account(job.workspace_id)
    cost = estimated_ms(job.timeline, script_text=job.script_text)
    hold = job_hold(job.pk)
    if CreditEntry.held_by(hold) > 0:
        return None  # already held (a retry of a job whose reservation is still open)
    block = job.part_of if job.part_of and CreditEntry.held_by(job.part_of) >= cost else ""
    if block:
        # A campaign's videos were reserved together at launch: move this one's share.
        CreditEntry.objects.create(
            workspace_id=job.workspace_id,
            kind=CreditEntry.Kind.RELEASE,
            milliseconds=cost,
            hold=block,
            held_milliseconds=-cost,
            job_id=job.pk,
            part_of=job.part_of,
            reason=f"Moved to render #{job.pk}",
        )
    else:
        check_limits(account, longest_ms=cost, part_of=job.part_of, exclude_job=job.pk)
        _check_balance(account, cost, what=_what(job.part_of))
    entry = CreditEntry.objects.create(
        workspace_id=job.workspace_id,
        kind=CreditEntry.Kind.RESERVATION,
        milliseconds=-cost,
        hold=hold,
        held_milliseconds=cost,
        job_id=job.pk,
        part_of=job.part_of,
    )
    if account.limits.priority:
        job.priority += account.limits.priority
        RenderJob.objects.filter(pk=job.pk).update(priority=job.priority)
    return entry


@transaction.atomic
def reserve_block(workspace, *, hold: str, costs_ms: list[int], what: str) -> CreditEntry | None:
    """Hold the credits of many videos at once (a campaign's), or raise QuotaExceeded naming
    the shortfall of all of them; each video's submit then moves its share to its own hold."""
    if not costs_ms:
        return None
    account = locked_account(workspace.pk)
    check_limits(account, longest_ms=max(costs_ms), part_of=hold)
    total = sum(costs_ms)
    _check_balance(account, total, what=what)
    return CreditEntry.objects.create(
        workspace_id=workspace.pk,
        kind=CreditEntry.Kind.RESERVATION,
        milliseconds=-total,
        hold=hold,
        held_milliseconds=total,
        part_of=hold,
        reason=what,
    )


@transaction.atomic
def release_hold(
    workspace_id: int, hold: str, *, reason: str, job_id=None, part_of="", user=None
) -> CreditEntry | None:
    """Give back what a hold still keeps aside (nothing if it holds nothing)."""
    locked_account(workspace_id)
    held = CreditEntry.held_by(hold)
    if held <= 0:
        return None
    return CreditEntry.objects.create(
        workspace_id=workspace_id,
        kind=CreditEntry.Kind.RELEASE,
        milliseconds=held,
        hold=hold,
        held_milliseconds=-held,
        job_id=job_id,
        part_of=part_of,
        reason=reason,
        **_actor(user),
    )


def release_job(job: RenderJob, *, reason: str, user=None) -> CreditEntry | None:
    return release_hold(
        job.workspace_id,
        job_hold(job.pk),
        reason=reason,
        job_id=job.pk,
        part_of=job.part_of,
        user=user,
    )


@transaction.atomic
def settle_job(job: RenderJob, *, seconds: float) -> CreditEntry | None:
    """Charge a finished render its actual length (milliseconds of the published video) and
    close its hold; what the estimate held beyond that comes back, a longer video costs more.
    A job that never held credits (submitted before billing was on) is not charged."""
    locked_account(job.workspace_id)
    hold = job_hold(job.pk)
    if not CreditEntry.objects.filter(hold=hold).exists():
        return None
    if CreditEntry.objects.filter(hold=hold, kind=CreditEntry.Kind.SETTLEMENT).exists():
        return None  # settled once; a second publish of the same job is impossible anyway
    held = CreditEntry.held_by(hold)
    used = round(seconds * 1000)
    return CreditEntry.objects.create(
        workspace_id=job.workspace_id,
        kind=CreditEntry.Kind.SETTLEMENT,
        milliseconds=held - used,
        hold=hold,
        held_milliseconds=-held,
        used_milliseconds=used,
        job_id=job.pk,
        part_of=job.part_of,
    )


def start_refusal(job: RenderJob) -> str:
    """Why the worker must not start this job: it held credits once and holds none now (its
    reservation was released by an operator, or by a cancel that lost the race)."""
    hold = job_hold(job.pk)
    entries = CreditEntry.objects.filter(hold=hold)
    if entries.exists() and CreditEntry.held_by(hold) <= 0:
        return "Its credit reservation is gone (released); submit it again to render it."
    return ""


class CorrectionRefused(UserError):
    code = "correction_refused"


@transaction.atomic
def refund_job(job: RenderJob, *, user, reason: str) -> CreditEntry:
    """Give back the seconds a finished render was charged (a bad render, a goodwill gesture),
    once; who and why are recorded."""
    if not reason.strip():
        raise CorrectionRefused("Say why the render is refunded.")
    locked_account(job.workspace_id)
    charged = CreditEntry.objects.filter(job_id=job.pk, kind=CreditEntry.Kind.SETTLEMENT).first()
    if charged is None:
        raise CorrectionRefused(f"Render #{job.pk} was never charged.")
    if CreditEntry.objects.filter(job_id=job.pk, kind=CreditEntry.Kind.REFUND).exists():
        raise CorrectionRefused(f"Render #{job.pk} was already refunded.")
    return CreditEntry.objects.create(
        workspace_id=job.workspace_id,
        kind=CreditEntry.Kind.REFUND,
        milliseconds=charged.used_milliseconds,
        used_milliseconds=-charged.used_milliseconds,
        job_id=job.pk,
        part_of=job.part_of,
        reason=reason.strip(),
        **_actor(user),
    )


@transaction.atomic
def adjust(workspace, *, milliseconds: int, user, reason: str) -> CreditEntry:
    """A manual correction of the balance (plus or minus), with the reason and who made it."""
    if not reason.strip():
        raise CorrectionRefused("Say why the balance is adjusted.")
    if milliseconds == 0:
        raise CorrectionRefused("An adjustment changes the balance: give a non-zero amount.")
    locked_account(workspace.pk)
    return CreditEntry.objects.create(
        workspace_id=workspace.pk,
        kind=CreditEntry.Kind.ADJUSTMENT,
        milliseconds=milliseconds,
        reason=reason.strip(),
        **_actor(user),
    )


# What renders do to the balance: a plan's period is used by these.
RENDER_KINDS = [
    CreditEntry.Kind.RESERVATION,
    CreditEntry.Kind.SETTLEMENT,
    CreditEntry.Kind.RELEASE,
    CreditEntry.Kind.REFUND,
]


def _total(entries) -> int:
    return entries.aggregate(s=Sum("milliseconds"))["s"] or 0


def unused_plan_ms(workspace_id: int) -> int:
    """Included seconds the current plan period has not used (milliseconds). Renders draw on
    the period's grants first and on packs after them, so what expires is never a pack's."""
    window = CreditEntry.objects.filter(workspace_id=workspace_id)
    last_end = window.filter(kind=CreditEntry.Kind.EXPIRY).order_by("-pk").first()
    if last_end is not None:
        window = window.filter(pk__gt=last_end.pk)
    grants = window.filter(kind=CreditEntry.Kind.GRANT)
    first = grants.order_by("pk").first()
    if first is None:
        return 0
    used = -_total(window.filter(pk__gte=first.pk, kind__in=RENDER_KINDS))
    balance = CreditEntry.balance_of(workspace_id)
    return max(0, min(_total(grants) - max(used, 0), balance))


def end_period(workspace_id: int, *, reason: str) -> CreditEntry | None:
    """Take away what the period left unused (an entry even of 0 s: it marks where the next
    period starts); nothing when no period was granted since the last end."""
    window = CreditEntry.objects.filter(workspace_id=workspace_id)
    last_end = window.filter(kind=CreditEntry.Kind.EXPIRY).order_by("-pk").first()
    if last_end is not None:
        window = window.filter(pk__gt=last_end.pk)
    if not window.filter(kind=CreditEntry.Kind.GRANT).exists():
        return None
    return CreditEntry.objects.create(
        workspace_id=workspace_id,
        kind=CreditEntry.Kind.EXPIRY,
        milliseconds=-unused_plan_ms(workspace_id),
        reason=reason,
    )


@transaction.atomic
def grant_period(
    workspace_id: int, *, plan, stripe_ref: str, event_id: str, reason: str, upgrade: bool
) -> CreditEntry | None:
    """A paid plan invoice, once: a new period first ends the last one (its unused seconds
    expire), then grants the plan's seconds; a mid-period upgrade grants only what the new plan
    includes beyond what the period already got (never less: a downgrade takes nothing)."""
    locked_account(workspace_id)
    if CreditEntry.objects.filter(kind=CreditEntry.Kind.GRANT, stripe_ref=stripe_ref).exists():
        return None
    included = plan.included_seconds * 1000
    if upgrade:
        window = CreditEntry.objects.filter(workspace_id=workspace_id)
        last_end = window.filter(kind=CreditEntry.Kind.EXPIRY).order_by("-pk").first()
        if last_end is not None:
            window = window.filter(pk__gt=last_end.pk)
        included = max(0, included - _total(window.filter(kind=CreditEntry.Kind.GRANT)))
    else:
        end_period(workspace_id, reason="The plan's period ended: its unused seconds expire.")
    return CreditEntry.objects.create(
        workspace_id=workspace_id,
        kind=CreditEntry.Kind.GRANT,
        milliseconds=included,
        stripe_ref=stripe_ref,
        stripe_event_id=event_id,
        reason=reason,
    )


def credit(
    workspace_id: int,
    *,
    kind: str,
    milliseconds: int,
    stripe_ref: str,
    event_id: str = "",
    reason: str = "",
) -> CreditEntry | None:
    """Add paid-for seconds (a plan's period, a pack) once per Stripe payment: a second call
    with the same ``stripe_ref`` (the webhook after the success page) adds nothing."""
    with transaction.atomic():
        locked_account(workspace_id)
        if CreditEntry.objects.filter(kind=kind, stripe_ref=stripe_ref).exists():
            return None
        return CreditEntry.objects.create(
            workspace_id=workspace_id,
            kind=kind,
            milliseconds=milliseconds,
            stripe_ref=stripe_ref,
            stripe_event_id=event_id,
            reason=reason,
        )
