"""Everything this site asks of Stripe, through one StripeClient: customers, Checkout sessions
for plans and packs, the customer portal, subscriptions and invoices. Stripe's answers are turned
into plain dicts at this boundary; the rest of billing never sees a Stripe object."""

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from billing.errors import BillingError
from billing.models import BillingAccount, CreditPack, Plan


def client() -> stripe.StripeClient:
    http_client = (
        import_string(settings.STRIPE_HTTP_CLIENT)() if settings.STRIPE_HTTP_CLIENT else None
    )
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, http_client=http_client, max_network_retries=2
    )


def _call(what: str, request):
    """One request to Stripe; a failure becomes a message people can act on (the details go
    to the log through stripe's own logging)."""
    try:
        answer = request()
    except stripe.StripeError as error:
        raise BillingError(
            f"Stripe could not {what} just now ({error.user_message or 'no answer'}); "
            "try again in a minute."
        ) from error
    return answer.to_dict() if hasattr(answer, "to_dict") else answer


def customer_of(workspace, *, email: str = "") -> str:
    """The workspace's Stripe customer, made once. Stripe's idempotency key makes two requests
    racing to create it get the same customer."""
    account, _ = BillingAccount.objects.get_or_create(workspace=workspace)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    params = {"name": workspace.name, "metadata": {"workspace_id": str(workspace.pk)}}
    if email:
        params["email"] = email
    customer = _call(
        "create your customer record",
        lambda: client().v1.customers.create(
            params, {"idempotency_key": f"likeness-customer-{workspace.pk}"}
        ),
    )
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if not account.stripe_customer_id:
            account.stripe_customer_id = customer["id"]
            account.save(update_fields=["stripe_customer_id"])
    return account.stripe_customer_id


def checkout_url(
    workspace, *, item: Plan | CreditPack, email: str, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout page for a plan (a subscription) or a pack (one payment). What is
    bought is written into the session's metadata, which fulfilment reads back."""
    customer = customer_of(workspace, email=email)
    metadata = {"workspace_id": str(workspace.pk)}
    if isinstance(item, Plan):
        metadata.update(kind="plan", plan=item.slug)
        mode = "subscription"
    else:
        metadata.update(kind="pack", pack=str(item.pk), seconds=str(item.seconds))
        mode = "payment"
    params = {
        "mode": mode,
        "customer": customer,
        "client_reference_id": str(workspace.pk),
        "line_items": [{"price": item.stripe_price_id, "quantity": 1}],
        "metadata": metadata,
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": cancel_url,
    }
    if mode == "subscription":
        params["subscription_data"] = {"metadata": {"workspace_id": str(workspace.pk)}}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
    session = _call("open Checkout", lambda: client().v1.checkout.sessions.create(params))
    return session["url"]


def checkout_session(session_id: str) -> dict:
    return _call("find that payment", lambda: client().v1.checkout.sessions.retrieve(session_id))


def subscription(subscription_id: str) -> dict:
    return _call(
        "read the subscription", lambda: client().v1.subscriptions.retrieve(subscription_id)
    )


def portal_url(account: BillingAccount, *, return_url: str) -> str:
    if not account.stripe_customer_id:
        raise BillingError("Buy a plan or a pack first: the customer portal opens after that.")
    session = _call(
        "open the customer portal",
        lambda: client().v1.billing_portal.sessions.create(
            {"customer": account.stripe_customer_id, "return_url": return_url}
        ),
    )
    return session["url"]


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    created_at: datetime
    amount: str  # "49.00 USD"
    status: str
    hosted_invoice_url: str
    invoice_pdf: str


def invoices(account: BillingAccount, *, limit: int = 12) -> list[Invoice]:
    """The customer's latest invoices, newest first, as Stripe lists them."""
    if not account.stripe_customer_id:
        return []
    page = _call(
        "list your invoices",
        lambda: client().v1.invoices.list({"customer": account.stripe_customer_id, "limit": limit}),
    )
    return [
        Invoice(
            id=data["id"],
            number=data.get("number") or "",
            created_at=datetime.fromtimestamp(data["created"], tz=UTC),
            # Zero-decimal currencies (JPY, ...) are counted in units, the rest in cents.
            amount=_money(data.get("total", data.get("amount_due", 0)), data.get("currency", "")),
            status=data.get("status") or "",
            hosted_invoice_url=data.get("hosted_invoice_url") or "",
            invoice_pdf=data.get("invoice_pdf") or "",
        )
        for data in page["data"]
    ]


ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


def _money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def construct_event(payload: bytes, signature: str | None):
    """The event, once stripe's own check found the signature good; SignatureVerificationError
    or ValueError (not JSON) otherwise."""
    return client().construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
