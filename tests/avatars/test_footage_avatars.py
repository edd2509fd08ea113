"""Footage avatars on the site: made from minutes of the subject's own video, uploaded by a
member or recorded by the subject on their consent link; checked as the consenting person (face
and voice, against the consent's references) and as footage (length, one face, no cuts, light);
bound to the grant, passed to the renders, erased with the consent."""

import html
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from avatars.models import Avatar
from consent import services as consent_services
from consent.ledger import Event
from consent.models import ConsentGrant, LedgerEntry
from rendering.services import build_spec
from tests.factories import GrantFactory, MembershipFactory, RenderJobFactory, SubjectFactory
from tests.footage_media import FootageMaker

pytestmark = pytest.mark.django_db

# Footage is checked against these in the tests (the site asks 60-300 s; 8 s keeps them quick).
MIN_SECONDS, MAX_SECONDS = 6, 20
SIZE = 288  # the still becomes the avatar's portrait, which must be at least 256 px


@pytest.fixture(autouse=True)
def _short_footage(settings):
    settings.FOOTAGE_MIN_SECONDS, settings.FOOTAGE_MAX_SECONDS = MIN_SECONDS, MAX_SECONDS


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return FootageMaker(tmp_path_factory.mktemp("footage"))


@pytest.fixture(scope="module")
def good_footage(footage, astronaut_rgb) -> bytes:
    return Path(footage.make(astronaut_rgb, seconds=8, size=SIZE)).read_bytes()


@pytest.fixture
def grant(member, portrait_png, speech_wav):
    """A signed consent with the astronaut's photo and festival slt's voice as its references
    (the footage shows the astronaut and speaks with slt's voice)."""
    return GrantFactory(
        subject=SubjectFactory(workspace=member.workspace, full_name="Eileen Collins"),
        reference_portrait=ContentFile(portrait_png, name="eileen.png"),
        reference_voice=ContentFile(speech_wav, name="eileen.wav"),
    )


def enroll(client, grant, footage: bytes | None, name="footage.mp4", **extra):
    data = {"name": "Eileen on camera", "grant": grant.pk, **extra}
    if footage is not None:
        data["footage"] = SimpleUploadedFile(name, footage)
    return client.post(reverse("avatars:avatar_new_footage"), data)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def form_errors(response) -> str:
    """The form's error messages as the page shows them, lower-cased."""
    errors = response.context["form"].errors.values()
    shown = [message for messages in errors for message in messages]
    assert all(html.escape(m) in response.content.decode() for m in shown)
    return " ".join(shown).lower()


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()]


def test_an_avatar_is_made_from_the_subjects_footage_and_its_own_voice(
    member_client, grant, good_footage, media_root
):
    response = enroll(member_client, grant, good_footage)
    assert response.status_code == 302, page_text(response)[:3000]
    avatar = Avatar.objects.get()
    assert avatar.is_footage and avatar.status == Avatar.Status.ACTIVE
    assert avatar.footage_report["voice_from"] == "footage"
    assert 7.5 < avatar.footage_report["seconds"] < 8.5 and avatar.footage_report["has_audio"]
    # The portrait is a still of the footage, of its size, with the landmarks renders use.
    with avatar.portrait.open("rb") as still:
        assert Image.open(still).size == (SIZE, SIZE)
    assert (avatar.portrait_width, avatar.portrait_height) == (SIZE, SIZE)
    assert len(avatar.face_landmarks) > 60
    # The voice sample is the footage's sound: 8 s of it, checked like any sample.
    assert 7.5 < avatar.voice_seconds < 8.5
    assert avatar.voice_checks["enrollment"]["speech_seconds"] > 4
    # The same person as the consent: face and voice, in the ledger as a footage avatar.
    assert avatar.identity_checks["passed"]
    entry = LedgerEntry.objects.get(grant_id=grant.pk, event=Event.AVATAR_IDENTITY_CHECKED)
    assert entry.payload["kind"] == "footage" and entry.payload["outcome"] == "passed"
    # The footage is stored encrypted (never the plain upload) and reads back as it was sent.
    with avatar.footage.open("rb") as stored:
        assert stored.read() == good_footage
    assert all(good_footage[:4096] not in p.read_bytes() for p in stored_files(media_root))
    page = page_text(member_client.get(response.url))
    assert "from the footage's sound" in page and "8 s" in page


