"""Token workflows the owner's page, the command line and the tests share."""

from django.db import transaction

from api.models import ApiToken


@transaction.atomic
def create_token(*, workspace, name: str, scopes, by=None, expires_at=None) -> tuple[ApiToken, str]:
    """A new token and its text, which is shown once and never stored."""
    return ApiToken.issue(
        workspace=workspace, name=name, scopes=scopes, by=by, expires_at=expires_at
    )


def revoke_token(token: ApiToken) -> bool:
    return token.revoke()


class EndpointInvalid(Exception):
    """A webhook endpoint that cannot be saved; the message says why."""


def _check_endpoint(url: str, events) -> list[str]:
    from api.models import SUBSCRIBABLE_EVENTS
    from api.webhooks import UnsafeAddress, check_url

    try:
        check_url(url)
    except UnsafeAddress as error:
        raise EndpointInvalid(str(error)) from error
    unknown = sorted(set(events) - set(SUBSCRIBABLE_EVENTS))
    if unknown or not events:
        raise EndpointInvalid(
            f"Unknown events {unknown}." if unknown else "Choose at least one event."
        )
    return sorted(set(events))


@transaction.atomic
def create_endpoint(*, workspace, url: str, events, description: str = ""):
    from api.models import WebhookEndpoint

    events = _check_endpoint(url, events)
    return WebhookEndpoint.objects.create(
        workspace=workspace, url=url, events=events, description=description
    )


@transaction.atomic
def update_endpoint(endpoint, *, url=None, events=None, description=None, enabled=None):
    url = endpoint.url if url is None else url
    events = endpoint.events if events is None else events
    endpoint.events = _check_endpoint(url, events)
    endpoint.url = url
    if description is not None:
        endpoint.description = description
    if enabled is not None:
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def rotate_secret(endpoint) -> str:
    from datetime import timedelta

    from django.conf import settings

    return endpoint.rotate_secret(overlap=timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS))
