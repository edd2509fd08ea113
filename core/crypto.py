"""Likeness data encrypted at rest: AES-GCM under data keys wrapped by the site's master key.

A stored file that is encrypted starts with a header that says so:
``MAGIC (8 bytes) | data key id (16 bytes, a UUID) | nonce (12 bytes)`` then the ciphertext with
its 16-byte tag; the header is the associated data, so a file moved under another key id does not
decrypt. Files without the magic are legacy plaintext and read as they are (the
``encrypt_likeness_files`` command encrypts them).

``core`` knows no workspace or consent: the app that owns data keys registers a ``Keyring`` (see
``set_keyring``) that answers the key for a model instance and the key for an id. Every biometric
file field is an ``EncryptedFileField``, so saving encrypts and opening decrypts wherever a file is
written or read (``core.files.copy_to_local`` hands workers plaintext in their own temporary
folders, which they delete).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.files.base import ContentFile, File
from django.db import models
from django.db.models.fields.files import FieldFile

MAGIC = b"LKNSENC1"
KEY_ID_BYTES = 16
NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES
TAG_BYTES = 16
KEY_BYTES = 32


class DecryptionError(Exception):
    """A file or key that does not decrypt: wrong key, key destroyed, or altered bytes."""


class Keyring(Protocol):
    def key_for(self, instance) -> tuple[uuid.UUID, bytes]:
        """The data key (id, 32 bytes) that encrypts the files of this model instance."""

    def key_by_id(self, key_id: uuid.UUID) -> bytes:
        """The data key with this id; raises DecryptionError when it no longer exists."""


_keyring: Keyring | None = None


def set_keyring(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("No keyring registered: the consent app registers it when ready.")
    return _keyring


# -- the master key ------------------------------------------------------------------------------


def parse_master_key(text: str) -> bytes:
    """A master key from its base64 text (32 bytes once decoded)."""
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise ValueError("LIKENESS_MASTER_KEY must be base64 of 32 random bytes.") from error
    if len(key) != KEY_BYTES:
        raise ValueError("LIKENESS_MASTER_KEY must be base64 of 32 random bytes.")
    return key


def master_key() -> bytes:
    return parse_master_key(settings.LIKENESS_MASTER_KEY)


def master_key_id(key: bytes) -> str:
    """A short fingerprint of a master key, stored beside what it wrapped (never the key)."""
    return hashlib.sha256(b"likeness-master-key" + key).hexdigest()[:16]


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_key(data_key: bytes, key_id: uuid.UUID, master: bytes) -> bytes:
    """The data key encrypted under the master key (nonce + ciphertext + tag), bound to its id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, data_key, key_id.bytes)


def unwrap_key(wrapped: bytes, key_id: uuid.UUID, master: bytes) -> bytes:
    wrapped = bytes(wrapped)
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], key_id.bytes)
    except Exception as error:  # cryptography raises InvalidTag; anything else is as bad
        raise DecryptionError("The data key does not unwrap under this master key.") from error


# -- file bytes ----------------------------------------------------------------------------------


def is_encrypted(data: bytes) -> bool:
    return data[: len(MAGIC)] == MAGIC


def key_id_of(data: bytes) -> uuid.UUID | None:
    """The data key id in an encrypted file's header, or None for a plaintext file."""
    if not is_encrypted(data):
        return None
    return uuid.UUID(bytes=data[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES])


def encrypt_bytes(plain: bytes, key_id: uuid.UUID, key: bytes) -> bytes:
    header = MAGIC + key_id.bytes + os.urandom(NONCE_BYTES)
    return header + AESGCM(key).encrypt(header[-NONCE_BYTES:], plain, header)


def decrypt_bytes(data: bytes, key: bytes) -> bytes:
    header = data[:HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(header[-NONCE_BYTES:], data[HEADER_BYTES:], header)
    except Exception as error:  # InvalidTag: altered bytes or the wrong key
        raise DecryptionError("The file does not decrypt with its data key.") from error


def read_plain(data: bytes) -> bytes:
    """A stored file's plaintext: decrypted under the key its header names, or as it is."""
    key_id = key_id_of(data)
    if key_id is None:
        return data
    return decrypt_bytes(data, keyring().key_by_id(key_id))


def encrypted_content(instance, content) -> ContentFile:
    """``content`` (a file) encrypted under the data key of ``instance``, ready to store."""
    content.seek(0)
    key_id, key = keyring().key_for(instance)
    return ContentFile(encrypt_bytes(content.read(), key_id, key), name=content.name)


# -- the file field ------------------------------------------------------------------------------


class EncryptedFieldFile(FieldFile):
    """Saves ciphertext, opens plaintext (an in-memory file); legacy plaintext still opens."""

    encrypted = True

    def save(self, name, content, save=True):
        super().save(name, encrypted_content(self.instance, content), save=save)

    def _get_file(self):
        self._require_file()
        if getattr(self, "_file", None) is None:
            with self.storage.open(self.name, "rb") as stored:
                plain = read_plain(stored.read())
            self._file = File(io.BytesIO(plain), name=self.name)
        return self._file

    file = property(_get_file, FieldFile._set_file, FieldFile._del_file)

    def open(self, mode="rb"):
        self._require_file()
        if getattr(self, "_file", None) is not None and self._file.closed:
            self._file = None
        self.file.seek(0)
        return self

    @property
    def size(self):
        self._require_file()
        return self.file.size  # the plaintext's size, not the stored ciphertext's


class EncryptedFileField(models.FileField):
    """A FileField whose files are encrypted at rest under the owner's data key."""

    attr_class = EncryptedFieldFile


def reencrypt_field_file(field_file) -> bool:
    """Write a stored file again under its owner's current data key (a legacy plaintext file, or
    one under an older key). True when the file was rewritten."""
    storage, name = field_file.storage, field_file.name
    with storage.open(name, "rb") as stored:
        data = stored.read()
    key_id, key = keyring().key_for(field_file.instance)
    if key_id_of(data) == key_id:
        return False
    sealed = encrypt_bytes(read_plain(data), key_id, key)
    storage.delete(name)
    saved = storage.save(name, ContentFile(sealed))
    if saved != name:  # another file took the name meanwhile: never lose the row's file
        raise RuntimeError(f"The storage saved {name} as {saved}.")
    return True


# -- deployment check ----------------------------------------------------------------------------


def check_master_key(app_configs=None, **kwargs):
    errors = []
    try:
        master_key()
    except ValueError as error:
        errors.append(checks.Error(str(error), id="likeness.E101"))
    if not settings.LIKENESS_MASTER_KEY_FROM_ENV:
        errors.append(
            checks.Error(
                "LIKENESS_MASTER_KEY is not set: the key generated in var/ is for development.",
                hint="Set LIKENESS_MASTER_KEY to base64 of 32 random bytes and keep it outside "
                "the database and its backups (openssl rand -base64 32).",
                id="likeness.E102",
            )
        )
    return errors
