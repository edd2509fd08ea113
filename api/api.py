"""The public REST API under /api/v1/: one NinjaAPI, every refusal a problem document."""

import json

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.errors import PROBLEM_MEDIA_TYPE, ApiProblem, Problem, problem_response, refusal_problem
from core.errors import UserError

DESCRIPTION = """
Renders, scripts, avatars, campaigns, lessons, consent and webhooks of one workspace.

Authenticate with a workspace API token: `Authorization: Bearer lk_…`. A token has scopes:
**read** (GET avatars, scripts, renders, campaigns, lessons; verify a file), **render** (write
scripts, start and cancel renders, campaigns and lessons), **manage** (webhook endpoints) and
**audit** (consent grants). Each token may make `API_RATE_LIMIT` calls a window; more get
`429` with `Retry-After`.

Every refusal is an RFC 9457 problem (`application/problem+json`) with a stable `code`:
`validation_error`, `not_found`, `unauthorized`, `insufficient_scope`, `rate_limited`,
`consent_refused`, `idempotency_key_reused`, `idempotency_in_flight`, `conflict`, `gone`, …
Where billing is on: `402 quota_exceeded` (with `cost_seconds`, `balance_seconds` and
`shortfall_seconds`), `429 concurrency_limit` and `422 video_too_long`.

`POST /renders` takes an `Idempotency-Key` header: the same key and body replay the first
answer, another body gets `422 idempotency_key_reused`, a request still being answered gets
`409 idempotency_in_flight`. Lists are newest first with cursor pagination
(`?limit=&cursor=`, then `next_cursor`).
"""

# Every operation may answer these; the schema says so, with the problem document's shape.
COMMON_PROBLEMS = {
    "401": "No token, or a token that is unknown, revoked or expired",
    "403": "The token lacks the scope this operation needs",
    "404": "No such object in this workspace",
    "422": "The request is not valid",
    "429": "Too many requests for this token (see Retry-After)",
}


class LikenessApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, content in list(responses.items()):
                    if int(status) >= 400:
                        content["content"] = problem
                for status, description in COMMON_PROBLEMS.items():
                    responses.setdefault(status, {"description": description, "content": problem})
        return schema


api = LikenessApi(
    title="Likeness API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ApiProblem)
def _problem(request, exc: ApiProblem):
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


@api.exception_handler(UserError)
def _user_error(request, exc: UserError):
    return _problem(request, refusal_problem(exc))


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    errors = json.loads(json.dumps(exc.errors, default=str))
    for error in errors:
        error.pop("url", None)
    return problem_response(
        422, "validation_error", "The request is not valid; see errors.", errors=errors
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(401, "unauthorized", "Send a workspace API token.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(404, "not_found", "No such object in this workspace.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {400: "bad_request", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return problem_response(exc.status_code, code, str(exc))


from api import campaign_routes, resources, webhook_routes  # noqa: E402  (routers use `api`)

api.add_router("/", resources.router)
api.add_router("/", webhook_routes.router)
api.add_router("/", campaign_routes.router)
