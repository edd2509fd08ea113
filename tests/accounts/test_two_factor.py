"""Two-factor log-in (issue 19): enroll with an authenticator, log in with a code or a backup
code, a setting that requires it for some roles, wrong codes throttled, and the admin alike."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed log-ins"
WRONG = "That code is not right"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or that many 30 s steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = {code_for(device, n) for n in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1, 10) if f"{n:06d}" not in right)


def with_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def log_in(client, username, password=PASSWORD, url=None, **params):
    return client.post(
        url or reverse("accounts:login"), {"username": username, "password": password, **params}
    )


def give_code(client, code):
    return client.post(reverse("accounts:login_code"), {"code": code})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_enrolling_shows_the_secret_as_an_otpauth_uri_and_a_qr_code_and_a_code_confirms_it(
    client,
):
    user = UserFactory(username="ada")
    client.force_login(user)
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    text = page.content.decode()
    assert "otpauth://totp/Likeness%3Aada?secret=" in text
    assert two_factor.secret_base32(device) in text
    assert reverse("accounts:two_factor_qr") in text
    qr = client.get(reverse("accounts:two_factor_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content and b"<script" not in qr.content

    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device)})
    assert response.status_code == 200
    codes = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    assert len(codes) == two_factor.BACKUP_CODE_COUNT
    assert all(code in response.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    # This session was verified by the code: it stays in, and the page now offers to turn it off.
    assert "Turn it off" in client.get(reverse("accounts:two_factor")).content.decode()


def test_a_wrong_code_does_not_confirm_the_authenticator(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:two_factor"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("accounts:two_factor"), {"code": wrong_code_for(device)})
    assert response.status_code == 400 and "not right" in response.content.decode()
    assert not two_factor.has_device(user)


def test_the_backup_codes_are_shown_only_once(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:two_factor"))
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("accounts:two_factor"), {"code": code_for(device)})
    token = StaticToken.objects.filter(device__user=user).first().token
    assert token not in client.get(reverse("accounts:two_factor")).content.decode()


def test_login_asks_for_the_code_and_refuses_a_wrong_one(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the right code may follow a wrong one at once
    user = UserFactory()
    device = with_device(user)
    response = log_in(client, user.username)
    assert response.status_code == 302 and response.url == reverse("accounts:login_code")
    assert not logged_in(client)
    assert "Enter your code" in client.get(reverse("accounts:login_code")).content.decode()

    response = give_code(client, wrong_code_for(device))
    assert response.status_code == 400 and WRONG in response.content.decode()
    assert not logged_in(client)

    response = give_code(client, code_for(device))
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("accounts:invitations")).status_code == 200


def test_a_code_cannot_be_used_twice(client):
    user = UserFactory()
    device = with_device(user)
    code = code_for(device)
    log_in(client, user.username)
    assert give_code(client, code).status_code == 302
    client.logout()
    log_in(client, user.username)
    response = give_code(client, code)
    assert response.status_code == 400 and not logged_in(client)


def test_the_login_goes_on_to_the_page_asked_for(client):
    user = UserFactory()
    device = with_device(user)
    log_in(client, user.username, next="/accounts/invitations/")
    assert give_code(client, code_for(device)).url == "/accounts/invitations/"


def test_the_code_page_without_a_password_first_goes_back_to_log_in(client):
    response = client.get(reverse("accounts:login_code"))
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    assert give_code(client, "123456").status_code == 302
    assert not logged_in(client)


def test_a_wrong_code_then_another_at_once_asks_to_wait(client):
    user = UserFactory()
    device = with_device(user)
    log_in(client, user.username)
    give_code(client, wrong_code_for(device))
    response = give_code(client, code_for(device))
    assert response.status_code == 400 and "wait" in response.content.decode()
    assert not logged_in(client)


def test_a_backup_code_logs_in_once(client):
    user = UserFactory()
    with_device(user)
    code = two_factor.new_backup_codes(user)[0]
    log_in(client, user.username)
    assert give_code(client, code.upper()).status_code == 302  # as typed from paper
    assert logged_in(client)
    client.logout()
    log_in(client, user.username)
    response = give_code(client, code)
    assert response.status_code == 400 and WRONG in response.content.decode()
    assert not logged_in(client)


@pytest.mark.parametrize("role", [Role.OWNER, Role.AUDITOR])
def test_the_setting_sends_an_owner_or_auditor_without_a_device_to_enroll(client, settings, role):
    settings.REQUIRE_TWO_FACTOR_ROLES = ["owner", "auditor"]
    membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("accounts:two_factor")
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200 and "requires two-factor" in page.content.decode()
    device = TOTPDevice.objects.get(user=membership.user)
    client.post(reverse("accounts:two_factor"), {"code": code_for(device)})
    assert client.get(reverse("accounts:invitations")).status_code == 200


def test_the_setting_does_not_force_a_viewer(client, settings):
    settings.REQUIRE_TWO_FACTOR_ROLES = ["owner", "auditor"]
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    assert client.get(reverse("accounts:invitations")).status_code == 200


def test_without_the_setting_an_owner_is_not_forced(client, settings):
    settings.REQUIRE_TWO_FACTOR_ROLES = []
    membership = MembershipFactory(role=Role.OWNER)
    client.force_login(membership.user)
    assert client.get(reverse("accounts:invitations")).status_code == 200


def logged_in_with_code(client, user, device):
    log_in(client, user.username)
    assert give_code(client, code_for(device)).status_code == 302


def test_turning_it_off_needs_a_code(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = UserFactory()
    device = with_device(user)
    logged_in_with_code(client, user, device)
    response = client.post(reverse("accounts:two_factor"), {"code": wrong_code_for(device)})
    assert response.status_code == 400 and two_factor.has_device(user)
    response = client.post(reverse("accounts:two_factor"), {"code": ""})
    assert response.status_code == 400 and two_factor.has_device(user)
    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device, 1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()


def test_repeated_wrong_codes_lock_the_log_in_like_wrong_passwords(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # each code is checked: axes alone counts them
    user = UserFactory()
    device = with_device(user)
    log_in(client, user.username)
    statuses = [give_code(client, wrong_code_for(device)).status_code for _ in range(5)]
    assert statuses[:4] == [400] * 4 and statuses[4] == 429
    response = give_code(client, code_for(device))  # the way back is the password again
    assert response.status_code == 302 and not logged_in(client)
    response = log_in(client, user.username)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not logged_in(client)


def test_a_session_made_without_the_code_is_sent_to_log_in_again(client):
    user = UserFactory()
    with_device(user)
    client.force_login(user)
    response = client.get(reverse("accounts:invitations"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert not logged_in(client)


def test_the_admin_login_asks_for_the_code(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    device = with_device(admin)
    response = log_in(client, admin.username, url=reverse("admin:login"))
    assert response.status_code == 302 and response.url == reverse("accounts:login_code")
    assert not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302
    response = give_code(client, code_for(device))
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_without_a_device_logs_in_with_the_password(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    response = log_in(client, admin.username, url=reverse("admin:login"))
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_refuses_a_staff_session_made_without_the_code(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    with_device(admin)
    client.force_login(admin)
    assert client.get(reverse("admin:index")).status_code == 302
    assert not logged_in(client)
