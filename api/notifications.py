"""The same events, told to people by email through Django's email backend (console by default,
SMTP by settings). Plain text; no face, voice or biometric detail in any message."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage

from accounts.models import Membership, Role

log = logging.getLogger(__name__)


def _owners(workspace_id: int, *, also=None) -> list[str]:
    members = Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER)
    emails = {m.user.email for m in members.select_related("user") if m.user.email}
    if also is not None and getattr(also, "email", ""):
        emails.add(also.email)
    return sorted(emails)


def _send(subject: str, body: str, recipients: list[str]) -> int:
    if not recipients:
        return 0
    footer = f"\n\n— {settings.SITE_NAME}. Every video made here is labelled as AI-generated."
    sent = 0
    for to in recipients:  # one message each: recipients never see one another's address
        message = EmailMessage(
            f"[{settings.SITE_NAME}] {subject}", body + footer, settings.DEFAULT_FROM_EMAIL, [to]
        )
        try:
            sent += message.send()
        except OSError:  # an SMTP server that is down must not undo the event it tells of
            log.exception("Could not send “%s”", subject)
    return sent


def render_finished(job) -> int:
    if job.part_of:  # a campaign's or lesson's video: its completion is the news
        return 0
    if job.status == "succeeded":
        subject = f"Render #{job.pk} is ready"
        body = f"Render #{job.pk} (“{job.script.title}”) has finished and its video is ready."
    else:
        subject = f"Render #{job.pk} failed"
        body = f"Render #{job.pk} (“{job.script.title}”) failed: {job.error}"
    return _send(subject, body, _owners(job.workspace_id, also=job.created_by))


def campaign_completed(campaign, counts: dict) -> int:
    body = (
        f"Every video of the campaign “{campaign.name}” has finished: {counts['done']} ready, "
        f"{counts['failed']} failed, {counts['cancelled']} cancelled, {counts['refused']} refused."
    )
    recipients = _owners(campaign.workspace_id, also=campaign.created_by)
    return _send(f"Campaign “{campaign.name}” is complete", body, recipients)


def consent_revoked(grant) -> int:
    body = (
        f"{grant.subject.full_name} revoked consent #{grant.pk}. Pending renders were cancelled, "
        "its avatars are disabled and its share pages are gone. Take down any copy of its "
        "videos published elsewhere."
    )
    return _send(f"Consent #{grant.pk} was revoked", body, _owners(grant.workspace_id))


def consent_expiring(grant) -> int:
    body = (
        f"Consent #{grant.pk} of {grant.subject.full_name} runs out on "
        f"{grant.valid_until:%Y-%m-%d}. After that its avatars cannot render and its videos "
        "are withdrawn, unless the subject signs a new consent."
    )
    return _send(f"Consent #{grant.pk} expires soon", body, _owners(grant.workspace_id))


def endpoint_disabled(endpoint) -> int:
    body = (
        f"The webhook endpoint {endpoint.url} answered 410 Gone and was disabled: it receives "
        "no more events until an owner enables it again."
    )
    return _send("A webhook endpoint was disabled", body, _owners(endpoint.workspace_id))
