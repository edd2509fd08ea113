"""The site's segment cache (see ``engine.segment_cache``) over a Django storage: the default
storage (S3 in production, MEDIA_ROOT otherwise), one namespace per avatar, and emptied of an
avatar's entries when its consent is revoked or its biometric data erased.

Layout under the prefix::

    segment-cache/avatar-12/DIGEST/manifest.json   written last: the entry exists once it does
    segment-cache/avatar-12/DIGEST/last-use.json   {"used": epoch seconds, "bytes": n}
    segment-cache/avatar-12/DIGEST/TOKEN/NAME      the files, in a folder of the store that wrote
                                                   them, so two stores of one key never mix

A storage has no atomic rename, so each store writes its files under its own token and then
the manifest, which names that token with each file's size and SHA-256. A fetch verifies what it
copies: a missing or damaged file makes the entry a miss, and the entry is deleted. An avatar's
files (its cloned speech and face frames) are encrypted under its consent's data key
(core.crypto); sizes and hashes in the manifest are the plaintext's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver

from avatars.models import Avatar
from consent.signals import biometrics_erased, grant_revoked
from core.crypto import encrypted_content, read_plain
from engine.segment_cache import (
    NAMESPACE_PATTERN,
    CacheStats,
    FileRecord,
    Manifest,
    check_namespace,
    copy_verified,
    files_to_store,
    least_recently_used_first,
    split_key,
)

logger = logging.getLogger(__name__)

PREFIX = "segment-cache"


def avatar_of_key(key: str) -> Avatar | None:
    """The avatar whose data key encrypts an entry (None for a namespace of no avatar): its own
    namespace's or one of its lineages' (``personal_namespace``)."""
    match = re.fullmatch(r"avatar-(\d+)(?:--[A-Za-z0-9_-]+)?", split_key(key)[0])
    if match is None:
        return None
    return Avatar.objects.select_related("grant").filter(pk=int(match[1])).first()


def avatar_namespace(avatar_id: int) -> str:
    """The namespace of an avatar's segments: they are deleted together."""
    return f"avatar-{avatar_id}"


def personal_namespace(avatar_id: int, part_of: str) -> str:
    """The namespace of one lineage's personal segments (a campaign's recipients' names and
    companies, spoken by the avatar): deleted with the campaign's personal data, and with the
    avatar's segments. ``part_of`` is the RenderJob's: a campaign's samples ("campaign:7:sample")
    share their campaign's namespace."""
    lineage = "-".join(re.sub(r"[^A-Za-z0-9_]", "", part) for part in part_of.split(":")[:2])
    return f"{avatar_namespace(avatar_id)}--{lineage}"


@dataclass(frozen=True)
class _StoredEntry:
    namespace: str
    path: str
    bytes: int
    used: float


