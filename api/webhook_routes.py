"""Webhook endpoints, their deliveries and test events (manage scope)."""

from datetime import datetime
from typing import Literal

from django.db import transaction
from ninja import Router, Schema, Status
from pydantic import Field

from api import auth, services, webhooks
from api.errors import validation_error
from api.models import SUBSCRIBABLE_EVENTS, WebhookDelivery, WebhookEndpoint
from api.pagination import MAX_ID, Page, in_workspace, paginate
from api.resources import Cursor, Id, Limit

router = Router(tags=["webhooks"])

EventName = Literal[tuple(SUBSCRIBABLE_EVENTS)]


class EndpointIn(Schema):
    url: str = Field(..., min_length=1, max_length=500)
    events: list[EventName] = Field(..., min_length=1)
    description: str = Field("", max_length=200)


class EndpointPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[EventName] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    created_at: datetime
    previous_secret_until: datetime | None


class EndpointCreated(EndpointOut):
    secret: str = Field(..., description="Shown once: keep it to verify signatures")


class EndpointPage(Page):
    items: list[EndpointOut]


class SecretOut(Schema):
    secret: str
    previous_secret_until: datetime


class AttemptOut(Schema):
    at: datetime
    status_code: int | None
    error: str
    succeeded: bool


class DeliveryOut(Schema):
    id: int
    event: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    log: list[AttemptOut]


class DeliveryPage(Page):
    items: list[DeliveryOut]


class EventsOut(Schema):
    events: list[str]
    retry_schedule_seconds: list[int]


def endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
        "previous_secret_until": endpoint.previous_secret_until,
    }


def delivery_out(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "event": delivery.message.event,
        "message_id": delivery.message.msg_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "log": [
            {"at": a.at, "status_code": a.status_code, "error": a.error, "succeeded": a.succeeded}
            for a in delivery.log.all()[:20]
        ],
    }


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    return in_workspace(WebhookEndpoint.objects, request, endpoint_id, "webhook endpoint")


def _invalid(error: services.EndpointInvalid):
    return validation_error(str(error))


@router.get(
    "/webhook-events",
    response=EventsOut,
    auth=auth.MANAGE,
    description="The events an endpoint may choose, and the published retry schedule: the "
    "delay before each try after the one before (about three days in all).",
)
def list_events(request):
    return {
        "events": SUBSCRIBABLE_EVENTS,
        "retry_schedule_seconds": [int(d.total_seconds()) for d in webhooks.RETRY_SCHEDULE],
    }


@router.get("/webhook-endpoints", response=EndpointPage, auth=auth.MANAGE)
def list_endpoints(request, limit: int = Limit, cursor: str | None = Cursor):
    endpoints = WebhookEndpoint.objects.filter(workspace=request.auth.workspace)
    return paginate(endpoints, limit=limit, cursor=cursor, out=endpoint_out)


@router.post("/webhook-endpoints", response={201: EndpointCreated}, auth=auth.MANAGE)
def create_endpoint(request, payload: EndpointIn):
    try:
        endpoint = services.create_endpoint(
            workspace=request.auth.workspace,
            url=payload.url,
            events=payload.events,
            description=payload.description,
        )
    except services.EndpointInvalid as error:
        raise _invalid(error) from error
    return Status(201, endpoint_out(endpoint) | {"secret": endpoint.secret})


@router.get("/webhook-endpoints/{endpoint_id}", response=EndpointOut, auth=auth.MANAGE)
def get_endpoint(request, endpoint_id: int = Id):
    return endpoint_out(_endpoint(request, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}", response=EndpointOut, auth=auth.MANAGE)
def update_endpoint(request, payload: EndpointPatch, endpoint_id: int = Id):
    endpoint = _endpoint(request, endpoint_id)
    try:
        services.update_endpoint(endpoint, **payload.dict())
    except services.EndpointInvalid as error:
        raise _invalid(error) from error
    return endpoint_out(endpoint)


@router.delete("/webhook-endpoints/{endpoint_id}", response={204: None}, auth=auth.MANAGE)
def delete_endpoint(request, endpoint_id: int = Id):
    _endpoint(request, endpoint_id).delete()
    return Status(204, None)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response=SecretOut,
    auth=auth.MANAGE,
    description="A new secret, shown once; the old one also signs until previous_secret_until.",
)
def rotate_secret(request, endpoint_id: int = Id):
    endpoint = _endpoint(request, endpoint_id)
    secret = services.rotate_secret(endpoint)
    return {"secret": secret, "previous_secret_until": endpoint.previous_secret_until}


@router.post("/webhook-endpoints/{endpoint_id}/test", response={202: DeliveryOut}, auth=auth.MANAGE)
def send_test(request, endpoint_id: int = Id):
    endpoint = _endpoint(request, endpoint_id)
    with transaction.atomic():
        delivery = webhooks.send_test_event(endpoint)
    return Status(202, delivery_out(delivery))


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response=DeliveryPage, auth=auth.MANAGE)
def list_deliveries(
    request, endpoint_id: int = Id, limit: int = Limit, cursor: str | None = Cursor
):
    endpoint = _endpoint(request, endpoint_id)
    deliveries = endpoint.deliveries.select_related("message").prefetch_related("log")
    return paginate(deliveries, limit=limit, cursor=cursor, out=delivery_out)


@router.post(
    "/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
    auth=auth.MANAGE,
    description="Send the delivery's message again (same webhook-id) as a new delivery.",
)
def redeliver(request, endpoint_id: int = Id, delivery_id: int = Id):
    endpoint = _endpoint(request, endpoint_id)
    if not 0 < delivery_id <= MAX_ID:
        raise validation_error("No such delivery.")
    delivery = endpoint.deliveries.select_related("message").filter(pk=delivery_id).first()
    if delivery is None:
        from api.errors import not_found

        raise not_found("delivery")
    with transaction.atomic():
        again = webhooks.redeliver(delivery)
    return Status(202, delivery_out(again))
