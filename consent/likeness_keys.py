"""Key management over every encrypted likeness file: encrypt legacy files, rotate the master key.

Which files belong to a consent is found from the model registry (every model with an
``EncryptedFileField`` that is the consent itself or points at it through ``grant``), so consent
never imports the apps that copy a likeness (avatars).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps

from consent.models import ConsentGrant, DataKey
from core.crypto import EncryptedFileField, master_key_id, reencrypt_field_file


def likeness_files(grant: ConsentGrant) -> Iterator:
    """Every stored encrypted-field file of the consent and of the records made from it."""
    for model in apps.get_models():
        fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedFileField)]
        if not fields:
            continue
        if model is ConsentGrant:
            rows = ConsentGrant.objects.filter(pk=grant.pk)
        elif any(f.name == "grant" for f in model._meta.get_fields()):
            rows = model._default_manager.filter(grant=grant)
        else:
            continue
        for row in rows:
            for name in fields:
                if stored := getattr(row, name):
                    yield stored


def encrypt_legacy_files() -> int:
    """Encrypt every likeness file still stored in the clear; the number rewritten."""
    count = 0
    for grant in ConsentGrant.objects.filter(biometrics_erased_at__isnull=True):
        count += sum(reencrypt_field_file(stored) for stored in likeness_files(grant))
    return count


def rewrap_data_keys(*, old_master: bytes, new_master: bytes) -> int:
    """Wrap every data key under the new master key; files are untouched. The number rewrapped."""
    count = 0
    for key in DataKey.objects.exclude(master_key_id=master_key_id(new_master)):
        key.rewrap(old_master=old_master, new_master=new_master)
        count += 1
    return count


def reencrypt_under_new_keys() -> int:
    """Give every consent a new data key, rewrite its files under it, and destroy the old key.
    The number of files rewritten."""
    count = 0
    for grant_id in ConsentGrant.objects.exclude(data_key=None).values_list("pk", flat=True):
        grant = ConsentGrant.objects.get(pk=grant_id)
        old_key_id = grant.data_key_id
        new_key = DataKey.generate(grant.workspace_id)
        ConsentGrant.objects.filter(pk=grant.pk).update(data_key=new_key)
        grant.data_key = new_key
        count += sum(reencrypt_field_file(stored) for stored in likeness_files(grant))
        # Only once every file is rewritten: a failure half-way leaves both keys readable.
        DataKey.objects.filter(pk=old_key_id).delete()
    return count
