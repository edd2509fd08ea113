"""People hear of the same events by email: sent through a real SMTP server the test starts."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from api import events, webhooks
from api.models import WebhookEndpoint
from consent.models import ConsentGrant
from tests.factories import SubjectFactory, finished_video

pytestmark = pytest.mark.django_db

BIOMETRIC_WORDS = ("landmark", "embedding", "similarity", "distance", "voice sample", "portrait")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield inbox
    controller.stop()


@pytest.fixture
def avatar(make_avatar, workspace):
    return make_avatar(grant__subject=SubjectFactory(workspace=workspace))


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "every email has a plain-text part"
    return part.get_content()


def _assert_no_biometrics(text: str) -> None:
    assert not [word for word in BIOMETRIC_WORDS if word in text.lower()]


def test_a_finished_render_is_emailed_to_the_owners(smtp, avatar, owner):
    job = finished_video(avatar).job
    events.render_finished(job.pk)
    [(to, message)] = smtp.messages
    assert to == [owner.user.email]
    assert f"Render #{job.pk} is ready" in message["Subject"]
    _assert_no_biometrics(_text(message))


def test_a_revoked_consent_is_emailed(smtp, avatar, owner):
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(status="revoked")
    events.consent_revoked(avatar.grant_id)
    [(_to, message)] = smtp.messages
    assert "revoked" in message["Subject"]
    text = _text(message)
    assert "Take down" in text
    _assert_no_biometrics(text)


def test_an_expiring_consent_is_emailed(smtp, avatar):
    from datetime import timedelta

    from django.utils import timezone

    ConsentGrant.objects.filter(pk=avatar.grant_id).update(
        valid_until=timezone.now() + timedelta(days=2)
    )
    events.announce_expiring()
    [(_to, message)] = smtp.messages
    assert "expires soon" in message["Subject"]
    _assert_no_biometrics(_text(message))


def test_a_disabled_endpoint_is_emailed(smtp, avatar, receiver, workspace):
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=receiver.url, events=["render.succeeded"]
    )
    receiver.answers = [410]
    delivery = webhooks.send_test_event(endpoint)
    webhooks.attempt(delivery.pk)
    [(_to, message)] = smtp.messages
    assert "disabled" in message["Subject"]
    assert receiver.url in _text(message)


def test_a_down_smtp_server_does_not_undo_the_event(settings, avatar):
    from api.models import WebhookMessage

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    events.render_finished(finished_video(avatar).job.pk)
    assert WebhookMessage.objects.filter(event="render.succeeded").exists()


def test_an_activated_consent_is_an_event(django_capture_on_commit_callbacks, avatar, workspace):
    from api.models import WebhookMessage
    from consent import ledger

    with django_capture_on_commit_callbacks(execute=True):
        ledger.append(ledger.Event.VERIFIED, grant=avatar.grant, passed=True)
    message = WebhookMessage.objects.get(event="consent.activated")
    assert message.payload["consent_grant"]["id"] == avatar.grant_id
    with django_capture_on_commit_callbacks(execute=True):
        ledger.append(ledger.Event.REVIEWED, grant=avatar.grant, decision="approved")
    assert WebhookMessage.objects.filter(event="consent.activated").count() == 1


def test_the_subjects_invitation_link_is_emailed_with_the_members_message(
    smtp, client, owner, portrait_png, speech_wav
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from consent.models import ConsentDocument

    subject = SubjectFactory(workspace=owner.workspace, email="eileen@example.com")
    client.force_login(owner.user)
    response = client.post(
        reverse("consent:invite_new", args=[subject.pk]),
        {
            "document": ConsentDocument.standard().pk,
            "purposes": ["training"],
            "languages": ["en"],
            "channels": ["intranet"],
            "territory": "Worldwide",
            "valid_from": "2026-01-01 00:00",
            "valid_until": "2030-01-01 00:00",
            "reference_portrait": SimpleUploadedFile("e.png", portrait_png),
            "reference_voice": SimpleUploadedFile("e.wav", speech_wav),
            "email_link": "on",
            "message": "Thanks for presenting our safety course!",
        },
    )
    assert response.status_code == 200 and response.context["emailed"] is True
    [(to, message)] = smtp.messages
    assert to == ["eileen@example.com"]
    text = _text(message)
    assert response.context["link"] in text
    assert "Thanks for presenting our safety course!" in text
    _assert_no_biometrics(text)


def test_the_same_event_twice_is_one_email(smtp, avatar):
    job = finished_video(avatar).job
    events.render_finished(job.pk)
    events.render_finished(job.pk)
    assert len(smtp.messages) == 1
