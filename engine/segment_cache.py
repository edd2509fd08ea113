"""A cache of rendered segments (one spoken sentence each): the speech (a WAV and its JSON word
and phone timings) and the face frames (a lossless .mkv), so that re-rendering a lesson with one
sentence changed reuses every other segment.

An entry is the set of regular files of one folder, stored under a key made by ``segment_key``
from everything the segment's output depends on. Keys live in namespaces (the site uses one per
avatar, ``avatar-12``) so that one avatar's entries can be deleted together.

``LocalSegmentCache`` keeps entries in a folder::

    ROOT/NAMESPACE/DIGEST/manifest.json   file names, sizes and SHA-256; its mtime is the last use
    ROOT/NAMESPACE/DIGEST/files/NAME      the entry's files
    ROOT/.staging/, ROOT/.trash/          entries being written or deleted

An entry is written under ``.staging`` and renamed into place, so a reader sees all of it or
none; of two processes storing one key, the first rename wins and the other's copy is dropped.
A fetch checks every file against the manifest: a damaged entry is a miss and is deleted.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")
# The names an entry's files may have: the pipeline's own (speech.wav, timings.json, face.mkv).
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
MANIFEST_FORMAT = 1
CHUNK_BYTES = 1024 * 1024


def check_namespace(namespace: str) -> str:
    """``namespace`` itself, or ValueError when it is not one safe path component."""
    if not isinstance(namespace, str) or not NAMESPACE_PATTERN.fullmatch(namespace):
        raise ValueError(
            f"The cache namespace {namespace!r} may only hold letters, digits, '-' and '_'."
        )
    return namespace


def segment_key(namespace: str, **parts) -> str:
    """The cache key ``"{namespace}/{sha256}"`` of a segment whose output depends on ``parts``
    (its text, the voice profile's digest, the engines and their settings...): the SHA-256 of
    the parts as canonical JSON (sorted keys), so equal parts give the same key in any process.

    Parts are JSON values (str, int, float, bool, None, lists, dicts with str keys); anything
    else (a Path, bytes, an object) is a TypeError: pass a digest of it instead. Note that 1 and
    1.0 are different parts."""
    check_namespace(namespace)
    try:
        canonical = json.dumps(
            parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except TypeError as error:
        raise TypeError(f"A segment key's parts must be JSON values: {error}") from error
    return f"{namespace}/{hashlib.sha256(canonical.encode()).hexdigest()}"


def split_key(key: str) -> tuple[str, str]:
    """``(namespace, digest)`` of a key made by ``segment_key``; ValueError for anything else."""
    namespace, _, digest = key.partition("/") if isinstance(key, str) else ("", "", "")
    if not NAMESPACE_PATTERN.fullmatch(namespace) or not DIGEST_PATTERN.fullmatch(digest):
        raise ValueError(f"{key!r} is not a segment cache key (make one with segment_key).")
    return namespace, digest


def files_to_store(folder: Path) -> list[Path]:
    """The regular files directly in ``folder`` (not links, not subfolders), by name. ValueError
    when there are none or a name is not one a cache entry may hold."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"There is no folder {folder} to store in the segment cache.")
    files = sorted(
        (Path(entry.path) for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False)),
        key=lambda path: path.name,
    )
    if not files:
        raise ValueError(f"The folder {folder} has no files to store in the segment cache.")
    for path in files:
        check_file_name(path.name)
    return files


def check_file_name(name: str) -> str:
    """``name`` itself, or ValueError when it is not a plain file name (no folder, not hidden);
    also what keeps a tampered manifest from writing outside the fetch folder."""
    if not isinstance(name, str) or not FILE_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"The file name {name!r} cannot be cached: use letters, digits, '.', '-' and '_',"
            " not starting with '.'."
        )
    return name


