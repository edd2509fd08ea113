"""Likeness data encrypted at rest (issue 19, part 7): what storage holds is ciphertext under a
consent's data key, wrapped by the master key; erasure destroys the key; rotation re-wraps it."""

import base64
import os
import secrets
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.models import ConsentGrant, DataKey
from consent.services import erase_biometrics
from core import crypto
from rendering.models import Video
from tests.factories import GrantFactory, MembershipFactory, finished_video

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


def stored_bytes(field_file) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()


def plain(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def new_master() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_portrait_and_voice_sample_are_ciphertext_in_storage_and_plaintext_when_read(
    make_avatar, portrait_png, speech_wav
):
    avatar = make_avatar()
    for field, original in ((avatar.portrait, portrait_png), (avatar.voice_sample, speech_wav)):
        raw = stored_bytes(field)
        assert raw.startswith(crypto.MAGIC) and original[:8] not in raw
        assert crypto.key_id_of(raw) == avatar.grant.data_key_id
        assert plain(field) == original


def test_a_consents_reference_files_are_encrypted_under_the_same_key_as_its_avatars(make_avatar):
    avatar = make_avatar()
    grant = avatar.grant
    grant.reference_voice.save("voice.wav", ContentFile(b"RIFF voice"), save=True)
    raw = stored_bytes(grant.reference_voice)
    assert b"RIFF" not in raw and crypto.key_id_of(raw) == grant.data_key_id
    assert plain(ConsentGrant.objects.get(pk=grant.pk).reference_voice) == b"RIFF voice"


def test_a_legacy_plaintext_file_still_reads_and_the_command_encrypts_it(make_avatar, portrait_png):
    avatar = make_avatar()
    storage = avatar.portrait.storage
    storage.delete(avatar.portrait.name)
    storage.save(avatar.portrait.name, ContentFile(portrait_png))  # as stored before encryption
    assert plain(avatar.portrait) == portrait_png

    call_command("encrypt_likeness_files", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert stored_bytes(avatar.portrait).startswith(crypto.MAGIC)
    avatar.refresh_from_db()
    assert plain(avatar.portrait) == portrait_png


def test_erasure_leaves_no_readable_data_and_no_wrapped_key(
    make_avatar, settings, django_capture_on_commit_callbacks
):
    settings.CONSENT_BIOMETRIC_RETENTION_DAYS = 0
    grant = GrantFactory(status=ConsentGrant.Status.REVOKED, revoked_at=timezone.now())
    avatar = make_avatar(grant=grant)
    backup = stored_bytes(avatar.portrait)  # a copy left in a backup or an old bucket version
    path = avatar.portrait.path

    with django_capture_on_commit_callbacks(execute=True):
        assert erase_biometrics(timezone.now() + timedelta(seconds=1)) == [grant.pk]

    assert not os.path.exists(path)
    assert not DataKey.objects.filter(pk=crypto.key_id_of(backup)).exists()
    grant.refresh_from_db()
    assert grant.data_key is None
    with pytest.raises(crypto.DecryptionError):
        crypto.read_plain(backup)


def test_rotation_keeps_files_readable_under_the_new_master_key_and_not_the_old(
    make_avatar, portrait_png, settings, monkeypatch
):
    avatar = make_avatar()
    old = settings.LIKENESS_MASTER_KEY
    settings.LIKENESS_MASTER_KEY = new_master()
    with pytest.raises(crypto.DecryptionError):  # not yet re-wrapped: the new key cannot unwrap
        plain(type(avatar).objects.get(pk=avatar.pk).portrait)

    monkeypatch.setenv("LIKENESS_OLD_MASTER_KEY", old)
    call_command("rotate_master_key", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert plain(type(avatar).objects.get(pk=avatar.pk).portrait) == portrait_png
    key = DataKey.objects.get(pk=avatar.grant.data_key_id)
    assert key.master_key_id == crypto.master_key_id(crypto.master_key())
    with pytest.raises(crypto.DecryptionError):
        key.unwrap(crypto.parse_master_key(old))


def test_rotation_with_reencrypt_gives_new_data_keys_and_destroys_the_old(
    make_avatar, portrait_png, settings, monkeypatch
):
    avatar = make_avatar()
    old_key_id = avatar.grant.data_key_id
    old = settings.LIKENESS_MASTER_KEY
    settings.LIKENESS_MASTER_KEY = new_master()
    monkeypatch.setenv("LIKENESS_OLD_MASTER_KEY", old)

    call_command("rotate_master_key", "--reencrypt", stdout=open(os.devnull, "w"))  # noqa: SIM115

    avatar = type(avatar).objects.get(pk=avatar.pk)
    assert not DataKey.objects.filter(pk=old_key_id).exists()
    assert crypto.key_id_of(stored_bytes(avatar.portrait)) == avatar.grant.data_key_id
    assert plain(avatar.portrait) == portrait_png


def test_a_viewer_gets_403_on_a_portrait_and_a_voice_sample(client, make_avatar, portrait_png):
    avatar = make_avatar()
    viewer = MembershipFactory(workspace=avatar.workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(reverse("avatars:avatar_portrait", args=[avatar.pk])).status_code == 403
    assert client.get(reverse("avatars:avatar_voice_sample", args=[avatar.pk])).status_code == 403
    page = client.get(reverse("avatars:avatar_detail", args=[avatar.pk]))
    assert reverse("avatars:avatar_portrait", args=[avatar.pk]) not in page.content.decode()


def test_an_editor_gets_the_decrypted_portrait(client, make_avatar, portrait_png):
    avatar = make_avatar()
    editor = MembershipFactory(workspace=avatar.workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    response = client.get(reverse("avatars:avatar_portrait", args=[avatar.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == portrait_png


def test_share_tokens_are_random_not_a_sequential_id(make_avatar):
    from django.core import signing

    avatar = make_avatar()
    first, second = finished_video(avatar), finished_video(avatar)
    assert first.share_token != second.share_token
    for video in (first, second):
        token = video.share_token
        # 32 random bytes, not a signed id: nothing in it decodes to the video's number.
        assert len(base64.urlsafe_b64decode(token + "=")) == 32 and ":" not in token
        with pytest.raises(signing.BadSignature):
            signing.loads(token, salt=Video.SHARE_SALT)
        assert Video.from_share_token(token) == video
    assert Video.from_share_token(secrets.token_urlsafe(32)) is None


def test_a_share_link_made_before_random_tokens_still_opens(make_avatar):
    from django.core import signing

    video = finished_video(make_avatar())
    legacy = signing.dumps(video.pk, salt=Video.SHARE_SALT)
    assert Video.from_share_token(legacy) == video


def test_cached_segments_of_an_avatar_are_ciphertext_and_fetch_as_plaintext(make_avatar, tmp_path):
    from django.core.files.storage import default_storage

    from engine.segment_cache import segment_key
    from rendering.segment_cache import avatar_namespace, site_segment_cache

    avatar = make_avatar()
    rendered = tmp_path / "rendered"
    rendered.mkdir()
    (rendered / "speech.wav").write_bytes(b"RIFF" + bytes(500))
    key = segment_key(avatar_namespace(avatar.pk), text="Hello there.")
    site_segment_cache().store(key, rendered)

    folder = f"segment-cache/{key}"
    token = next(d for d in default_storage.listdir(folder)[0])
    with default_storage.open(f"{folder}/{token}/speech.wav", "rb") as handle:
        raw = handle.read()
    assert raw.startswith(crypto.MAGIC) and crypto.key_id_of(raw) == avatar.grant.data_key_id
    assert site_segment_cache().fetch(key, tmp_path / "reused")
    assert (tmp_path / "reused" / "speech.wav").read_bytes() == b"RIFF" + bytes(500)
