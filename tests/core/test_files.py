"""Stored files and transactions: a file is deleted only once the row that forgets it commits."""

import hashlib
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from consent.models import ConsentGrant
from core.files import delete_after_commit, sha256_of_upload, upload_to_local
from tests.factories import GrantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def stored_grant():
    grant = GrantFactory()
    grant.reference_voice.save("voice.wav", ContentFile(b"RIFF voice"), save=True)
    return grant


def test_a_rolled_back_deletion_keeps_the_file_and_the_row_pointing_at_it(media_root):
    grant = stored_grant()
    path = grant.reference_voice.path
    with pytest.raises(RuntimeError), transaction.atomic():
        delete_after_commit(grant.reference_voice)
        grant.save()
        raise RuntimeError("the erasure failed half-way")
    stored = ConsentGrant.objects.get(pk=grant.pk).reference_voice
    assert stored.path == path and Path(path).exists()
    with stored.open("rb") as handle:
        assert handle.read() == b"RIFF voice"


def test_a_committed_deletion_removes_the_file_and_empties_the_field(media_root):
    grant = stored_grant()
    path = grant.reference_voice.path
    with transaction.atomic():
        delete_after_commit(grant.reference_voice)
        grant.save()
        assert Path(path).exists()  # still there until commit
    assert not ConsentGrant.objects.get(pk=grant.pk).reference_voice
    assert not os.path.exists(path)


def test_an_upload_copied_to_disk_keeps_its_hash_and_is_left_at_its_start(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = b"x" * 300_000
    upload = SimpleUploadedFile("clip.webm", data)
    upload.read(10)
    digest = upload_to_local(upload, tmp_path / "clip.webm")
    assert (tmp_path / "clip.webm").read_bytes() == data
    assert digest == sha256_of_upload(upload) == hashlib.sha256(data).hexdigest()
    assert upload.read(3) == b"xxx"


def test_a_likeness_file_copied_for_a_worker_is_plaintext_readable_by_its_owner_only(
    media_root, tmp_path
):
    from core.files import copy_to_local

    grant = stored_grant()
    copied = copy_to_local(grant.reference_voice, tmp_path, "voice")
    assert copied.read_bytes() == b"RIFF voice"
    assert copied.stat().st_mode & 0o777 == 0o600
