"""Buying through Stripe Checkout, fulfilled by the success page and by signed webhooks, each
payment credited once whatever arrives twice or out of order; the portal and invoices."""

import json
import time

import pytest
from django.urls import reverse

from billing.models import BillingAccount, CreditEntry, CreditPack, StripeEvent
from tests.billing import stripe_fake
from tests.billing.stripe_fake import STATE, event, signed
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/billing/stripe/webhook/"


@pytest.fixture(autouse=True)
def stripe_state():
    STATE.reset()
    yield STATE
    STATE.reset()


@pytest.fixture
def owner(billing_on, client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


@pytest.fixture
def pack(db):
    return CreditPack.objects.create(
        name="Ten minutes", stripe_price_id="price_pack_600", price_label="$19", seconds=600
    )


SECRET = "whsec_likeness_test"  # the billing_on fixture's STRIPE_WEBHOOK_SECRET


def deliver(client, payload: dict, *, secret=SECRET, at=None):
    body = json.dumps(payload).encode()
    return client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(body, secret, at=at),
    )


def balance(workspace) -> int:
    return CreditEntry.balance_of(workspace.pk)


def buy(client, **item) -> str:
    response = client.post(reverse("billing:checkout"), item)
    assert response.status_code == 302, response.content
    return response["Location"]


def test_buying_a_pack_opens_stripe_checkout_for_this_workspace(owner, client, pack):
    url = buy(client, pack=pack.pk)
    assert url.startswith("https://checkout.stripe.com/c/pay/cs_test")
    (session,) = STATE.sessions.values()
    assert session["mode"] == "payment" and session["line_items_price"] == "price_pack_600"
    assert session["metadata"] == {
        "workspace_id": str(owner.workspace.pk),
        "kind": "pack",
        "pack": str(pack.pk),
        "seconds": "600",
    }
    done = "/billing/checkout/done/?session_id={CHECKOUT_SESSION_ID}"
    assert session["success_url"].endswith(done)
    account = BillingAccount.objects.get(workspace=owner.workspace)
    assert account.stripe_customer_id == session["customer"]
    buy(client, pack=pack.pk)  # a second purchase reuses the customer
    assert [p for m, p, _ in STATE.requests if p == "/v1/customers"] == ["/v1/customers"]


