"""Voice enrollment through the avatar form: specific refusals, and a profile cached once."""

import html
import io
import wave

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatars.models import Avatar
from engine.voice.profile import VoiceProfile
from rendering.workers import drain_queue
from tests.factories import GrantFactory, SubjectFactory
from tests.voice_media import ENROLL_SENTENCES, sentences

pytestmark = pytest.mark.django_db


def wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture
def grant(member, portrait_png, speech_wav):
    """A signed consent whose references (compared at enrollment) are the astronaut's photo and
    festival's voice, the media these tests enroll."""
    return GrantFactory(
        subject=SubjectFactory(workspace=member.workspace),
        reference_portrait=ContentFile(portrait_png, name="reference.png"),
        reference_voice=ContentFile(speech_wav, name="reference.wav"),
    )


def post_avatar(client, grant, portrait, voice: bytes):
    return client.post(
        reverse("avatars:avatar_new"),
        {
            "name": "Presenter",
            "grant": grant.pk,
            "portrait": SimpleUploadedFile("face.png", portrait),
            "voice_sample": SimpleUploadedFile("voice.wav", voice),
        },
    )


@pytest.mark.django_db(transaction=True)
def test_enrollment_caches_a_voice_profile_and_its_measurements(member_client, grant, portrait_png):
    """The upload's request checks the sample; a worker learns the profile after it."""
    voice = wav_bytes(sentences("slt", ENROLL_SENTENCES[:4]))
    response = post_avatar(member_client, grant, portrait_png, voice)
    assert response.status_code == 302, response.content.decode()[:2000]
    avatar = Avatar.objects.get()
    assert not avatar.voice_profile and "profile" not in avatar.voice_checks
    page = member_client.get(response.url).content.decode()
    assert "s of speech, 16000 Hz" in page and "one speaker" in page
    assert "being learned from the sample by a worker" in page
    drain_queue()
    avatar.refresh_from_db()
    checks = avatar.voice_checks
    assert checks["enrollment"]["speech_seconds"] > 5
    assert checks["enrollment"]["sample_rate"] == 16000
    assert 150 < checks["profile"]["f0_hz"] < 220
    with avatar.voice_profile.open("rb") as handle:
        profile = VoiceProfile.from_bytes(handle.read())
    assert profile.summary() == checks["profile"]
    page = member_client.get(response.url).content.decode()
    assert "being learned" not in page
    assert f"pitch {checks['profile']['f0_hz']:.0f} Hz" in page
    assert "cached for every render" in page


def test_an_avatar_without_a_profile_gets_one_once(make_avatar):
    avatar = make_avatar()
    assert not avatar.voice_profile
    avatar.ensure_voice_profile()
    name = avatar.voice_profile.name
    assert name and Avatar.objects.get(pk=avatar.pk).voice_profile.name == name
    avatar.ensure_voice_profile()  # cached: not computed again
    assert avatar.voice_profile.name == name


def test_a_process_that_finishes_second_keeps_the_first_profile(make_avatar):
    """The enrollment task and a render may both find no profile; the second to finish (here an
    old copy of the avatar) keeps what the first stored, without computing it again."""
    avatar = make_avatar()
    stale = Avatar.objects.get(pk=avatar.pk)
    avatar.ensure_voice_profile()
    stored = Avatar.objects.get(pk=avatar.pk).voice_profile.name
    stale.ensure_voice_profile()
    assert stale.voice_profile.name == stored
    assert Avatar.objects.get(pk=avatar.pk).voice_profile.name == stored


def test_a_profile_that_cannot_be_learned_says_why_on_the_avatar_page(
    make_avatar, member, member_client
):
    from django.core.files.base import ContentFile

    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=member.workspace)))
    avatar.voice_sample.save("voice.wav", ContentFile(b"RIFF....WAVEnot really a recording"))
    with pytest.raises(Exception):  # noqa: B017 (whatever the decoder raises)
        avatar.learn_voice_profile()
    avatar.refresh_from_db()
    assert not avatar.voice_profile and avatar.voice_checks["error"]
    page = member_client.get(reverse("avatars:avatar_detail", args=[avatar.pk])).content.decode()
    assert "could not be learned" in page


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("two_voices", "More than one voice seems to speak"),
        ("telephone", "record at 8 kHz or more"),
        ("clipped", "is clipped"),
        ("noisy", "record in a quieter room"),
    ],
)
def test_a_voice_sample_unfit_for_cloning_gets_a_specific_message(
    member_client, grant, portrait_png, kind, message
):
    slt = sentences("slt", ENROLL_SENTENCES[:4])
    if kind == "two_voices":
        voice = wav_bytes(np.concatenate([slt, sentences("awb", ENROLL_SENTENCES[4:])]))
    elif kind == "telephone":  # below a phone line's 8 kHz
        voice = wav_bytes(slt[::4], rate=4000)
    elif kind == "clipped":
        voice = wav_bytes(slt * 8)
    else:
        hiss = 0.03 * np.random.default_rng(1).standard_normal(len(slt))
        voice = wav_bytes(slt + hiss)
    response = post_avatar(member_client, grant, portrait_png, voice)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Avatar.objects.exists()