def test_renders_of_a_footage_avatar_are_given_its_footage(
    member_client, grant, good_footage, tmp_path
):
    enroll(member_client, grant, good_footage)
    avatar = Avatar.objects.get()
    job = RenderJobFactory(workspace=avatar.workspace, avatar=avatar)
    footage = tmp_path / "footage.mp4"
    footage.write_bytes(good_footage)
    spec = build_spec(
        job, portrait=tmp_path / "p.png", voice_sample=tmp_path / "v.wav", footage=footage
    )
    assert spec.footage_path == str(footage)
    photo_spec = build_spec(job, portrait=tmp_path / "p.png", voice_sample=tmp_path / "v.wav")
    assert photo_spec.footage_path == ""


@pytest.mark.parametrize(
    ("kind", "seconds", "message"),
    [
        ("good", 3, "is 3 seconds long; record at least 6 seconds"),
        ("two_faces", 8, "another face is in view"),
        ("cut", 8, "has a cut at 4.0 s"),
        ("dark", 8, "too dark"),
    ],
)
def test_footage_that_cannot_serve_is_refused_with_its_reason_and_nothing_is_kept(
    member_client, grant, footage, astronaut_rgb, media_root, kind, seconds, message
):
    before = stored_files(media_root)
    made = Path(footage.make(astronaut_rgb, seconds=seconds, size=SIZE, kind=kind))
    response = enroll(member_client, grant, made.read_bytes())
    assert response.status_code == 400
    assert message in form_errors(response)
    assert not Avatar.objects.exists()
    assert stored_files(media_root) == before


def test_a_file_that_is_no_video_is_refused(member_client, grant, portrait_png):
    response = enroll(member_client, grant, portrait_png, name="footage.mp4")
    assert response.status_code == 400
    assert "video" in page_text(response).lower()
    response = enroll(member_client, grant, b"0" * 100, name="footage.exe")
    assert response.status_code == 400
    assert "must be a MP4 or MOV or M4V or WEBM or MKV file" in page_text(response)
    assert not Avatar.objects.exists()


def test_footage_without_sound_needs_a_voice_sample(
    member_client, grant, footage, astronaut_rgb, speech_wav
):
    silent = Path(footage.make(astronaut_rgb, seconds=8, size=SIZE, sound=False)).read_bytes()
    response = enroll(member_client, grant, silent)
    assert response.status_code == 400
    assert "The footage has no sound: upload a voice sample" in page_text(response)
    response = enroll(
        member_client,
        grant,
        silent,
        voice_sample=SimpleUploadedFile("voice.wav", speech_wav),
    )
    assert response.status_code == 302, page_text(response)[:2000]
    assert Avatar.objects.get().footage_report["voice_from"] == "upload"


def test_another_persons_footage_is_refused_with_its_face_distance(
    member_client, grant, footage, media_root
):
    from engine.demo import write_demo_assets

    drawn = Image.open(write_demo_assets(media_root.parent / "demo").portrait_path)
    import numpy as np

    other = Path(footage.make(np.asarray(drawn.convert("RGB")), seconds=8, size=SIZE))
    response = enroll(member_client, grant, other.read_bytes())
    assert response.status_code == 400
    assert "The portrait does not match the consenting person" in page_text(response)
    refusal = LedgerEntry.objects.get(grant_id=grant.pk, event=Event.AVATAR_IDENTITY_CHECKED)
    assert refusal.payload["outcome"] == "refused" and refusal.payload["face_distance"] > 0.6
    assert not Avatar.objects.exists()


def test_only_members_who_may_see_the_likeness_get_the_footage(
    client, member_client, member, grant, good_footage
):
    enroll(member_client, grant, good_footage)
    avatar = Avatar.objects.get()
    url = reverse("avatars:avatar_footage", args=[avatar.pk])
    response = member_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == good_footage
    viewer = MembershipFactory(workspace=member.workspace, role=Role.VIEWER).user
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    outsider = MembershipFactory(role=Role.OWNER).user
    client.force_login(outsider)
    assert client.get(url).status_code == 404


