"""Stripe at the HTTP boundary: a stripe.HTTPClient that answers the requests billing makes with
bodies in Stripe's own shapes (API 2026-10-28: a subscription's period on its items, an invoice's
subscription under parent.subscription_details, an invoice line's price under pricing), and
remembers what it was asked. Everything above it (StripeClient, its encoding and decoding) is the
real library. Webhook payloads are signed as Stripe signs them."""

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import parse_qsl, urlsplit

import stripe

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test{next(_ids):06d}"


class StripeState:
    """What the fake Stripe account holds."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.requests: list[tuple[str, str, dict]] = []
        self.customers: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: list[dict] = []
        self.down = False  # answer every request with a 500

    # Shapes ---------------------------------------------------------------------------------

    def subscription(self, *, customer: str, price: str, status="active", period_end=None, **more):
        now = int(time.time())
        sub_id = new_id("sub")
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "cancel_at_period_end": False,
            "created": now,
            "metadata": {},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": new_id("si"),
                        "object": "subscription_item",
                        "price": {
                            "id": price,
                            "object": "price",
                            "recurring": {"interval": "month"},
                        },
                        "quantity": 1,
                        "current_period_start": now,
                        "current_period_end": period_end or now + 30 * 86400,
                    }
                ],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            **more,
        }
        return self.subscriptions[sub_id]

    def invoice(self, *, customer: str, subscription: str, price: str, amount=4900, **more):
        now = int(time.time())
        invoice = {
            "id": new_id("in"),
            "object": "invoice",
            "customer": customer,
            "number": f"LIKE-{len(self.invoices) + 1:04d}",
            "status": "paid",
            "currency": "usd",
            "total": amount,
            "amount_due": amount,
            "amount_paid": amount,
            "created": now,
            "billing_reason": "subscription_cycle",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_test/test_inv",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_test/test_inv/pdf",
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"subscription": subscription, "metadata": {}},
            },
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": new_id("il"),
                        "object": "line_item",
                        "amount": amount,
                        "currency": "usd",
                        "period": {"start": now, "end": now + 30 * 86400},
                        "pricing": {
                            "type": "price_details",
                            "price_details": {"price": price, "product": "prod_test"},
                            "unit_amount_decimal": str(amount),
                        },
                        "quantity": 1,
                    }
                ],
                "has_more": False,
                "url": "/v1/invoices/x/lines",
            },
            **more,
        }
        self.invoices.insert(0, invoice)
        return invoice

    # HTTP -----------------------------------------------------------------------------------

    def answer(self, method: str, url: str, post_data) -> tuple[int, dict]:
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query))
        self.requests.append((method, parts.path, params))
        if self.down:
            return 500, {"error": {"type": "api_error", "message": "Stripe is down (test)."}}
        path = parts.path
        if method == "post" and path == "/v1/customers":
            customer = {
                "id": new_id("cus"),
                "object": "customer",
                "name": params.get("name"),
                "email": params.get("email"),
                "metadata": {"workspace_id": params.get("metadata[workspace_id]")},
                "created": int(time.time()),
                "livemode": False,
            }
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "post" and path == "/v1/checkout/sessions":
            session_id = new_id("cs")
            metadata = {
                key[len("metadata[") : -1]: value
                for key, value in params.items()
                if key.startswith("metadata[")
            }
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params["mode"],
                "status": "open",
                "payment_status": "unpaid",
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": metadata,
                "subscription": None,
                "amount_total": 4900,
                "currency": "usd",
                "success_url": params["success_url"],
                "cancel_url": params["cancel_url"],
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "line_items_price": params.get("line_items[0][price]"),
                "livemode": False,
            }
            self.sessions[session_id] = session
            return 200, session
        if method == "get" and path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(path.rsplit("/", 1)[1])
            return (200, session) if session else self._missing("checkout.session")
        if method == "get" and path.startswith("/v1/subscriptions/"):
            found = self.subscriptions.get(path.rsplit("/", 1)[1])
            return (200, found) if found else self._missing("subscription")
        if method == "get" and path == "/v1/invoices":
            mine = [i for i in self.invoices if i["customer"] == params.get("customer")]
            return 200, {
                "object": "list",
                "data": mine[: int(params.get("limit", 10))],
                "has_more": False,
                "url": "/v1/invoices",
            }
        if method == "post" and path == "/v1/billing_portal/sessions":
            session_id = new_id("bps")
            return 200, {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": params["customer"],
                "return_url": params["return_url"],
                "url": f"https://billing.stripe.com/p/session/{session_id}",
                "livemode": False,
            }
        return 404, {"error": {"type": "invalid_request_error", "message": f"No {path}"}}

    @staticmethod
    def _missing(what: str):
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such {what}",
            }
        }

    # Completing a Checkout the way Stripe does once the buyer paid.
    def pay(self, session_id: str, *, price: str = "", payment_status: str = "paid") -> dict:
        session = self.sessions[session_id]
        session.update(status="complete", payment_status=payment_status)
        if session["mode"] == "subscription" and not session["subscription"]:
            sub = self.subscription(customer=session["customer"], price=price)
            session["subscription"] = sub["id"]
        return session


STATE = StripeState()


class FakeStripeHttp(stripe.HTTPClient):
    name = "likeness-test"

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        status, body = STATE.answer(method, url, post_data)
        return json.dumps(body), status, {"request-id": new_id("req")}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError

    def close(self):
        pass


def http_client() -> FakeStripeHttp:
    return FakeStripeHttp()


def event(kind: str, obj: dict, *, created: int | None = None, event_id: str = "") -> dict:
    """A snapshot event as Stripe sends it to an endpoint."""
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        "data": {"object": obj},
    }


def signed(payload: bytes, secret: str, *, at: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    at = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"
