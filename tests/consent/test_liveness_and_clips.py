"""A photo cannot sign, and no clip can hold a worker: the tester's cases 6 and 7.

Each take of the ceremony gets a random live challenge; verification checks that the mouth follows
the voice on every frame and that the subject blinked when asked, in a process with a time limit.
"""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from consent import services, verification
from consent.models import ConsentError, ConsentGrant, LedgerEntry
from tests.consent.test_verification import SUBJECT, signed_with_clip
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def verified(grant) -> tuple[str, object]:
    status = verification.run_verification(grant.pk)
    return status, grant.verifications.first()


def test_each_take_gets_its_own_challenge_and_the_clip_keeps_the_one_it_was_recorded_under(
    client, invite, clip_maker, astronaut_rgb
):
    grant, token = invite()
    first = client.post(reverse("consent:link_challenge", args=[token])).json()
    assert first["kind"] == "blink" and first["prompt"] == "Blink now"
    assert 1.0 <= first["at_seconds"] <= 5.0
    second = client.post(reverse("consent:link_challenge", args=[token])).json()
    grant.refresh_from_db()
    assert grant.pending_liveness_challenge == {k: second[k] for k in ("kind", "at_seconds")}

    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    response = client.post(
        reverse("consent:link_clip", args=[token]), {"clip": SimpleUploadedFile("c.webm", clip)}
    )
    assert response.status_code == 200, response.json()
    grant.refresh_from_db()
    assert grant.liveness_challenge == {"kind": "blink", "at_seconds": second["at_seconds"]}
    assert grant.pending_liveness_challenge == {}  # a challenge answers one take only
    recorded = LedgerEntry.objects.get(grant_id=grant.pk, event="recorded")
    assert recorded.payload["liveness_challenge"]["at_seconds"] == second["at_seconds"]


def test_a_still_photo_reading_the_sentence_needs_review_with_the_reason(invite, take, monkeypatch):
    grant, _ = signed_with_clip(invite, lambda g: take(g, mode="still"), monkeypatch)
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert check.liveness["challenge_passed"] is False
    assert check.liveness["lip_sync_correlation"] is None or (
        check.liveness["lip_sync_correlation"]
        < check.liveness["thresholds"]["min_lip_sync_correlation"]
    )
    assert any("mouth" in reason for reason in check.reasons), check.reasons
    verified_entry = LedgerEntry.objects.get(grant_id=grant.pk, event="verified")
    assert verified_entry.payload["passed"] is False


def test_a_photo_moved_by_hand_needs_review(invite, take, monkeypatch):
    grant, _ = signed_with_clip(invite, lambda g: take(g, mode="hand_moved"), monkeypatch)
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert any("mouth" in reason for reason in check.reasons), check.reasons


def test_no_blink_when_asked_needs_review(invite, take, monkeypatch):
    grant, _ = signed_with_clip(invite, lambda g: take(g, blink_at=None), monkeypatch)
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert check.liveness["challenge_passed"] is False
    assert any("blink" in reason.casefold() for reason in check.reasons), check.reasons


def test_a_replay_of_an_earlier_ceremony_needs_review(invite, take, monkeypatch):
    """The clip of another ceremony: its sentence and its blink were for that ceremony."""
    earlier, _ = invite()
    earlier_clip = take(earlier)
    grant, _ = signed_with_clip(invite, lambda g: earlier_clip, monkeypatch)
    assert grant.challenge_text != earlier.challenge_text
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert any("The sentence was not heard" in r for r in check.reasons), check.reasons


def test_a_clip_uploaded_without_the_recorder_needs_review(
    invite, live_clips, sentence_wav, astronaut_rgb, monkeypatch
):
    """No challenge was issued (a file upload): a live-looking clip still awaits a person."""

    def uploaded_file(grant):
        wav = sentence_wav(grant.challenge_text)
        return live_clips.make(wav, astronaut_rgb, blink_at=2.0).read_bytes()

    grant, _ = signed_with_clip(invite, uploaded_file, monkeypatch)
    assert grant.liveness_challenge == {}
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert any("without the recording page" in r for r in check.reasons), check.reasons


@pytest.fixture(scope="module")
def hour_long_clip(tmp_path_factory) -> bytes:
    """One hour of a tiny picture and silence: a small file whose decoding would take minutes."""
    out = tmp_path_factory.mktemp("long") / "hour.webm"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "color=c=gray:s=16x16:r=1",
            "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",
            "-t", "3600", "-c:v", "libvpx", "-b:v", "1k", "-c:a", "libopus", "-b:a", "6k",
            str(out),
        ],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


