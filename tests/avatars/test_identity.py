"""The avatar is the consenting person: enrollment compares the portrait and the voice sample with
the consent's reference photo, reference voice and verified clip (the measures and thresholds of
consent verification). A mismatch is refused with its scores, or held for an owner's or auditor's
review with a written reason; every decision is in the consent ledger."""

import html
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from avatars.models import Avatar
from consent.ledger import Event
from consent.models import ConsentVerification, LedgerEntry, Purpose
from rendering import services as rendering_services
from tests.conftest import wav_bytes
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory
from tests.media import write_webm
from tests.voice_media import ENROLL_SENTENCES, sentences

pytestmark = pytest.mark.django_db

FACE_DISTANCE = re.compile(
    r"The portrait does not match the consenting person: face distance (\d\.\d\d) is above 0\.60"
)
VOICE_SIMILARITY = re.compile(
    r"The voice sample does not match the consenting person: voice similarity (-?\d\.\d\d) is "
    r"below 0\.75"
)


@pytest.fixture(scope="session")
def drawn_face_png(tmp_path_factory) -> bytes:
    """The engine's drawn demo presenter: a face dlib finds, but not the astronaut's."""
    from engine.demo import write_demo_assets

    assets = write_demo_assets(tmp_path_factory.mktemp("demo"))
    return Path(assets.portrait_path).read_bytes()


@pytest.fixture(scope="session")
def subject_voice_wav() -> bytes:
    """The consenting person's voice (festival slt, as the reference), other sentences."""
    return wav_bytes(sentences("slt", ENROLL_SENTENCES[:4]))


@pytest.fixture(scope="session")
def other_voice_wav() -> bytes:
    """Another person's voice: flite's awb (a CMU ARCTIC male speaker)."""
    return wav_bytes(sentences("awb", ENROLL_SENTENCES[:4]))


@pytest.fixture
def grant(member, portrait_png, speech_wav):
    """A signed consent with the astronaut's photo and festival's voice as its references."""
    return GrantFactory(
        subject=SubjectFactory(workspace=member.workspace, full_name="Eileen Collins"),
        reference_portrait=ContentFile(portrait_png, name="eileen.png"),
        reference_voice=ContentFile(speech_wav, name="eileen.wav"),
    )


def enroll(client, grant, portrait: bytes, voice: bytes, **extra):
    return client.post(
        reverse("avatars:avatar_new"),
        {
            "name": "Presenter",
            "grant": grant.pk,
            "portrait": SimpleUploadedFile("face.png", portrait),
            "voice_sample": SimpleUploadedFile("voice.wav", voice),
            **extra,
        },
    )


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def identity_entries(grant) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(grant_id=grant.pk, event=Event.AVATAR_IDENTITY_CHECKED))