class StorageSegmentCache:
    """Segment cache entries in a Django ``Storage`` under ``prefix`` (layout in the module's
    docstring). With ``max_bytes``, stores are followed by a prune to that size when this
    object's running total (from its last scan plus what it stored since) passes the limit, or
    its last scan is older than ``RESCAN_SECONDS``: a scan reads one small file per entry, too
    many requests on S3 to make after every store. Make one per render."""

    MANIFEST = "manifest.json"
    LAST_USE = "last-use.json"
    RESCAN_SECONDS = 300
    # An entry folder without a manifest this old was left by a store that died.
    STALE_SECONDS = 3600

    def __init__(
        self,
        storage,
        prefix: str = PREFIX,
        max_bytes: int | None = None,
        avatar_of: Callable[[str], Avatar | None] | None = None,
    ):
        self.storage = storage
        # With ``avatar_of`` (the site's cache), an entry's files are encrypted under the data
        # key of the avatar it names; fetches read encrypted and plaintext entries alike.
        self.avatar_of = avatar_of
        self.prefix = prefix.strip("/")
        self.max_bytes = max_bytes
        self._bytes_since_scan: int | None = None
        self._scanned_at = 0.0

    def __repr__(self) -> str:
        return f"StorageSegmentCache({self.storage!r}, {self.prefix!r}, max_bytes={self.max_bytes})"

    def _entry_path(self, key: str) -> str:
        namespace, digest = split_key(key)
        return f"{self.prefix}/{namespace}/{digest}"

    def fetch(self, key: str, folder: Path) -> bool:
        entry = self._entry_path(key)
        try:
            manifest = self._read_manifest(entry, key)
        except FileNotFoundError:
            return False
        except ValueError:
            self._delete_entry(entry)
            return False
        try:
            copy_verified(
                manifest,
                lambda name: self._open_plain(f"{entry}/{manifest.folder}/{name}"),
                folder,
            )
        except (FileNotFoundError, ValueError) as error:
            logger.warning("Segment cache entry %s is damaged, deleting it: %s", key, error)
            self._delete_entry(entry)
            return False
        self._write_last_use(entry, manifest.bytes)
        return True

    def store(self, key: str, folder: Path) -> None:
        entry = self._entry_path(key)
        files = files_to_store(folder)
        if self.storage.exists(f"{entry}/{self.MANIFEST}"):
            return  # stored already (by another render); its files stand
        token = uuid.uuid4().hex
        likeness = self.avatar_of(key) if self.avatar_of else None
        records = []
        for path in files:
            name = f"{entry}/{token}/{path.name}"
            with open(path, "rb") as source:
                sha256 = hashlib.file_digest(source, "sha256").hexdigest()
                size = source.tell()
                source.seek(0)
                content = File(source, name=path.name)
                if likeness is not None:  # a cloned voice and face: encrypted like their source
                    content = encrypted_content(likeness, content)
                saved = self.storage.save(name, content)
            if saved != name:  # the storage renamed it: we cannot promise what a fetch finds
                self.storage.delete(saved)
                self._delete_files(f"{entry}/{token}")
                raise ValueError(f"The storage saved {name} as {saved}; the entry is dropped.")
            records.append(FileRecord(path.name, size, sha256))
        manifest = Manifest(key=key, files=tuple(records), stored_at=time.time(), folder=token)
        manifest_name = f"{entry}/{self.MANIFEST}"
        saved = self.storage.save(manifest_name, ContentFile(manifest.to_json().encode()))
        if saved != manifest_name:
            # Another store of this key wrote its manifest first: its entry stands, ours goes.
            self.storage.delete(saved)
            self._delete_files(f"{entry}/{token}")
            return
        self._write_last_use(entry, manifest.bytes)
        if self.max_bytes is not None:
            self._prune_if_due(manifest.bytes)

    def delete_namespace(self, namespace: str) -> int:
        folder = f"{self.prefix}/{check_namespace(namespace)}"
        deleted = sum(1 for entry in self._entry_paths(folder) if self._delete_entry(entry))
        self._remove_folder(folder)
        return deleted

    def namespaces(self) -> list[str]:
        """Every namespace holding entries (or folders left of them)."""
        return sorted(self._listdir(self.prefix)[0])

    def stats(self) -> CacheStats:
        return CacheStats.of((entry.namespace, entry.bytes, entry.used) for entry in self._scan())

    def prune(self, max_bytes: int) -> int:
        entries = list(self._scan(sweep=True))
        doomed = least_recently_used_first(
            entries, max_bytes, size=lambda e: e.bytes, used=lambda e: e.used
        )
        deleted = sum(1 for entry in doomed if self._delete_entry(entry.path))
        self._bytes_since_scan = sum(e.bytes for e in entries) - sum(e.bytes for e in doomed)
        self._scanned_at = time.monotonic()
        return deleted

    def _prune_if_due(self, stored_bytes: int) -> None:
        stale = time.monotonic() - self._scanned_at > self.RESCAN_SECONDS
        if self._bytes_since_scan is None or stale:
            self.prune(self.max_bytes)
            return
        self._bytes_since_scan += stored_bytes
        if self._bytes_since_scan > self.max_bytes:
            self.prune(self.max_bytes)

    def _open_plain(self, name: str) -> io.BytesIO:
        with self.storage.open(name, "rb") as handle:
            return io.BytesIO(read_plain(handle.read()))

    def _read_manifest(self, entry: str, key: str) -> Manifest:
        with self.storage.open(f"{entry}/{self.MANIFEST}", "rb") as handle:
            return Manifest.from_json(handle.read(), key)

    def _write_last_use(self, entry: str, size: int) -> None:
        """Record a use now. The storage does not overwrite: delete, then save; a reader in
        between falls back to the manifest."""
        name = f"{entry}/{self.LAST_USE}"
        self.storage.delete(name)
        saved = self.storage.save(
            name, ContentFile(json.dumps({"used": time.time(), "bytes": size}).encode())
        )
        if saved != name:  # a concurrent fetch wrote it first; one record of the use is enough
            self.storage.delete(saved)

    def _scan(self, *, sweep: bool = False) -> Iterator[_StoredEntry]:
        """Every entry with a manifest; with ``sweep``, the folders that stores left without one
        long ago (they died) and the damaged entries are deleted."""
        for namespace in self._listdir(self.prefix)[0]:
            if not NAMESPACE_PATTERN.fullmatch(namespace):
                continue
            for entry in self._entry_paths(f"{self.prefix}/{namespace}"):
                files = self._listdir(entry)[1]
                try:
                    if self.MANIFEST not in files:
                        raise FileNotFoundError(entry)
                    used, size = self._last_use(entry, f"{namespace}/{entry.rsplit('/', 1)[1]}")
                except FileNotFoundError:  # being stored, or deleted, or left by a dead store
                    if sweep and self._is_stale(entry):
                        self._delete_entry(entry)
                    continue
                except ValueError:
                    if sweep:
                        self._delete_entry(entry)
                    continue
                yield _StoredEntry(namespace, entry, size, used)

    def _last_use(self, entry: str, key: str) -> tuple[float, int]:
        """``(last use, bytes)`` from the sidecar, or the manifest without one."""
        try:
            with self.storage.open(f"{entry}/{self.LAST_USE}", "rb") as handle:
                record = json.loads(handle.read())
            return float(record["used"]), int(record["bytes"])
        except (FileNotFoundError, KeyError, TypeError, ValueError):
            manifest = self._read_manifest(entry, key)
            return manifest.stored_at, manifest.bytes

    def _is_stale(self, entry: str) -> bool:
        cutoff = time.time() - self.STALE_SECONDS
        for name in self._files_under(entry):
            try:
                if self.storage.get_modified_time(name).timestamp() > cutoff:
                    return False
            except FileNotFoundError:
                continue
        return True

    def _entry_paths(self, namespace_folder: str) -> list[str]:
        return [f"{namespace_folder}/{digest}" for digest in self._listdir(namespace_folder)[0]]

    def _delete_entry(self, entry: str) -> bool:
        """Delete an entry, its manifest first so that readers miss it from then on; False
        when it had no manifest (gone already, or never finished)."""
        manifest = f"{entry}/{self.MANIFEST}"
        existed = self.storage.exists(manifest)
        self.storage.delete(manifest)
        self._delete_files(entry)
        return existed

    def _delete_files(self, folder: str) -> None:
        for name in self._files_under(folder):
            self.storage.delete(name)
        for subfolder in self._listdir(folder)[0]:
            self._remove_folder(f"{folder}/{subfolder}")
        self._remove_folder(folder)

    def _files_under(self, folder: str) -> Iterator[str]:
        subfolders, files = self._listdir(folder)
        for subfolder in subfolders:
            yield from self._files_under(f"{folder}/{subfolder}")
        for name in files:
            yield f"{folder}/{name}"

    def _listdir(self, folder: str) -> tuple[list[str], list[str]]:
        try:
            return self.storage.listdir(folder)
        except FileNotFoundError:  # a file system storage's missing folder; S3 has none
            return [], []

    def _remove_folder(self, folder: str) -> None:
        """A file system storage keeps empty folders (S3 has none to remove)."""
        with contextlib.suppress(OSError):  # not empty: another store is writing there
            self.storage.delete(folder)