def copy_hashed(source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
    """Copy one open file to another; returns the bytes copied and their SHA-256."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """One file of an entry as its manifest lists it."""

    name: str
    bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    """What an entry holds; written last, so an entry without one does not exist."""

    key: str
    files: tuple[FileRecord, ...]
    stored_at: float  # seconds since the epoch
    folder: str = "files"  # the entry's subfolder that holds the files

    @property
    def bytes(self) -> int:
        return sum(record.bytes for record in self.files)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MANIFEST_FORMAT,
                "key": self.key,
                "stored_at": self.stored_at,
                "bytes": self.bytes,
                "folder": self.folder,
                "files": [record.to_dict() for record in self.files],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes, key: str) -> Manifest:
        """ValueError when the text is not a manifest of ``key`` (damaged, or another key's)."""
        try:
            data = json.loads(text)
            if data["format"] != MANIFEST_FORMAT or data["key"] != key:
                raise ValueError("another format or key")
            files = tuple(
                FileRecord(check_file_name(item["name"]), int(item["bytes"]), str(item["sha256"]))
                for item in data["files"]
            )
            stored_at = float(data["stored_at"])
            folder = check_file_name(data["folder"])
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise ValueError(f"The manifest of the cache entry {key} is damaged.") from error
        if not files or len({record.name for record in files}) != len(files):
            raise ValueError(f"The manifest of the cache entry {key} is damaged.")
        return cls(key=key, files=files, stored_at=stored_at, folder=folder)


@dataclass(frozen=True)
class CacheStats:
    """What a cache holds: entries, the bytes of their files, entries per namespace, and the
    oldest and newest last use (UTC; None when empty)."""

    entries: int = 0
    bytes: int = 0
    namespaces: dict[str, int] = field(default_factory=dict)
    oldest_use: datetime | None = None
    newest_use: datetime | None = None

    @classmethod
    def of(cls, entries: Iterable[tuple[str, int, float]]) -> CacheStats:
        """Stats of ``(namespace, bytes, last use in epoch seconds)`` per entry."""
        namespaces: dict[str, int] = {}
        total, uses = 0, []
        for namespace, size, used in entries:
            namespaces[namespace] = namespaces.get(namespace, 0) + 1
            total += size
            uses.append(used)
        return cls(
            entries=len(uses),
            bytes=total,
            namespaces=dict(sorted(namespaces.items())),
            oldest_use=datetime.fromtimestamp(min(uses), UTC) if uses else None,
            newest_use=datetime.fromtimestamp(max(uses), UTC) if uses else None,
        )

    def to_dict(self) -> dict:
        return {
            "entries": self.entries,
            "bytes": self.bytes,
            "namespaces": self.namespaces,
            "oldest_use": self.oldest_use.isoformat() if self.oldest_use else None,
            "newest_use": self.newest_use.isoformat() if self.newest_use else None,
        }


def least_recently_used_first(entries: Iterable, max_bytes: int, *, size, used) -> list:
    """The entries to delete, oldest last use first, so that the rest hold ≤ ``max_bytes``."""
    if max_bytes < 0:
        raise ValueError("The cache's size limit cannot be negative.")
    ordered = sorted(entries, key=used)
    total = sum(size(entry) for entry in ordered)
    doomed = []
    for entry in ordered:
        if total <= max_bytes:
            break
        doomed.append(entry)
        total -= size(entry)
    return doomed


@runtime_checkable
class SegmentCache(Protocol):
    """Where rendered segments are kept between renders, by key (see ``segment_key``)."""

    def fetch(self, key: str, folder: Path) -> bool:
        """Copy the entry's files into ``folder`` (made if missing): True on a hit, which counts
        as a use; False on a miss, with nothing left in the folder."""
        ...

    def store(self, key: str, folder: Path) -> None:
        """Keep every regular file directly in ``folder`` under ``key``, all or nothing."""
        ...

    def delete_namespace(self, namespace: str) -> int:
        """Delete every entry of the namespace; returns how many went."""
        ...

    def stats(self) -> CacheStats: ...

    def prune(self, max_bytes: int) -> int:
        """Delete the least recently used entries until the rest hold at most ``max_bytes``;
        returns how many went."""
        ...


class NullSegmentCache:
    """No cache: every fetch misses and nothing is stored."""

    def fetch(self, key: str, folder: Path) -> bool:
        split_key(key)
        return False

    def store(self, key: str, folder: Path) -> None:
        split_key(key)

    def delete_namespace(self, namespace: str) -> int:
        check_namespace(namespace)
        return 0

    def stats(self) -> CacheStats:
        return CacheStats()

    def prune(self, max_bytes: int) -> int:
        return 0


@dataclass(frozen=True)
class CachePlaces:
    """Where a render keeps its segments: what any render may reuse under ``namespace``, and a
    personal segment (a campaign recipient's name or company) under ``personal_namespace``, one
    lineage's own, which the site deletes with that lineage's personal data; without one, a
    personal segment is made for its video only and never kept."""

    cache: SegmentCache
    namespace: str
    personal_namespace: str = ""

    def __post_init__(self) -> None:
        check_namespace(self.namespace)
        if self.personal_namespace:
            check_namespace(self.personal_namespace)
            if self.personal_namespace == self.namespace:
                raise ValueError("Personal segments need a namespace of their own.")

    def of(self, personal: bool) -> tuple[SegmentCache, str]:
        """The cache and namespace of a segment, personal or not."""
        if not personal:
            return self.cache, self.namespace
        if self.personal_namespace:
            return self.cache, self.personal_namespace
        return NullSegmentCache(), self.namespace


@dataclass(frozen=True)
class _LocalEntry:
    namespace: str
    path: Path
    bytes: int
    used: float


class LocalSegmentCache:
    """Entries as folders under ``root`` (see the module's docstring for the layout). With
    ``max_bytes``, every store is followed by a prune to that size."""

    MANIFEST = "manifest.json"
    FILES = "files"
    STAGING = ".staging"
    TRASH = ".trash"
    # Staging folders older than this were left by a process that died while storing.
    STALE_STAGING_SECONDS = 3600

    def __init__(self, root: Path, max_bytes: int | None = None):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"LocalSegmentCache({str(self.root)!r}, max_bytes={self.max_bytes})"

    def _entry_path(self, key: str) -> Path:
        namespace, digest = split_key(key)
        return self.root / namespace / digest

    def fetch(self, key: str, folder: Path) -> bool:
        entry = self._entry_path(key)
        try:
            manifest = Manifest.from_json((entry / self.MANIFEST).read_bytes(), key)
        except FileNotFoundError:
            return False
        except ValueError:
            self._discard(entry)
            return False
        try:
            files = entry / manifest.folder
            copy_verified(manifest, lambda name: open(files / name, "rb"), folder)  # noqa: SIM115
        except FileNotFoundError:  # deleted or pruned while we copied
            return False
        except ValueError:
            self._discard(entry)
            return False
        _touch(entry / self.MANIFEST)
        return True

    def store(self, key: str, folder: Path) -> None:
        namespace, digest = split_key(key)
        files = files_to_store(folder)
        staging = self.root / self.STAGING / f"{digest}-{uuid.uuid4().hex}"
        (staging / self.FILES).mkdir(parents=True)
        try:
            records = []
            for path in files:
                copy = staging / self.FILES / path.name
                with open(path, "rb") as source, open(copy, "wb") as out:
                    size, sha256 = copy_hashed(source, out)
                records.append(FileRecord(path.name, size, sha256))
            manifest = Manifest(key=key, files=tuple(records), stored_at=time.time())
            (staging / self.MANIFEST).write_text(manifest.to_json())
            _touch(staging / self.MANIFEST)
            (self.root / namespace).mkdir(exist_ok=True)
            self._move_into_place(staging, self.root / namespace / digest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already unless another store won
        if self.max_bytes is not None:
            self.prune(self.max_bytes)

    def _move_into_place(self, staging: Path, entry: Path) -> None:
        try:
            os.rename(staging, entry)
        except FileNotFoundError:
            pass  # the namespace was deleted meanwhile: what we stored is not wanted
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            # Another process stored this key first; its entry stands and ours is dropped.
            with contextlib.suppress(FileNotFoundError):
                _touch(entry / self.MANIFEST)

    def delete_namespace(self, namespace: str) -> int:
        folder = self.root / check_namespace(namespace)
        count = sum(1 for _ in self._entries(namespace))
        self._discard(folder)
        return count

    def stats(self) -> CacheStats:
        return CacheStats.of(
            (entry.namespace, entry.bytes, entry.used) for entry in self._entries()
        )

    def prune(self, max_bytes: int) -> int:
        doomed = least_recently_used_first(
            self._entries(), max_bytes, size=lambda e: e.bytes, used=lambda e: e.used
        )
        deleted = sum(1 for entry in doomed if self._discard(entry.path))
        self._sweep_stale_staging()
        return deleted

    def _entries(self, only: str | None = None) -> Iterator[_LocalEntry]:
        """Every entry (of the namespace ``only``) with a readable manifest; a damaged one is
        deleted."""
        for namespace in _subfolders(self.root):
            if not NAMESPACE_PATTERN.fullmatch(namespace.name):
                continue  # .staging, .trash
            if only is not None and namespace.name != only:
                continue
            for entry in _subfolders(namespace):
                manifest_path = entry / self.MANIFEST
                try:
                    used = manifest_path.stat().st_mtime
                    key = f"{namespace.name}/{entry.name}"
                    manifest = Manifest.from_json(manifest_path.read_bytes(), key)
                except FileNotFoundError:
                    continue
                except ValueError:
                    self._discard(entry)
                    continue
                yield _LocalEntry(namespace.name, entry, manifest.bytes, used)

    def _discard(self, path: Path) -> bool:
        """Move ``path`` out of sight at once (rename), then delete it; False when it was gone."""
        trash = self.root / self.TRASH
        trash.mkdir(parents=True, exist_ok=True)
        doomed = trash / uuid.uuid4().hex
        try:
            os.rename(path, doomed)
        except FileNotFoundError:
            return False
        shutil.rmtree(doomed, ignore_errors=True)
        return True

    def _sweep_stale_staging(self) -> None:
        cutoff = time.time() - self.STALE_STAGING_SECONDS
        for folder in _subfolders(self.root / self.STAGING):
            with contextlib.suppress(FileNotFoundError):
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(folder) if entry.is_dir()]
    except FileNotFoundError:
        return []


def _touch(path: Path) -> None:
    """Set the mtime to now, to the nanosecond (the file system's own clock may be coarser)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def copy_verified(manifest: Manifest, open_file, folder: Path) -> None:
    """Copy an entry's files (``open_file(name)`` opens one for reading) into ``folder``,
    checking each one's size and SHA-256 against ``manifest``. ValueError for a file that
    differs, FileNotFoundError for one that is gone; either way nothing copied is left."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    try:
        for record in manifest.files:
            target = folder / record.name
            copied.append(target)
            with open_file(record.name) as source, open(target, "wb") as out:
                size, sha256 = copy_hashed(source, out)
            if (size, sha256) != (record.bytes, record.sha256):
                raise ValueError(f"{record.name} differs from its manifest")
    except (FileNotFoundError, ValueError):
        _remove(copied)
        raise


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