def mirrored(png: bytes) -> bytes:
    """The same person in another picture: the portrait flipped left to right."""
    import io

    image = Image.open(io.BytesIO(png)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_consenting_person_is_enrolled_active_with_the_scores_in_the_ledger(
    member_client, grant, portrait_png, subject_voice_wav
):
    response = enroll(member_client, grant, mirrored(portrait_png), subject_voice_wav)
    assert response.status_code == 302, page_text(response)[:3000]
    avatar = Avatar.objects.get()
    assert avatar.status == Avatar.Status.ACTIVE and avatar.is_enabled
    check = avatar.identity_checks
    assert check["passed"] and check["reasons"] == []
    assert check["face_distance"] < 0.6 and check["voice_similarity"] > 0.75
    assert [c["reference"] for c in check["face"]] == ["reference photo"]
    assert [c["reference"] for c in check["voice"]] == ["reference voice"]
    [entry] = identity_entries(grant)
    assert entry.payload["outcome"] == "passed" and entry.payload["avatar"] == avatar.pk
    assert entry.payload["face_distance"] == check["face_distance"]
    assert entry.payload["thresholds"] == {"max_face_distance": 0.6, "min_voice_similarity": 0.75}
    assert avatar.render_decision(purpose=Purpose.INTERNAL, at=timezone.now())
    page = page_text(member_client.get(response.url))
    assert "Face vs the reference photo: distance" in page and "matched" in page


def test_another_face_is_refused_with_its_face_distance(
    member_client, grant, drawn_face_png, subject_voice_wav, media_root
):
    response = enroll(member_client, grant, drawn_face_png, subject_voice_wav)
    assert response.status_code == 400
    text = page_text(response)
    distance = float(FACE_DISTANCE.search(text)[1])
    assert distance > 0.6
    assert "hold for review" in text
    assert not Avatar.objects.exists()
    assert not [p for p in (media_root / "avatars").rglob("*") if p.is_file()]
    [entry] = identity_entries(grant)
    assert entry.payload["outcome"] == "refused" and entry.payload["avatar"] is None
    assert entry.payload["face_distance"] == pytest.approx(distance, abs=0.006)
    assert entry.payload["user"] == grant.workspace.memberships.get().user.username


def test_another_voice_is_refused_with_its_voice_similarity(
    member_client, grant, portrait_png, other_voice_wav
):
    response = enroll(member_client, grant, mirrored(portrait_png), other_voice_wav)
    assert response.status_code == 400
    text = page_text(response)
    assert float(VOICE_SIMILARITY.search(text)[1]) < 0.75
    assert not FACE_DISTANCE.search(text)
    assert not Avatar.objects.exists()
    assert identity_entries(grant)[0].payload["outcome"] == "refused"


def test_holding_for_review_needs_a_written_reason(
    member_client, grant, drawn_face_png, subject_voice_wav
):
    response = enroll(member_client, grant, drawn_face_png, subject_voice_wav, hold_for_review="on")
    assert response.status_code == 400
    assert "Say why this avatar should be reviewed." in page_text(response)
    assert not Avatar.objects.exists()


def held_avatar(client, grant, portrait, voice) -> Avatar:
    response = enroll(
        client,
        grant,
        portrait,
        voice,
        hold_for_review="on",
        hold_reason="Her photo from the 1990s; she asked us to use it.",
    )
    assert response.status_code == 302, page_text(response)[:3000]
    return Avatar.objects.get()


def test_a_held_avatar_cannot_render_until_an_auditor_approves_it(
    member_client, client, member, grant, drawn_face_png, other_voice_wav
):
    avatar = held_avatar(member_client, grant, drawn_face_png, other_voice_wav)
    assert avatar.status == Avatar.Status.HELD and not avatar.is_enabled
    assert not avatar.identity_checks["passed"] and len(avatar.identity_checks["reasons"]) == 2
    [held] = identity_entries(grant)
    assert held.payload["outcome"] == "held"
    assert held.payload["hold_reason"] == "Her photo from the 1990s; she asked us to use it."

    decision = avatar.render_decision(purpose=Purpose.INTERNAL, at=timezone.now())
    assert not decision and "held for identity review" in decision.reason
    script = ScriptFactory(workspace=grant.workspace)
    with pytest.raises(rendering_services.RenderRefused, match="held for identity review"):
        rendering_services.submit_render(
            workspace=grant.workspace,
            user=member.user,
            avatar=avatar,
            script=script,
            purpose=Purpose.INTERNAL,
        )
    page = page_text(member_client.get(reverse("avatars:avatar_detail", args=[avatar.pk])))
    assert "held for identity review" in page and "face distance" in page

    auditor = MembershipFactory(workspace=grant.workspace, role=Role.AUDITOR)
    client.force_login(auditor.user)
    review = reverse("avatars:avatar_review", args=[avatar.pk])
    assert client.post(review, {"decision": "approve", "reason": ""}).status_code == 302
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.HELD  # no reason, no decision
    client.post(review, {"decision": "approve", "reason": "Compared with her ID in person."})
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.ACTIVE and avatar.reviewed_by == auditor.user
    assert avatar.render_decision(purpose=Purpose.INTERNAL, at=timezone.now())
    [reviewed] = LedgerEntry.objects.filter(grant_id=grant.pk, event=Event.AVATAR_REVIEWED)
    assert reviewed.payload == {
        "avatar": avatar.pk,
        "decision": "approved",
        "reason": "Compared with her ID in person.",
        "user": auditor.user.username,
        "face_distance": avatar.identity_checks["face_distance"],
        "voice_similarity": avatar.identity_checks["voice_similarity"],
    }


def test_a_rejected_avatar_never_renders(member_client, grant, drawn_face_png, other_voice_wav):
    avatar = held_avatar(member_client, grant, drawn_face_png, other_voice_wav)
    member_client.post(
        reverse("avatars:avatar_review", args=[avatar.pk]),
        {"decision": "reject", "reason": "Not her."},
    )
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.REJECTED
    decision = avatar.render_decision(purpose=Purpose.INTERNAL, at=timezone.now())
    assert not decision and "rejected at identity review: Not her." in decision.reason
    # Decided for good: a second review changes nothing.
    member_client.post(
        reverse("avatars:avatar_review", args=[avatar.pk]),
        {"decision": "approve", "reason": "Changed my mind."},
    )
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.REJECTED


def test_the_member_who_enrolled_a_held_avatar_cannot_approve_it(
    member_client, grant, drawn_face_png, other_voice_wav
):
    avatar = held_avatar(member_client, grant, drawn_face_png, other_voice_wav)  # by the owner
    response = member_client.post(
        reverse("avatars:avatar_review", args=[avatar.pk]),
        {"decision": "approve", "reason": "Trust me."},
        follow=True,
    )
    assert "another owner or auditor must approve it" in page_text(response)
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.HELD
    assert not LedgerEntry.objects.filter(event=Event.AVATAR_REVIEWED).exists()


def test_only_owners_and_auditors_review_held_avatars(
    member_client, client, grant, drawn_face_png, other_voice_wav
):
    avatar = held_avatar(member_client, grant, drawn_face_png, other_voice_wav)
    editor = MembershipFactory(workspace=grant.workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    page = client.get(reverse("avatars:avatar_detail", args=[avatar.pk])).content.decode()
    assert "avatar-review-form" not in page
    response = client.post(
        reverse("avatars:avatar_review", args=[avatar.pk]),
        {"decision": "approve", "reason": "Looks fine to me."},
    )
    assert response.status_code == 403
    avatar.refresh_from_db()
    assert avatar.status == Avatar.Status.HELD


def test_a_consent_without_references_is_never_matched_silently(
    member_client, member, portrait_png, subject_voice_wav
):
    bare = GrantFactory(subject=SubjectFactory(workspace=member.workspace))  # typed, no evidence
    response = enroll(member_client, bare, portrait_png, subject_voice_wav)
    assert response.status_code == 400
    text = page_text(response)
    assert "holds no reference photo or verified consent clip with a face" in text
    assert "holds no reference voice or verified consent clip with speech" in text
    assert not Avatar.objects.exists()

    avatar = held_avatar(member_client, bare, portrait_png, subject_voice_wav)
    assert avatar.status == Avatar.Status.HELD
    assert avatar.identity_checks["face"] == [] and avatar.identity_checks["face_distance"] is None


@pytest.fixture
def drawn_face_clip(tmp_path, drawn_face_png) -> bytes:
    """A consent clip whose face is the drawn presenter (and festival's voice)."""
    image = tmp_path / "drawn.png"
    image.write_bytes(drawn_face_png)
    audio = tmp_path / "say.wav"
    audio.write_bytes(wav_bytes(sentences("slt", ENROLL_SENTENCES[4:6])))
    return write_webm(tmp_path / "clip.webm", image=image, audio=audio, seconds=4).read_bytes()


def test_the_verified_consent_clip_is_a_reference_too(
    member_client, grant, drawn_face_clip, portrait_png, subject_voice_wav
):
    grant.consent_clip.save("clip.webm", ContentFile(drawn_face_clip))
    # Not verified: the clip is no reference, the photo and voice match.
    ConsentVerification.objects.create(grant=grant, passed=False)
    response = enroll(member_client, grant, mirrored(portrait_png), subject_voice_wav)
    assert response.status_code == 302
    assert [c["reference"] for c in Avatar.objects.get().identity_checks["face"]] == [
        "reference photo"
    ]
    Avatar.objects.all().delete()

    ConsentVerification.objects.create(grant=grant, passed=True)
    response = enroll(member_client, grant, mirrored(portrait_png), subject_voice_wav)
    assert response.status_code == 400
    text = page_text(response)
    assert FACE_DISTANCE.search(text) and "(compared with the verified consent clip)" in text
    assert "(compared with the reference photo)" not in text
    face = identity_entries(grant)[-1].payload["face"]
    assert [c["reference"] for c in face] == ["reference photo", "verified consent clip"]
    assert face[0]["score"] < 0.6 < face[1]["score"]
    voices = identity_entries(grant)[-1].payload["voice"]
    assert all(c["score"] > 0.75 for c in voices) and len(voices) == 2


def test_the_drawn_face_is_far_from_the_astronaut(drawn_face_png, portrait_png, tmp_path):
    """The measure behind the refusals above: the same numbers as consent verification."""
    from engine.biometrics.identity import Reference, compare_identity

    (tmp_path / "a.png").write_bytes(portrait_png)
    (tmp_path / "b.png").write_bytes(drawn_face_png)
    (tmp_path / "v.wav").write_bytes(wav_bytes(sentences("slt", ENROLL_SENTENCES[:2])))
    check = compare_identity(
        tmp_path / "b.png",
        tmp_path / "v.wav",
        reference_faces=[Reference("reference photo", tmp_path / "a.png")],
        reference_voices=[Reference("reference voice", tmp_path / "v.wav")],
    )
    assert check.face_distance > 0.6 and check.voice_similarity == pytest.approx(1.0, abs=1e-3)
    assert not check.passed and len(check.reasons) == 1
    assert np.isfinite(check.seconds)