def test_an_hour_long_clip_is_refused_from_its_container_and_nothing_is_kept(
    invite, hour_long_clip
):
    grant, _ = invite()
    with pytest.raises(ConsentError, match="limit is 30 s"):
        services.attach_clip(grant, SimpleUploadedFile("clip.webm", hour_long_clip), SUBJECT)
    grant.refresh_from_db()
    assert not grant.consent_clip and not grant.clip_sha256
    assert not LedgerEntry.objects.filter(grant_id=grant.pk, event="recorded").exists()


def test_a_retake_with_a_long_name_replaces_the_clip_only_once_stored(
    invite, clip_maker, astronaut_rgb, drawn_face_rgb, django_capture_on_commit_callbacks
):
    grant, _ = invite()
    clip = clip_maker(grant.challenge_text, astronaut_rgb)
    first = services.attach_clip(grant, SimpleUploadedFile("clip.webm", clip), SUBJECT)
    first_name, storage = first.consent_clip.name, first.consent_clip.storage

    # A re-take that fails its checks changes nothing: the first clip stays, on file and on disk.
    with pytest.raises(ConsentError):
        services.attach_clip(grant, SimpleUploadedFile("clip.webm", b"not a video"), SUBJECT)
    grant.refresh_from_db()
    assert grant.consent_clip.name == first_name and storage.exists(first_name)

    long_name = "take-" + "x" * 240 + ".webm"
    retake = clip_maker(grant.challenge_text, drawn_face_rgb)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.attach_clip(grant, SimpleUploadedFile(long_name, retake), SUBJECT)
    assert second.consent_clip.name != first_name and storage.exists(second.consent_clip.name)
    assert not storage.exists(first_name)  # the replaced clip goes once the new one is on file
    assert second.clip_sha256 != first.clip_sha256


def test_a_verification_over_its_time_limit_awaits_review_and_an_auditor_can_run_it_again(
    client, member, invite, take, settings, monkeypatch, django_capture_on_commit_callbacks
):
    grant, _ = signed_with_clip(invite, take, monkeypatch)
    settings.CONSENT_VERIFY_TIMEOUT_SECONDS = 1  # the check's own start-up takes longer
    status, check = verified(grant)
    assert status == ConsentGrant.Status.NEEDS_REVIEW
    assert check.reasons == [
        "The automatic check did not finish within 1 s; a person must review it."
    ]

    settings.CONSENT_VERIFY_TIMEOUT_SECONDS = 300
    ran = []
    monkeypatch.setattr(services, "enqueue_verification", ran.append)
    editor = MembershipFactory(workspace=member.workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    url = reverse("consent:grant_reverify", args=[grant.pk])
    assert client.post(url).status_code == 403
    auditor = MembershipFactory(workspace=member.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert ran == [grant.pk]
    grant.refresh_from_db()
    assert grant.status == ConsentGrant.Status.VERIFYING
    assert LedgerEntry.objects.filter(grant_id=grant.pk, event="reverification_requested").exists()
    assert verification.run_verification(grant.pk) == ConsentGrant.Status.ACTIVE


def low_rate_wav(seconds: int, rate: int) -> bytes:
    import io
    import wave

    import numpy as np

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        noise = np.random.default_rng(5).normal(0, 8000, seconds * rate).astype("<i2")
        wav.writeframes(noise.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("wav", "message"),
    [
        (lambda: low_rate_wav(20_000, 1), "limit is 600 s"),
        (lambda: low_rate_wav(30, 4_000), "at least 8000 Hz"),
    ],
    ids=["20000-s-at-1-Hz", "30-s-at-4-kHz"],
)
def test_an_invitation_refuses_a_reference_voice_out_of_bounds(
    member_client, member, portrait_png, wav, message
):
    from consent.models import ConsentDocument
    from tests.factories import SubjectFactory

    subject = SubjectFactory(workspace=member.workspace, full_name="Eileen Collins")
    response = member_client.post(
        reverse("consent:invite_new", args=[subject.pk]),
        {
            "document": ConsentDocument.standard().pk,
            "purposes": ["training"],
            "languages": ["en"],
            "territory": "Worldwide",
            "valid_from": "2026-01-01 00:00",
            "valid_until": "2030-01-01 00:00",
            "reference_portrait": SimpleUploadedFile("eileen.png", portrait_png),
            "reference_voice": SimpleUploadedFile("eileen.wav", wav()),
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["reference_voice"]
    assert any(message in error for error in errors), errors
    assert not ConsentGrant.objects.filter(subject=subject).exists()
