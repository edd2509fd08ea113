"""Log-in (site and admin) and signup are throttled per account and per client address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.models import Membership
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed log-ins"


def log_in(client, username, password, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_the_lock_out_message(client):
    user = UserFactory()
    for _ in range(30):
        assert log_in(client, user.username, "wrong").status_code in (200, 429)
    response = log_in(client, user.username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "15 minutes" in page and "ask your workspace owner" in page
    assert response["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_the_account_stays_locked_from_another_address(client):
    user = UserFactory()
    for _ in range(5):
        log_in(client, user.username, "wrong", REMOTE_ADDR="203.0.113.1")
    response = log_in(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.2")
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_the_admin_login_is_locked_the_same_way(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(30):
        client.post(url, {"username": admin.username, "password": "wrong"})
    response = client.post(url, {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302  # still not logged in


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_lock(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    user = UserFactory()
    # Each guess against another name, each with another forged client address.
    for n in range(30):
        log_in(
            client,
            f"guess{n}",
            "wrong",
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = log_in(
        client,
        user.username,
        PASSWORD,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429 and LOCKED in response.content.decode()
    # The address is what is locked: the same user from elsewhere (through our proxy) logs in.
    response = log_in(
        client, user.username, PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9"
    )
    assert response.status_code == 302


def test_the_lock_ends_after_the_cool_off(client, settings):
    user = UserFactory()
    for _ in range(30):
        log_in(client, user.username, "wrong")
    assert log_in(client, user.username, PASSWORD).status_code == 429
    for attempt in AccessAttempt.objects.all():  # time passes: every attempt is older than it
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save(update_fields=["attempt_time"])
    response = log_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_right_password_before_the_limit_logs_in_and_clears_the_count(client):
    user = UserFactory()
    for _ in range(4):
        log_in(client, user.username, "wrong")
    assert log_in(client, user.username, PASSWORD).status_code == 302


def signup(client, n, **extra):
    return client.post(
        reverse("accounts:signup"),
        {
            "username": f"new{n}",
            "email": extra.pop("email", f"new{n}@example.com"),
            "password1": PASSWORD,
            "password2": PASSWORD,
            "workspace_name": "W",
        },
        **extra,
    )


def test_signups_are_limited_per_client_address(client, settings):
    settings.SIGNUP_RATE_PER_HOUR = 2
    assert signup(client, 1).status_code == 302
    client.logout()
    assert signup(client, 2).status_code == 302
    client.logout()
    response = signup(client, 3, HTTP_X_FORWARDED_FOR="192.0.2.1")  # forged: changes nothing
    assert response.status_code == 429
    assert "Wait an hour" in response.content.decode()
    assert not Membership.objects.filter(user__username="new3").exists()
    assert signup(client, 4, REMOTE_ADDR="203.0.113.5").status_code == 302


def test_signups_are_limited_per_email(client, settings):
    settings.SIGNUP_RATE_PER_HOUR = 2
    for n in range(2):
        signup(client, n, email="same@example.com", REMOTE_ADDR=f"203.0.113.{n}")
        client.logout()
    response = signup(client, 9, email="Same@example.com", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
