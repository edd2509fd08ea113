"""Webhooks: events become signed messages (Standard Webhooks), delivered by the task queue on a
published retry schedule, only to public addresses (checked on the socket actually connected)."""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from api.signals import delivery_due

log = logging.getLogger(__name__)

# When each try happens after the one before (the first at once); then the delivery has failed.
# About three days in all: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h.
RETRY_SCHEDULE = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=24),
    timedelta(hours=24),
]
MAX_RESPONSE_BYTES = 64 * 1024  # read (and throw away) at most this much of an answer


class UnsafeAddress(Exception):
    """The endpoint's host is (or resolved to) an address deliveries may not reach."""


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks signature: v1,base64(HMAC-SHA256(key, "id.timestamp.body"))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(endpoint: WebhookEndpoint, msg_id: str, body: bytes, *, now=None) -> dict:
    now = now or timezone.now()
    timestamp = int(now.timestamp())
    signatures = " ".join(
        sign(s, msg_id, timestamp, body) for s in endpoint.signing_secrets(at=now)
    )
    return {
        "content-type": "application/json",
        "user-agent": f"{settings.SITE_NAME}-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


# ---- addresses -----------------------------------------------------------------------------


def address_allowed(address: str) -> bool:
    """Only globally routable unicast addresses: no loopback, private, link-local (cloud
    metadata: 169.254.169.254), shared, reserved or multicast ones, IPv4-mapped or not."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse at once what can never be delivered to (the delivery checks again on connect)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("Use an http:// or https:// URL with a host name.")
    if parts.username or parts.password:
        raise UnsafeAddress("Put no user name or password in the URL; the signature authenticates.")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(host):
        raise UnsafeAddress(f"{host} is not a public address.")
    private_name = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if literal is None and private_name and not settings.WEBHOOK_ALLOW_PRIVATE:
        raise UnsafeAddress(f"{host} is not a public host.")


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    """A socket to the first allowed address of ``host``, checked again once connected (so a
    DNS answer that changes between check and use cannot point it inward)."""
    refused = []
    last_error = None
    for family, kind, proto, _name, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        if not address_allowed(address[0]):
            refused.append(address[0])
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        peer = sock.getpeername()[0]
        if not address_allowed(peer):
            sock.close()
            refused.append(peer)
            continue
        return sock
    if refused and last_error is None:
        raise UnsafeAddress(f"{host} resolves to an address that is not public ({refused[0]}).")
    raise last_error or OSError(f"{host} has no address.")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = _connect(self.host, self.port, self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        sock = _connect(self.host, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> int:
    """POST once; the answer's status. Redirects are answers, not followed."""
    parts = urlsplit(url)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    if parts.scheme == "https":
        connection = _CheckedHTTPSConnection(
            parts.hostname, parts.port or 443, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _CheckedHTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return response.status
    finally:
        connection.close()


# ---- messages and deliveries ---------------------------------------------------------------


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def message_body(message: WebhookMessage) -> bytes:
    envelope = {
        "type": message.event,
        "timestamp": message.created_at.isoformat(),
        "data": message.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def emit(
    workspace_id: int, event: str, data: dict, *, key: str | None = None
) -> WebhookMessage | None:
    """Record an event and a delivery to each endpoint of the workspace that wants it; the
    deliveries are queued once the transaction commits. ``key``: the event happens once."""
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    try:
        with transaction.atomic():
            message = WebhookMessage.objects.create(
                workspace_id=workspace_id,
                msg_id=new_message_id(),
                event=event,
                key=key,
                payload=data,
            )
    except IntegrityError:  # this event (key) was already sent
        return None
    endpoints = WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True)
    for endpoint in endpoints:
        if endpoint.wants(event):
            queue_delivery(endpoint, message)
    return message


def queue_delivery(endpoint: WebhookEndpoint, message: WebhookMessage) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message=message, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def enqueue(delivery_id: int, *, run_after=None) -> None:
    """Ask the queue for a worker's turn for this delivery (call after commit)."""
    delivery_due.send(sender=WebhookDelivery, delivery_id=delivery_id, run_after=run_after)


def attempt(delivery_id: int) -> str:
    """One try of a pending delivery (what the queued task runs); its status afterwards."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint", "message")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return delivery.status if delivery else "missing"
        if delivery.next_attempt_at is None:  # another copy of this task is trying it now
            return delivery.status
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            return _give_up(delivery, "The endpoint is disabled.")
        # Taken: a second copy of this task finds no next_attempt_at and leaves it alone.
        delivery.attempts += 1
        delivery.next_attempt_at = None
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    body = message_body(delivery.message)
    headers = signed_headers(endpoint, delivery.message.msg_id, body)
    status, error = None, ""
    try:
        status = post(endpoint.url, body, headers)
    except UnsafeAddress as refusal:
        error = str(refusal)
    except (OSError, http.client.HTTPException) as failure:  # timeouts, refusals, TLS, bad answers
        error = f"{type(failure).__name__}: {failure}"[:300]
    succeeded = status is not None and 200 <= status < 300
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=status, error=error, succeeded=succeeded
    )
    delivery.last_status_code, delivery.last_error = status, error
    if succeeded:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.save(update_fields=["status", "last_status_code", "last_error", "updated_at"])
        return delivery.status
    if status == 410:  # the receiver says the endpoint is gone for good
        if endpoint.disable("The endpoint answered 410 Gone."):
            from api.notifications import endpoint_disabled

            endpoint_disabled(endpoint)
        return _give_up(delivery, "The endpoint answered 410 Gone; it is disabled.")
    if delivery.attempts >= len(RETRY_SCHEDULE):
        return _give_up(delivery, error or f"Answered {status} to every try.")
    delay = RETRY_SCHEDULE[delivery.attempts]
    delivery.next_attempt_at = timezone.now() + delay
    delivery.save(update_fields=["next_attempt_at", "last_status_code", "last_error", "updated_at"])
    enqueue(delivery.pk, run_after=delivery.next_attempt_at)
    return delivery.status


def requeue_lost(*, now=None, grace=timedelta(minutes=10)) -> int:
    """Queue again the pending deliveries whose task was lost: due for longer than ``grace``
    (a broker that dropped it), or taken by a worker that died mid-try (nothing heard for the
    timeout plus ``grace``). Run it every few minutes: `manage.py requeue_lost_webhooks`."""
    now = now or timezone.now()
    timeout = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS)
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    overdue = pending.filter(next_attempt_at__lt=now - grace)
    abandoned = pending.filter(next_attempt_at__isnull=True, updated_at__lt=now - timeout - grace)
    ids = list(overdue.values_list("pk", flat=True)) + list(abandoned.values_list("pk", flat=True))
    for delivery_id in ids:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=now)
            transaction.on_commit(lambda pk=delivery_id: enqueue(pk))
    return len(ids)


def _give_up(delivery: WebhookDelivery, reason: str) -> str:
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.last_error = delivery.last_error or reason[:300]
    delivery.next_attempt_at = None
    delivery.save()
    return delivery.status


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """The same message (same webhook-id, so receivers can dedupe) sent again, as a new delivery."""
    return queue_delivery(delivery.endpoint, delivery.message)


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    message = WebhookMessage.objects.create(
        workspace_id=endpoint.workspace_id,
        msg_id=new_message_id(),
        event="webhook.test",
        payload={"endpoint_id": endpoint.pk, "message": "A test event from Likeness."},
    )
    return queue_delivery(endpoint, message)
