"""The subject's invitation by email: the link (a key to their consent) and the member's message.
Plain text; sent through Django's default mailer (console unless EMAIL_HOST is set)."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage

log = logging.getLogger(__name__)


def send_subject_link(grant, link: str, *, message: str, by) -> bool:
    """Email the subject their link; False (logged) when the mail server refused or is down, so
    the member can still copy the link from the page."""
    subject = grant.subject
    inviter = by.get_full_name() or by.username
    lines = [
        f"Hello {subject.full_name},",
        "",
        f"{inviter} of {grant.workspace} asks for your consent to make videos with your "
        "likeness (a synthetic presenter that looks and sounds like you, always labelled as "
        "AI-generated).",
    ]
    if message.strip():
        lines += ["", f"Their message: {message.strip()}"]
    lines += [
        "",
        "Read exactly what you would agree to, and decide, on this private link (no account "
        f"needed; it works for signing until {grant.invite_expires_at:%Y-%m-%d %H:%M} UTC):",
        link,
        "",
        "The same link later shows every video made with your likeness, and lets you withdraw "
        "your consent at any time. Keep it private: it is your key to your consent.",
        "",
        f"— {settings.SITE_NAME}",
    ]
    email = EmailMessage(
        f"{inviter} asks for your consent on {settings.SITE_NAME}",
        "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        [subject.email],
    )
    try:
        return email.send() == 1
    except OSError:
        log.exception("Could not email the invitation of consent %s", grant.pk)
        return False