# The subject's link: footage recorded after signing, and an avatar made from it.


def link_footage(client, grant, data: bytes, name="footage.webm"):
    _, token = consent_services.issue_subject_link(
        grant, by=None, evidence=consent_services.Evidence()
    )
    response = client.post(
        reverse("consent:link_footage", args=[token]),
        {"footage": SimpleUploadedFile(name, data)},
    )
    return token, response


@pytest.fixture(scope="module")
def webm_footage(footage, astronaut_rgb) -> bytes:
    """As the link's page records it: VP8/Opus in WebM."""
    made = footage.make(astronaut_rgb, ".webm", seconds=8, size=SIZE)
    return Path(made).read_bytes()


def test_the_subject_records_footage_on_their_link_and_an_avatar_is_made_from_it(
    client, member_client, grant, webm_footage
):
    token, response = link_footage(client, grant, webm_footage)
    assert response.status_code == 200, response.content
    grant.refresh_from_db()
    assert grant.footage and len(grant.footage_sha256) == 64
    entry = LedgerEntry.objects.get(grant_id=grant.pk, event=Event.FOOTAGE_RECORDED)
    assert entry.payload["footage_sha256"] == grant.footage_sha256
    assert 7.5 < entry.payload["footage_seconds"] < 8.5
    portal = page_text(client.get(reverse("consent:link_home", args=[token])))
    assert "Your footage is saved" in portal and "The quick brown fox" in portal

    response = enroll(member_client, grant, None)  # no upload: the subject's recording
    assert response.status_code == 302, page_text(response)[:3000]
    avatar = Avatar.objects.get()
    assert avatar.is_footage and avatar.identity_checks["passed"]
    with avatar.footage.open("rb") as stored:
        assert stored.read() == webm_footage


def test_without_an_upload_or_a_recording_the_form_says_what_to_do(member_client, grant):
    response = enroll(member_client, grant, None)
    assert response.status_code == 400
    assert "ask them to record it on their consent link" in page_text(response)


def test_the_link_refuses_footage_before_signing_and_short_takes(
    client, member, footage, astronaut_rgb, webm_footage
):
    unsigned = GrantFactory(
        subject=SubjectFactory(workspace=member.workspace), status=ConsentGrant.Status.PENDING
    )
    _, response = link_footage(client, unsigned, webm_footage)
    assert response.status_code == 400
    assert "signed consent" in response.json()["error"]
    signed = GrantFactory(subject=SubjectFactory(workspace=member.workspace))
    short = Path(footage.make(astronaut_rgb, ".webm", seconds=3, size=SIZE))
    _, response = link_footage(client, signed, short.read_bytes())
    assert response.status_code == 400 and "record at least 6 seconds" in response.json()["error"]
    signed.refresh_from_db()
    assert not signed.footage
    assert not LedgerEntry.objects.filter(event=Event.FOOTAGE_RECORDED).exists()


def test_erasure_deletes_the_footage_of_the_consent_and_of_its_avatars(
    client, member_client, grant, webm_footage, settings, django_capture_on_commit_callbacks
):
    link_footage(client, grant, webm_footage)
    enroll(member_client, grant, None)
    avatar = Avatar.objects.get()
    grant.refresh_from_db()
    files = [Path(grant.footage.path), Path(avatar.footage.path)]
    assert all(f.is_file() for f in files)
    consent_services.revoke_grant(
        grant, reason="changed my mind", evidence=consent_services.Evidence()
    )
    later = timezone.now() + timedelta(days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_services.erase_biometrics(later) == [grant.pk]
    grant.refresh_from_db()
    avatar.refresh_from_db()
    assert not grant.footage and not avatar.footage and avatar.footage_report == {}
    assert not any(f.exists() for f in files)
    erased = LedgerEntry.objects.get(grant_id=grant.pk, event=Event.DATA_DELETED)
    assert "footage" in erased.payload["files"]
