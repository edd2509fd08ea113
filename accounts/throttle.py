"""Throttling of the account pages: what a locked-out login answers, and the signup limit.

Failed log-ins are counted by django-axes (settings: AXES_*, LOGIN_FAILURE_LIMIT,
LOGIN_LOCKOUT_MINUTES) per username and per client address; signups by a fixed hourly window in
the cache, per client address and per email. Both key on core.client.client_address."""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from core.client import client_address


def locked_out_response(request, original_response=None, credentials=None):
    """The lock-out page (429): how long the lock lasts and what to do meanwhile."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def _count(scope: str, who: str) -> int:
    window = int(time.time() // 3600)
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]  # no raw address or email in keys
    key = f"throttle:{scope}:{digest}:{window}"
    cache.add(key, 0, timeout=2 * 3600)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=2 * 3600)
        return 1


def signup_allowed(request, *, email: str) -> bool:
    """Count one signup attempt; False once this address or this email passed the hourly limit."""
    limit = settings.SIGNUP_RATE_PER_HOUR
    by_address = _count("signup-address", client_address(request) or "unknown")
    by_email = _count("signup-email", email.strip().lower())
    return by_address <= limit and by_email <= limit
