"""The subject's link: the ceremony's steps, its evidence, and every way the link refuses."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentGrant, LedgerEntry

pytestmark = pytest.mark.django_db


def url(name, token, *args):
    return reverse(f"consent:{name}", args=[token, *args])


def upload_clip(client, token, data: bytes, name="clip.webm"):
    return client.post(url("link_clip", token), {"clip": SimpleUploadedFile(name, data)})


def sign(client, grant, token, **overrides):
    data = {
        "typed_name": grant.subject.full_name,
        "document_sha256": grant.document_sha256,
        "agree": "on",
        **overrides,
    }
    return client.post(url("link_sign", token), data)


def events(grant):
    return list(LedgerEntry.objects.filter(grant_id=grant.pk).values_list("event", flat=True))


def test_a_member_invites_a_subject_with_reference_photo_and_voice(
    member_client, member, portrait_png, speech_wav
):
    from tests.factories import SubjectFactory

    subject = SubjectFactory(workspace=member.workspace, full_name="Eileen Collins")
    response = member_client.post(
        reverse("consent:invite_new", args=[subject.pk]),
        {
            "document": services.ConsentDocument.standard().pk,
            "purposes": ["training"],
            "languages": ["en", "fr"],
            "channels": ["intranet", "email"],
            "territory": "European Union",
            "valid_from": "2026-01-01 00:00",
            "valid_until": "2030-01-01 00:00",
            "forbidden_topics": "politics, religion\ngambling",
            "requires_script_approval": "on",
            "compensation": "A flat fee of 800 EUR.",
            "reference_portrait": SimpleUploadedFile("eileen.png", portrait_png),
            "reference_voice": SimpleUploadedFile("eileen.wav", speech_wav),
        },
    )
    assert response.status_code == 200
    grant = ConsentGrant.objects.get(subject=subject)
    link = response.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert grant.invite_token_hash == services.token_hash(token) != token
    assert grant.status == ConsentGrant.Status.PENDING
    assert grant.forbidden_topics == ["politics", "religion", "gambling"]
    assert grant.languages == ["en", "fr"] and grant.requires_script_approval
    assert grant.reference_portrait and grant.reference_voice and grant.challenge_text
    assert events(grant) == ["invited"]


def test_an_invitation_refuses_a_reference_photo_without_a_face(
    member_client, member, no_face_png, speech_wav
):
    from tests.factories import SubjectFactory

    subject = SubjectFactory(workspace=member.workspace)
    response = member_client.post(
        reverse("consent:invite_new", args=[subject.pk]),
        {
            "document": services.ConsentDocument.standard().pk,
            "purposes": ["training"],
            "languages": ["en"],
            "territory": "Worldwide",
            "valid_from": "2026-01-01 00:00",
            "valid_until": "2030-01-01 00:00",
            "reference_portrait": SimpleUploadedFile("sky.png", no_face_png),
            "reference_voice": SimpleUploadedFile("voice.wav", speech_wav),
        },
    )
    assert response.status_code == 400
    assert "face" in str(response.context["form"].errors["reference_portrait"]).lower()
    assert not ConsentGrant.objects.exists()


def test_the_link_shows_the_document_its_hash_and_the_challenge_and_records_the_view(
    client, invite
):
    grant, token = invite()
    response = client.get(url("link_home", token), HTTP_USER_AGENT="Firefox 140")
    assert response.status_code == 200
    page = response.content.decode()
    assert grant.document_sha256 in page and grant.challenge_text in page
    assert "no-store" in response["Cache-Control"]
    client.get(url("link_home", token))
    viewed = LedgerEntry.objects.filter(grant_id=grant.pk, event="viewed")
    assert viewed.count() == 1  # the first view only
    assert viewed.get().payload["user_agent"] == "Firefox 140"


def test_a_tampered_token_is_refused_with_a_clear_message(client, invite):
    _grant, token = invite()
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(url("link_home", altered))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_expired_invitation_says_so(client, invite):
    grant, token = invite()
    ConsentGrant.objects.filter(pk=grant.pk).update(
        invite_expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(url("link_home", token))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert upload_clip(client, token, b"x").status_code == 410
    assert events(grant) == ["invited"]


def test_an_oversized_clip_is_refused_and_nothing_is_kept(client, invite, settings):
    settings.CONSENT_MAX_CLIP_BYTES = 1000
    grant, token = invite()
    response = upload_clip(client, token, b"\x1a\x45\xdf\xa3" + b"0" * 2000)
    assert response.status_code == 400
    assert "the limit is" in response.json()["error"]
    grant.refresh_from_db()
    assert not grant.consent_clip and "recorded" not in events(grant)


def test_a_corrupt_clip_is_refused(client, invite):
    grant, token = invite()
    response = upload_clip(client, token, b"\x1a\x45\xdf\xa3 not really a webm file " * 50)
    assert response.status_code == 400
    assert "cannot be played" in response.json()["error"]
    grant.refresh_from_db()
    assert not grant.consent_clip


def test_a_silent_clip_is_refused(client, invite, clip_maker, astronaut_rgb):
    grant, token = invite()
    response = upload_clip(client, token, clip_maker(None, astronaut_rgb, seconds=3))
    assert response.status_code == 400
    assert "No voice was heard" in response.json()["error"]
    grant.refresh_from_db()
    assert not grant.consent_clip


def test_a_clip_with_no_face_is_refused(client, invite, clip_maker):
    import numpy as np

    grant, token = invite()
    wall = np.full((480, 640, 3), 120, dtype=np.uint8)
    response = upload_clip(client, token, clip_maker(grant.challenge_text, wall))
    assert response.status_code == 400
    assert "No face was seen" in response.json()["error"]
    grant.refresh_from_db()
    assert not grant.consent_clip


def test_signing_without_a_clip_is_refused(client, invite):
    grant, token = invite()
    response = sign(client, grant, token)
    assert response.status_code == 400
    assert "Record the consent clip before signing" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.PENDING and grant.signed_at is None


def _clip_and_sign(client, grant, token, clip: bytes, **overrides):
    assert upload_clip(client, token, clip).status_code == 200
    return sign(client, grant, token, **overrides)


def test_an_altered_document_hash_is_refused_and_nothing_is_signed(
    client, invite, clip_maker, astronaut_rgb
):
    grant, token = invite()
    response = _clip_and_sign(
        client,
        grant,
        token,
        clip_maker(grant.challenge_text, astronaut_rgb),
        document_sha256="0" * 64,
    )
    assert response.status_code == 400
    assert "not the one on file" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.PENDING and grant.signed_at is None
    assert "signed" not in events(grant)


def test_a_wrong_name_or_no_agreement_is_refused(client, invite, clip_maker, astronaut_rgb):
    grant, token = invite()
    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    response = _clip_and_sign(client, grant, token, clip, typed_name="Someone Else")
    assert response.status_code == 400 and "Type your full name" in response.content.decode()
    response = sign(client, grant, token, agree="")
    assert response.status_code == 400 and "I agree" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.PENDING


def test_a_drawn_signature_must_be_a_png(client, invite, clip_maker, astronaut_rgb):
    grant, token = invite()
    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    response = _clip_and_sign(
        client, grant, token, clip, drawn_signature="data:image/png;base64,bm90IGEgcG5n"
    )
    assert response.status_code == 400 and "not a PNG" in response.content.decode()


def test_the_ceremony_keeps_its_evidence_and_queues_verification(
    client, invite, clip_maker, astronaut_rgb, django_capture_on_commit_callbacks, monkeypatch
):
    import base64
    import hashlib
    import io

    from PIL import Image

    queued = []
    monkeypatch.setattr(services, "enqueue_verification", queued.append)
    grant, token = invite()
    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    client.get(url("link_home", token))
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(png, format="PNG")
    with django_capture_on_commit_callbacks(execute=True):
        response = _clip_and_sign(
            client,
            grant,
            token,
            clip,
            drawn_signature="data:image/png;base64," + base64.b64encode(png.getvalue()).decode(),
            HTTP_USER_AGENT="Chromium test",
        )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.VERIFYING
    assert grant.clip_sha256 == hashlib.sha256(clip).hexdigest()
    assert grant.signature_kind == "drawn"
    assert grant.signature_sha256 == hashlib.sha256(png.getvalue()).hexdigest()
    assert grant.signer_ip == "127.0.0.1"
    assert queued == [grant.pk]
    assert events(grant) == ["invited", "viewed", "recorded", "signed"]
    signed = LedgerEntry.objects.get(grant_id=grant.pk, event="signed").payload
    assert signed["document_sha256"] == grant.document_sha256
    assert signed["clip_sha256"] == grant.clip_sha256


def test_the_link_cannot_sign_twice(client, invite, clip_maker, astronaut_rgb, monkeypatch):
    monkeypatch.setattr(services, "enqueue_verification", lambda grant_id: None)
    grant, token = invite()
    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    assert _clip_and_sign(client, grant, token, clip).status_code == 302
    again = sign(client, grant, token)
    assert again.status_code == 409
    assert "already signed" in again.content.decode()
    assert upload_clip(client, token, clip).status_code == 409
    assert events(grant).count("signed") == 1
    # The link now opens the subject's portal.
    assert client.get(url("link_home", token)).templates[0].name == "consent/portal.html"
