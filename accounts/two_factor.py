"""Two-factor log-in with a TOTP authenticator app (django-otp), and one-time backup codes.

A user turns it on from the Two-factor page (enroll, then confirm with a code); a role listed in
REQUIRE_TWO_FACTOR_ROLES must turn it on before anything else. At log-in, a user with a device
gives a code after the password; wrong codes count as failed log-ins (django-axes), so they lock
the account and the address like wrong passwords do."""

from __future__ import annotations

import io
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership

BACKUP_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


class CodeRefused(Exception):
    """A wrong or reused code; the message says what to do."""


class CodeThrottled(CodeRefused):
    """Too many wrong codes in a row: the device waits before it checks another one."""


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_required(user) -> bool:
    """True when one of the user's roles (in any workspace) is in REQUIRE_TWO_FACTOR_ROLES."""
    roles = settings.REQUIRE_TWO_FACTOR_ROLES
    return bool(roles) and Membership.objects.filter(user=user, role__in=roles).exists()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (one per user; a new secret only when none waits)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def qr_svg(text: str) -> bytes:
    """The text as a QR code, an SVG document drawn with paths (no script, no inline style)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _wait_message(device) -> str | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    until = data.get("locked_until") if data else None
    seconds = max(1, int((until.timestamp() - time.time()) + 0.999)) if until else 1
    plural = "s" * (seconds != 1)
    return f"Too many wrong codes in a row: wait {seconds} second{plural}, then try again."


def verify(user, code: str):
    """The device that accepts the code (the app's 6 digits, or a backup code, used up here).

    Raises CodeRefused with a message a person can act on."""
    code = _normalize(code or "")
    with transaction.atomic():
        if code.isdigit() and len(code) in (6, 8):
            devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
        else:
            devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices:
            if wait := _wait_message(device):
                raise CodeThrottled(wait)
            if device.verify_token(code):
                return device
    raise CodeRefused(
        "That code is not right. Enter the 6-digit code your authenticator app shows now, "
        "or one of your backup codes."
    )


def count_wrong_code(request, user) -> None:
    """A wrong code counts as a failed log-in for this username and address (django-axes)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


@transaction.atomic
def confirm(device: TOTPDevice, code: str) -> list[str]:
    """Confirm an enrolling device with its first code; returns fresh backup codes (shown once)."""
    if wait := _wait_message(device):
        raise CodeThrottled(wait)
    if not device.verify_token(_normalize(code or "")):
        raise CodeRefused(
            "That code is not right. Check the time on your phone and enter the code the app "
            "shows now."
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_backup_codes(device.user)


@transaction.atomic
def new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return codes


@transaction.atomic
def turn_off(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