def site_segment_cache() -> StorageSegmentCache:
    """The site's cache: the default storage under ``segment-cache/``, pruned to
    ``SEGMENT_CACHE_MAX_BYTES``."""
    from django.core.files.storage import default_storage

    return StorageSegmentCache(
        default_storage,
        PREFIX,
        max_bytes=settings.SEGMENT_CACHE_MAX_BYTES,
        avatar_of=avatar_of_key,
    )


def delete_segments_of_grant_after_commit(grant) -> None:
    """Once the transaction commits, delete the cached segments of every avatar of the grant,
    its lineages' personal ones included: they are made from the subject's face and voice."""
    avatar_ids = Avatar.objects.filter(grant=grant).values_list("pk", flat=True)
    owned = [avatar_namespace(pk) for pk in avatar_ids]
    if not owned:
        return

    def delete():
        cache = site_segment_cache()
        lineages = [n for n in cache.namespaces() if n.startswith(tuple(f"{a}--" for a in owned))]
        for namespace in owned + lineages:
            cache.delete_namespace(namespace)

    # robust: a storage failure is logged and does not undo the committed revocation; the
    # erasure after the retention period deletes them again.
    transaction.on_commit(delete, robust=True)


@receiver(grant_revoked)
def forget_segments_of_revoked_grant(sender, grant, **kwargs) -> None:
    delete_segments_of_grant_after_commit(grant)


@receiver(biometrics_erased)
def forget_segments_of_erased_grant(sender, grant, **kwargs) -> None:
    # Answers nothing: the erasure adds up the answers as the avatars erased (the avatars app's).
    delete_segments_of_grant_after_commit(grant)
