"""Who sent a request: the one client address the consent ledger, the evidence and the rate
limits record.

Behind a reverse proxy every request comes from the proxy. ``X-Forwarded-For`` is believed only
when the request came from an address in ``TRUSTED_PROXIES`` (addresses or networks), and only up
to the first hop that is not trusted: anything left of it was written by the client and proves
nothing."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _trusted(
    networks: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, or None when the request carries none that parses."""
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    if peer is None or not any(peer in network for network in trusted):
        return str(peer) if peer else None
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):  # the nearest hop, written by our own proxy, comes last
        address = _parse(hop)
        if address is None:
            break  # a forged or garbled entry: the proxy that wrote the next one is the client
        peer = address
        if not any(address in network for network in trusted):
            break
    return str(peer)
