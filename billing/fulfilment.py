"""What Stripe's events do here. Each event is applied once (StripeEvent, by its id, in the same
transaction as its effect), each payment is credited once (CreditEntry's unique stripe_ref, so the
Checkout success page and the webhook may both fulfil), and a subscription's state is only ever
replaced by a newer one (Stripe does not promise order).

Handled: checkout.session.completed and .async_payment_succeeded (a pack's seconds; a plan's
subscription linked), invoice.paid (a plan's seconds for the period), invoice.payment_failed (the
account marked), customer.subscription.created, .updated and .deleted (plan, status, renewal).
"""

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import services, stripe_gateway
from billing.models import BillingAccount, CreditEntry, Plan, StripeEvent

log = logging.getLogger(__name__)

PAID = ("paid", "no_payment_required")


def _time(stamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


def _account_for_customer(customer_id: str | None) -> BillingAccount | None:
    if not customer_id:
        return None
    return BillingAccount.objects.filter(stripe_customer_id=customer_id).first()


def handle_event(event: dict) -> str:
    """Apply one verified event; tells what happened ("applied", "duplicate", "ignored")."""
    handler = HANDLERS.get(event["type"])
    try:
        with transaction.atomic():
            StripeEvent.objects.create(
                event_id=event["id"], type=event["type"], created=_time(event["created"])
            )
            if handler is None:
                return "ignored"
            handler(event["data"]["object"], event)
    except IntegrityError:
        if StripeEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        raise
    return "applied"


def fulfil_checkout(session: dict, *, event_id: str = "") -> CreditEntry | None:
    """A completed Checkout session: a pack's seconds once paid (an async payment method pays
    later: async_payment_succeeded); a plan's subscription linked to the workspace. Safe to run
    any number of times, from the webhook or the success page."""
    metadata = session.get("metadata") or {}
    workspace_id = int(metadata.get("workspace_id") or session.get("client_reference_id"))
    if session.get("payment_status") not in PAID:
        return None
    if metadata.get("kind") == "pack":
        seconds = int(metadata["seconds"])  # what was sold at checkout, not today's pack
        return services.credit(
            workspace_id,
            kind=CreditEntry.Kind.PURCHASE,
            milliseconds=seconds * 1000,
            stripe_ref=session["id"],
            event_id=event_id,
            reason=f"Credit pack: {seconds} s",
        )
    if metadata.get("kind") == "plan" and session.get("subscription"):
        subscription_id = session["subscription"]
        if isinstance(subscription_id, dict):
            subscription_id = subscription_id["id"]
        with transaction.atomic():
            account = services.locked_account(workspace_id)
            if not account.stripe_customer_id and session.get("customer"):
                account.stripe_customer_id = session["customer"]
            # Its plan, status and period come with customer.subscription.* events, or from
            # refresh_subscription on the success page.
            account.stripe_subscription_id = subscription_id
            account.save(update_fields=["stripe_customer_id", "stripe_subscription_id"])
    return None


def refresh_subscription(account: BillingAccount) -> None:
    """Read the subscription as Stripe has it now (outside any transaction: a network call) and
    apply it; events about it that come later but are older change nothing."""
    if account.stripe_subscription_id:
        state = stripe_gateway.subscription(account.stripe_subscription_id)
        apply_subscription(state, at=timezone.now())


def _checkout_completed(session: dict, event: dict) -> None:
    fulfil_checkout(session, event_id=event["id"])


def _period_end(subscription: dict) -> datetime | None:
    # Since Stripe's 2025 API versions the period lives on each item, not the subscription.
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    return _time(max(ends)) if ends else _time(subscription.get("current_period_end"))


def _price_of(subscription: dict) -> str:
    items = (subscription.get("items") or {}).get("data") or []
    return items[0]["price"]["id"] if items else ""


def apply_subscription(subscription: dict, *, at: datetime, deleted: bool = False) -> None:
    """Take a subscription's plan, status and renewal date, unless a newer state was applied."""
    with transaction.atomic():
        account = _account_for_customer(subscription.get("customer"))
        if account is None:
            workspace_id = (subscription.get("metadata") or {}).get("workspace_id")
            if not workspace_id:
                log.warning("Subscription %s of an unknown customer", subscription.get("id"))
                return
            account = services.locked_account(int(workspace_id))
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if account.subscription_state_at and at < account.subscription_state_at:
            return  # an older state delivered late
        if (
            account.stripe_subscription_id
            and account.stripe_subscription_id != subscription["id"]
            and account.subscription_status in ("active", "trialing", "past_due")
            and deleted
        ):
            return  # the end of an old subscription does not end the current one
        account.stripe_subscription_id = subscription["id"]
        account.subscription_status = "canceled" if deleted else subscription.get("status", "")
        plan = Plan.objects.filter(stripe_price_id=_price_of(subscription)).first()
        account.plan = None if deleted else plan
        account.current_period_end = None if deleted else _period_end(subscription)
        account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
        account.subscription_state_at = at
        account.save()


def _subscription_changed(subscription: dict, event: dict) -> None:
    apply_subscription(subscription, at=_time(event["created"]))


def _subscription_deleted(subscription: dict, event: dict) -> None:
    """The plan ended: its state, and the unused seconds of its last period expire."""
    apply_subscription(subscription, at=_time(event["created"]), deleted=True)
    account = _account_for_customer(subscription.get("customer"))
    if account is not None and account.subscription_status == "canceled":
        with transaction.atomic():
            services.locked_account(account.workspace_id)
            services.end_period(
                account.workspace_id, reason="The plan ended: its unused seconds expire."
            )


def _invoice_price(invoice: dict) -> str:
    for line in (invoice.get("lines") or {}).get("data") or []:
        details = (line.get("pricing") or {}).get("price_details") or {}
        price = details.get("price") or (line.get("price") or {}).get("id")
        if price:
            return price if isinstance(price, str) else price["id"]
    return ""


def _invoice_paid(invoice: dict, event: dict) -> None:
    """A paid subscription invoice grants the plan's seconds for its period, once per invoice
    (a proration invoice of a plan change, billing_reason subscription_update, only tops up)."""
    account = _account_for_customer(invoice.get("customer"))
    plan = Plan.objects.filter(stripe_price_id=_invoice_price(invoice)).first()
    if account is None or plan is None:
        log.warning("Paid invoice %s matches no workspace or plan", invoice.get("id"))
        return
    services.grant_period(
        account.workspace_id,
        plan=plan,
        stripe_ref=invoice["id"],
        event_id=event["id"],
        reason=f"{plan.name}: invoice {invoice.get('number') or invoice['id']}",
        upgrade=invoice.get("billing_reason") == "subscription_update",
    )
    BillingAccount.objects.filter(pk=account.pk).update(payment_failed_at=None)


def _invoice_payment_failed(invoice: dict, event: dict) -> None:
    """Nothing is taken away: the account is marked, and its pages say so, until a payment
    succeeds (Stripe retries; the subscription's own status follows by its events)."""
    account = _account_for_customer(invoice.get("customer"))
    if account is not None:
        BillingAccount.objects.filter(pk=account.pk).update(payment_failed_at=timezone.now())


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
}
