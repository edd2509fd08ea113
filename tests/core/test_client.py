"""The client's address: the one the consent ledger, the evidence and the rate limits record."""

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from core.client import client_address


def request_from(peer: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        # No proxy trusted: the header is the client's own words and proves nothing.
        ([], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # The trusted proxy says who called it.
        (["10.0.0.5"], "10.0.0.5", "198.51.100.1", "198.51.100.1"),
        # A network of proxies; the client prepended a forged hop, which is never reached.
        (["10.0.0.0/8"], "10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        # Someone else sends the header straight to us: ignored.
        (["10.0.0.0/8"], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # A garbled hop: the proxy that wrote the next one is as far as we can see.
        (["10.0.0.0/8"], "10.0.0.5", "198.51.100.1, not-an-address", "10.0.0.5"),
        # The trusted proxy without a header.
        (["10.0.0.0/8"], "10.0.0.5", None, "10.0.0.5"),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_the_client_is_the_first_untrusted_hop(settings, trusted, peer, forwarded, client):
    settings.TRUSTED_PROXIES = trusted
    assert client_address(request_from(peer, forwarded)) == client


def test_a_request_without_an_address_has_none(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("")) is None


def test_settings_refuse_a_proxy_that_is_no_address():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.internal' is no address or network." in result.stderr
