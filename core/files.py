"""Files between storage, uploads and the engine, which takes plain local paths."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path, PurePath

from django.db import transaction


def copy_to_local(field_file, folder: Path, stem: str) -> Path:
    """A stored file (local or S3) copied into ``folder`` as ``stem`` + its extension; an
    encrypted likeness file (core.crypto) arrives decrypted, readable by this user only. The
    caller's folder is temporary: the caller deletes it when done."""
    target = folder / f"{stem}{PurePath(field_file.name).suffix.lower()}"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with field_file.open("rb") as source, open(descriptor, "wb") as out:
        shutil.copyfileobj(source, out)
    return target


def upload_to_local(upload, target: Path) -> str:
    """Write an upload (a Django ``UploadedFile``) to ``target`` and return its SHA-256; the
    upload is left at its start for whoever reads it next."""
    digest = hashlib.sha256()
    upload.seek(0)
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    upload.seek(0)
    return digest.hexdigest()


def sha256_of_upload(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def delete_after_commit(field_file) -> None:
    """Empty a file field now and delete its file once the transaction commits: a rollback
    keeps the row pointing at a file that still exists. The caller saves the row."""
    storage, name = field_file.storage, field_file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))
    field_file.name = None
    setattr(field_file.instance, field_file.field.attname, None)
