import html

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatars.models import Avatar
from consent.models import ConsentGrant
from tests.conftest import wav_bytes
from tests.factories import GrantFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(member, portrait_png, speech_wav):
    """A signed consent whose references (compared at enrollment) are the astronaut's photo and
    festival's voice, the media these tests enroll."""
    return GrantFactory(
        subject=SubjectFactory(workspace=member.workspace),
        reference_portrait=ContentFile(portrait_png, name="reference.png"),
        reference_voice=ContentFile(speech_wav, name="reference.wav"),
    )


def post_avatar(client, grant, *, portrait=("face.png", None), voice=("voice.wav", None), **extra):
    data = {
        "name": "Presenter",
        "grant": grant.pk,
        "portrait": SimpleUploadedFile(portrait[0], portrait[1]),
        "voice_sample": SimpleUploadedFile(voice[0], voice[1]),
        **extra,
    }
    return client.post(reverse("avatars:avatar_new"), data)


def files_under(folder):
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_good_portrait_and_voice_sample_make_an_avatar_with_cached_landmarks(
    member_client, grant, portrait_jpeg, speech_wav
):
    response = post_avatar(
        member_client,
        grant,
        portrait=("Me Photo.JPG", portrait_jpeg),
        voice=("take 1.wav", speech_wav),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    avatar = Avatar.objects.get()
    assert avatar.grant == grant and avatar.workspace == grant.workspace
    assert (avatar.portrait_width, avatar.portrait_height) == (512, 512)
    assert len(avatar.face_landmarks) == 478
    assert 3.0 < avatar.voice_seconds < 10.0
    assert avatar.portrait.name.endswith(".jpg") and "Me Photo" not in avatar.portrait.name


def _bad_portrait_cases():
    return [
        ("portrait.png", "not_an_image", "not an image"),
        ("portrait.png", "empty", "The submitted file is empty"),
        ("portrait.png", "no_face", "No face was found"),
        ("portrait.png", "two_faces", "More than one face"),
        ("portrait.gif", "good", "must be a JPG or JPEG or PNG or WEBP file"),
        ("portrait.png", "oversized", "the limit is"),
    ]


@pytest.mark.parametrize(("filename", "kind", "message"), _bad_portrait_cases())
def test_a_bad_portrait_gets_a_specific_message_and_nothing_is_saved(
    member_client,
    grant,
    media_root,
    settings,
    speech_wav,
    portrait_png,
    no_face_png,
    two_faces_png,
    filename,
    kind,
    message,
):
    content = {
        "not_an_image": b"%PDF-1.4 this is not a picture at all" * 10,
        "empty": b"",
        "no_face": no_face_png,
        "two_faces": two_faces_png,
        "good": portrait_png,
        "oversized": portrait_png,
    }[kind]
    if kind == "oversized":
        settings.MAX_PORTRAIT_BYTES = 10_000
    response = post_avatar(
        member_client, grant, portrait=(filename, content), voice=("v.wav", speech_wav)
    )
    assert response.status_code == 400
    assert message.lower() in html.unescape(response.content.decode()).lower()
    assert not Avatar.objects.exists()
    assert files_under(media_root / "avatars") == []


@pytest.mark.parametrize(
    ("filename", "kind", "message"),
    [
        ("take 1.wav", "corrupt", "The file take_1.wav is not audio we can read"),
        ("voice.wav", "silent", "No speech was heard"),
        ("voice.wav", "empty", "The submitted file is empty"),
        ("voice.wav", "too_short", "record at least 2 s of speech"),
        ("voice.mp3", "good", "must be a WAV file"),
        ("voice.wav", "oversized", "the limit is"),
    ],
)
def test_a_bad_voice_sample_gets_a_specific_message_and_nothing_is_saved(
    member_client,
    grant,
    media_root,
    settings,
    speech_wav,
    silent_wav,
    portrait_png,
    filename,
    kind,
    message,
):
    import numpy as np

    half_second_tone = wav_bytes(0.3 * np.sin(np.linspace(0, 2 * np.pi * 220 * 0.5, 8000)))
    content = {
        "corrupt": b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio" * 5,
        "silent": silent_wav,
        "empty": b"",
        "too_short": half_second_tone,
        "good": speech_wav,
        "oversized": speech_wav,
    }[kind]
    if kind == "oversized":
        settings.MAX_VOICE_SAMPLE_BYTES = 1000
    response = post_avatar(
        member_client, grant, portrait=("p.png", portrait_png), voice=(filename, content)
    )
    assert response.status_code == 400
    assert message.lower() in html.unescape(response.content.decode()).lower()
    assert not Avatar.objects.exists()
    assert files_under(media_root / "avatars") == []


def test_an_avatar_cannot_use_a_revoked_or_foreign_consent(
    member_client, grant, portrait_png, speech_wav
):
    foreign = GrantFactory()
    revoked = GrantFactory(
        subject=SubjectFactory(workspace=grant.workspace), status=ConsentGrant.Status.REVOKED
    )
    for other in (foreign, revoked):
        response = post_avatar(
            member_client, other, portrait=("p.png", portrait_png), voice=("v.wav", speech_wav)
        )
        assert response.status_code == 400
        assert "Choose a signed consent of this workspace" in html.unescape(
            response.content.decode()
        )
    assert not Avatar.objects.exists()