def test_the_success_page_and_the_webhook_credit_a_pack_once(owner, client, pack):
    buy(client, pack=pack.pk)
    (session_id,) = STATE.sessions
    session = STATE.pay(session_id)
    page = client.get(reverse("billing:checkout_success"), {"session_id": session_id})
    assert page.status_code == 302
    assert balance(owner.workspace) == 600_000
    response = deliver(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    assert balance(owner.workspace) == 600_000
    purchase = CreditEntry.objects.get(kind=CreditEntry.Kind.PURCHASE)
    assert purchase.stripe_ref == session_id


def test_an_unpaid_checkout_credits_nothing_until_its_async_payment_succeeds(owner, client, pack):
    buy(client, pack=pack.pk)
    (session_id,) = STATE.sessions
    session = STATE.pay(session_id, payment_status="unpaid")  # a bank debit, clearing later
    assert deliver(client, event("checkout.session.completed", session)).status_code == 200
    assert balance(owner.workspace) == 0
    session = STATE.pay(session_id, payment_status="paid")
    deliver(client, event("checkout.session.async_payment_succeeded", session))
    assert balance(owner.workspace) == 600_000


def test_a_bad_signature_is_400_and_changes_nothing(owner, client, pack):
    buy(client, pack=pack.pk)
    (session_id,) = STATE.sessions
    payload = event("checkout.session.completed", STATE.pay(session_id))
    assert deliver(client, payload, secret="whsec_someone_else").status_code == 400
    stale = int(time.time()) - 3600  # a replay of an old delivery: outside the tolerance
    assert deliver(client, payload, at=stale).status_code == 400
    unsigned = client.post(WEBHOOK, data=json.dumps(payload), content_type="application/json")
    assert unsigned.status_code == 400
    assert balance(owner.workspace) == 0 and not StripeEvent.objects.exists()


def _subscribe(client, owner, pro_plan):
    buy(client, plan="pro")
    (session_id,) = STATE.sessions
    session = STATE.pay(session_id, price=pro_plan.stripe_price_id)
    return session, STATE.subscriptions[session["subscription"]]


def test_a_plan_bought_grants_its_seconds_per_paid_invoice_once(owner, client, pro_plan):
    session, sub = _subscribe(client, owner, pro_plan)
    deliver(client, event("checkout.session.completed", session))
    deliver(client, event("customer.subscription.created", sub))
    invoice = STATE.invoice(
        customer=sub["customer"], subscription=sub["id"], price=pro_plan.stripe_price_id
    )
    paid = event("invoice.paid", invoice)
    assert deliver(client, paid).content == b"applied"
    assert deliver(client, paid).content == b"duplicate"  # Stripe delivers at least once
    assert balance(owner.workspace) == 1_800_000
    account = BillingAccount.objects.get(workspace=owner.workspace)
    assert (account.plan, account.subscription_status) == (pro_plan, "active")
    assert account.limits.concurrency == 2
    next_period = STATE.invoice(
        customer=sub["customer"], subscription=sub["id"], price=pro_plan.stripe_price_id
    )
    deliver(client, event("invoice.paid", next_period))
    assert balance(owner.workspace) == 1_800_000  # per period: the unused 1800 s expired


def test_the_success_page_shows_the_plan_before_any_webhook(owner, client, pro_plan):
    session, _ = _subscribe(client, owner, pro_plan)
    client.get(reverse("billing:checkout_success"), {"session_id": session["id"]})
    account = BillingAccount.objects.get(workspace=owner.workspace)
    assert (account.plan, account.subscription_status) == (pro_plan, "active")
    assert account.current_period_end is not None


def test_an_older_subscription_event_delivered_late_changes_nothing(owner, client, pro_plan):
    session, sub = _subscribe(client, owner, pro_plan)
    deliver(client, event("checkout.session.completed", session))
    now = int(time.time())
    cancelled = dict(sub, cancel_at_period_end=True)
    deliver(client, event("customer.subscription.updated", cancelled, created=now))
    earlier = dict(sub, status="incomplete")
    deliver(client, event("customer.subscription.updated", earlier, created=now - 60))
    account = BillingAccount.objects.get(workspace=owner.workspace)
    assert (account.subscription_status, account.cancel_at_period_end) == ("active", True)
    deliver(client, event("customer.subscription.deleted", dict(sub, status="canceled")))
    deliver(client, event("customer.subscription.updated", sub, created=now - 30))
    account.refresh_from_db()
    assert (account.subscription_status, account.plan) == ("canceled", None)
    assert account.limits.name == "No plan"


def test_a_failed_payment_is_shown_until_an_invoice_is_paid(owner, client, pro_plan):
    session, sub = _subscribe(client, owner, pro_plan)
    deliver(client, event("checkout.session.completed", session))
    invoice = STATE.invoice(
        customer=sub["customer"],
        subscription=sub["id"],
        price=pro_plan.stripe_price_id,
        status="open",
    )
    deliver(client, event("invoice.payment_failed", invoice))
    assert b"The last payment failed" in client.get(reverse("billing:overview")).content
    assert balance(owner.workspace) == 0  # nothing granted for an unpaid period
    deliver(client, event("invoice.paid", dict(invoice, status="paid")))
    page = client.get(reverse("billing:overview")).content
    assert b"The last payment failed" not in page and b"LIKE-0001" in page


def test_the_customer_portal_opens_for_the_workspaces_customer(owner, client, pack):
    buy(client, pack=pack.pk)
    response = client.post(reverse("billing:portal"))
    assert response.status_code == 302
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    (customer,) = STATE.customers
    assert STATE.requests[-1][2]["customer"] == customer


def test_stripe_being_down_is_a_message_not_an_error(owner, client, pack):
    STATE.down = True
    response = client.post(reverse("billing:checkout"), {"pack": pack.pk}, follow=True)
    assert response.status_code == 200
    assert b"Stripe could not create your customer record just now" in response.content


def test_a_checkout_session_of_another_workspace_is_404_and_credits_nothing(owner, client, pack):
    buy(client, pack=pack.pk)
    (session_id,) = STATE.sessions
    STATE.pay(session_id)
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    page = client.get(reverse("billing:checkout_success"), {"session_id": session_id})
    assert page.status_code == 404
    assert not CreditEntry.objects.exists()


def test_without_a_stripe_key_there_are_no_billing_pages(db, client, settings):
    settings.STRIPE_SECRET_KEY = ""
    member = MembershipFactory()
    client.force_login(member.user)
    for name in ("billing:overview", "billing:plans", "billing:checkout_success"):
        assert client.get(reverse(name)).status_code == 404
    assert client.post(WEBHOOK, data="{}", content_type="application/json").status_code == 404
    assert b"/billing/" not in client.get(reverse("rendering:job_list")).content


def test_only_the_owner_buys(billing_on, client, pack):
    from accounts.models import Role

    editor = MembershipFactory(role=Role.EDITOR)
    client.force_login(editor.user)
    assert client.post(reverse("billing:checkout"), {"pack": pack.pk}).status_code == 403
    assert client.get(reverse("billing:plans")).status_code == 200
    assert not STATE.sessions


assert stripe_fake  # the module's settings path is used by the billing_on fixture


def _render_used(workspace, seconds: float, job_id: int):
    """A render's reservation and settlement, as billing.services writes them."""
    ms = round(seconds * 1000)
    hold = f"job:{job_id}"
    CreditEntry.objects.create(
        workspace=workspace,
        kind=CreditEntry.Kind.RESERVATION,
        milliseconds=-ms,
        hold=hold,
        held_milliseconds=ms,
        job_id=job_id,
    )
    CreditEntry.objects.create(
        workspace=workspace,
        kind=CreditEntry.Kind.SETTLEMENT,
        milliseconds=0,
        hold=hold,
        held_milliseconds=-ms,
        used_milliseconds=ms,
        job_id=job_id,
    )


def _paid_invoice(client, sub, price, **more):
    invoice = STATE.invoice(customer=sub["customer"], subscription=sub["id"], price=price, **more)
    deliver(client, event("invoice.paid", invoice))


def test_a_new_period_expires_the_last_periods_unused_seconds_never_a_packs(
    owner, client, pro_plan, pack
):
    session, sub = _subscribe(client, owner, pro_plan)
    deliver(client, event("checkout.session.completed", session))
    _paid_invoice(client, sub, pro_plan.stripe_price_id, billing_reason="subscription_create")
    buy(client, pack=pack.pk)
    pack_session = next(s for s in STATE.sessions if s != session["id"])
    client.get(reverse("billing:checkout_success"), {"session_id": STATE.pay(pack_session)["id"]})
    _render_used(owner.workspace, 300, job_id=1)
    assert balance(owner.workspace) == 1_800_000 + 600_000 - 300_000
    _paid_invoice(client, sub, pro_plan.stripe_price_id)  # the next month
    expiry = CreditEntry.objects.get(kind=CreditEntry.Kind.EXPIRY)
    assert expiry.milliseconds == -1_500_000  # 1800 s included, 300 s used
    assert balance(owner.workspace) == 1_800_000 + 600_000  # a new period, the pack intact
    _render_used(owner.workspace, 2000, job_id=2)  # the period's 1800 s, then 200 s of the pack
    _paid_invoice(client, sub, pro_plan.stripe_price_id)
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.EXPIRY).last().milliseconds == 0
    assert balance(owner.workspace) == 1_800_000 + 400_000


