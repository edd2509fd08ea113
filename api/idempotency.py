"""Idempotency-Key: the same key and body replay the first answer; another body is refused
(422); a request with the key still being answered is refused (409)."""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.errors import ApiProblem, validation_error
from api.models import IdempotencyRecord


def _digest(request, payload) -> str:
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": payload},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(workspace, key: str, digest: str):
    """A new in-flight record for the key, or the earlier one (None, record)."""
    stale = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    IdempotencyRecord.objects.filter(workspace=workspace, key=key, created_at__lt=stale).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                workspace=workspace, key=key, request_sha256=digest
            ), None
    except IntegrityError:
        return None, IdempotencyRecord.objects.get(workspace=workspace, key=key)


def run_once(request, payload, work):
    """Answer with ``work()`` (a (status, body) pair), at most once per Idempotency-Key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return work()
    if not 0 < len(key) <= 255 or not key.isprintable():
        raise validation_error("Idempotency-Key must be 1 to 255 printable characters.")
    record, earlier = _claim(request.auth.workspace, key, _digest(request, payload))
    if earlier is not None:
        if earlier.request_sha256 != _digest(request, payload):
            raise ApiProblem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with another request; use a new key.",
            )
        if not earlier.completed:
            raise ApiProblem(
                409,
                "idempotency_in_flight",
                "A request with this Idempotency-Key is still being answered; retry shortly.",
                headers={"Retry-After": "1"},
            )
        body = earlier.body or {}
        if earlier.status_code >= 400:
            raise ApiProblem(earlier.status_code, body.get("code", "error"), body.get("detail", ""))
        return earlier.status_code, body
    try:
        status, body = work()
    except ApiProblem as problem:
        if problem.status in (402, 429):
            # Out of credits or at the plan's concurrency: nothing was done, and the same request
            # may succeed once credits are bought or a render ends, so the key stays unused.
            record.delete()
        else:
            _finish(record, problem.status, {"code": problem.code, "detail": problem.detail})
        raise
    except BaseException:
        record.delete()  # nothing was answered: the key may be used again
        raise
    _finish(record, status, body)
    return status, body


def _finish(record: IdempotencyRecord, status: int, body) -> None:
    record.completed, record.status_code, record.body = True, status, body
    record.save(update_fields=["completed", "status_code", "body"])
