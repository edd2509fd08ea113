"""RFC 9457 problem details with stable codes: what every API refusal looks like."""

from http import HTTPStatus

from django.http import JsonResponse
from ninja import Schema

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict] | None = None


class ApiProblem(Exception):
    """A refusal with a stable ``code``; the API answers it as a problem document."""

    def __init__(self, status: int, code: str, detail: str, *, errors=None, headers=None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors, headers or {}


def problem_response(
    status: int, code: str, detail: str, *, errors=None, headers=None
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
    response = JsonResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found(what: str = "object") -> ApiProblem:
    return ApiProblem(404, "not_found", f"No such {what} in this workspace.")


def validation_error(detail: str, *, errors=None) -> ApiProblem:
    return ApiProblem(422, "validation_error", detail, errors=errors)
