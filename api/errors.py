"""RFC 9457 problem details with stable codes: what every API refusal looks like."""

from http import HTTPStatus

from django.http import JsonResponse
from ninja import Schema

from billing.errors import ConcurrencyLimitExceeded, PlanLimitExceeded, QuotaExceeded
from core.errors import UserError

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict] | None = None
    # quota_exceeded: the render's estimated cost, the balance and the shortfall, in seconds.
    cost_seconds: float | None = None
    balance_seconds: float | None = None
    shortfall_seconds: float | None = None


class ApiProblem(Exception):
    """A refusal with a stable ``code``; the API answers it as a problem document."""

    def __init__(
        self, status: int, code: str, detail: str, *, errors=None, headers=None, extensions=None
    ):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors, headers or {}
        self.extensions = extensions or {}


def problem_response(
    status: int, code: str, detail: str, *, errors=None, headers=None, extensions=None
) -> JsonResponse:
    body = {
        "type": f"https://likeness.invalid/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})  # RFC 9457 extension members
    response = JsonResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found(what: str = "object") -> ApiProblem:
    return ApiProblem(404, "not_found", f"No such {what} in this workspace.")


def validation_error(detail: str, *, errors=None) -> ApiProblem:
    return ApiProblem(422, "validation_error", detail, errors=errors)


def refusal_problem(error: UserError, *, default_code: str | None = None) -> ApiProblem:
    """A refusal a user can act on, as its problem. Out of credits is 402 Payment Required, not
    429: waiting does not help (429 tells a client to retry later, and here that is the rate
    limit's answer); paying does. Too many renders at once is 429: one finishing lets the next
    in. Everything else is 422 with the error's own code (or ``default_code``)."""
    if isinstance(error, QuotaExceeded):
        return ApiProblem(
            402,
            error.code,
            str(error),
            extensions={
                "cost_seconds": error.cost_ms / 1000,
                "balance_seconds": max(error.balance_ms, 0) / 1000,
                "shortfall_seconds": error.shortfall_ms / 1000,
            },
        )
    if isinstance(error, ConcurrencyLimitExceeded):
        return ApiProblem(429, error.code, str(error))
    if isinstance(error, PlanLimitExceeded):
        return ApiProblem(422, error.code, str(error))
    return ApiProblem(422, default_code or error.code, str(error))
