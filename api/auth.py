"""Bearer-token authentication: a live token of the workspace, with the operation's scope, within
its rate limit (counted in the shared cache, so every web process counts the same calls)."""

import math
import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import HttpBearer

from api.errors import ApiProblem
from api.models import ApiToken


class RateLimited(ApiProblem):
    def __init__(self, retry_after: int):
        super().__init__(
            429,
            "rate_limited",
            f"Too many requests for this token; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def check_rate(token: ApiToken) -> None:
    """A fixed window per token: API_RATE_LIMIT calls per API_RATE_WINDOW_SECONDS."""
    window = settings.API_RATE_WINDOW_SECONDS
    now = time.time()
    key = f"api-rate:{token.lookup}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this call as the first
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > settings.API_RATE_LIMIT:
        raise RateLimited(max(1, math.ceil(window - now % window)))


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lk_…`` with ``scope``; request.auth is the ApiToken."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            raise ApiProblem(
                401, "unauthorized", "Send a workspace API token: Authorization: Bearer lk_…"
            )
        return super().__call__(request)

    def authenticate(self, request, token: str):
        found = ApiToken.find(token.strip())
        if found is None:
            raise ApiProblem(401, "unauthorized", "This token is unknown, revoked or expired.")
        check_rate(found)
        if not found.has_scope(self.scope):
            raise ApiProblem(
                403,
                "insufficient_scope",
                f"This token lacks the '{self.scope}' scope this operation needs.",
            )
        found.touch()
        request.workspace = found.workspace
        return found


READ = TokenAuth("read")
RENDER = TokenAuth("render")
MANAGE = TokenAuth("manage")
AUDIT = TokenAuth("audit")
