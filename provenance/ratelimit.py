"""A small fixed-window rate limit per client address, kept in Django's cache."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.client import client_address


def allow(request: HttpRequest, scope: str, per_minute: int) -> bool:
    window = int(time.time() // 60)
    key = f"ratelimit:{scope}:{client_address(request) or 'unknown'}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= per_minute


def rate_limited(scope: str, *, json: bool = False):
    """Answer 429 once a client made more than VERIFY_RATE_PER_MINUTE checks this minute."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and not allow(
                request, scope, settings.VERIFY_RATE_PER_MINUTE
            ):
                message = "Too many checks from your address; try again in a minute."
                if json:
                    response = JsonResponse({"error": message}, status=429)
                else:
                    response = HttpResponse(message, status=429, content_type="text/plain")
                response["Retry-After"] = "60"
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