def test_an_upgrade_tops_the_period_up_and_the_end_of_the_plan_expires_what_is_left(
    owner, client, pro_plan
):
    from billing.models import Plan

    studio_plan = Plan.objects.create(
        slug="studio",
        name="Studio",
        stripe_price_id="price_studio",
        price_label="$99/month",
        included_seconds=3600,
        concurrency=4,
    )
    session, sub = _subscribe(client, owner, pro_plan)
    deliver(client, event("checkout.session.completed", session))
    _paid_invoice(client, sub, pro_plan.stripe_price_id, billing_reason="subscription_create")
    _paid_invoice(client, sub, "price_studio", billing_reason="subscription_update")
    assert balance(owner.workspace) == 3_600_000  # 1800 s more, not 3600 s more
    _render_used(owner.workspace, 600, job_id=3)
    deliver(client, event("customer.subscription.deleted", dict(sub, status="canceled")))
    assert balance(owner.workspace) == 0
    assert CreditEntry.objects.get(kind=CreditEntry.Kind.EXPIRY).milliseconds == -3_000_000
    assert studio_plan.pk


def test_events_of_a_new_plan_in_any_order_leave_the_same_state(owner, client, pro_plan):
    session, sub = _subscribe(client, owner, pro_plan)
    invoice = STATE.invoice(
        customer=sub["customer"],
        subscription=sub["id"],
        price=pro_plan.stripe_price_id,
        billing_reason="subscription_create",
    )
    now = int(time.time())
    # Stripe's order is not promised: the invoice and the subscription before the checkout.
    deliver(client, event("invoice.paid", invoice, created=now))
    deliver(client, event("customer.subscription.created", sub, created=now - 2))
    deliver(client, event("checkout.session.completed", session, created=now - 5))
    account = BillingAccount.objects.get(workspace=owner.workspace)
    assert (account.plan, account.subscription_status) == (pro_plan, "active")
    assert account.stripe_subscription_id == sub["id"]
    assert balance(owner.workspace) == 1_800_000


def test_an_event_billing_does_not_use_is_acknowledged_and_changes_nothing(owner, client):
    response = deliver(client, event("payment_intent.created", {"id": "pi_1"}))
    assert (response.status_code, response.content) == (200, b"ignored")
    assert not CreditEntry.objects.exists()
