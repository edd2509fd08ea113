"""The site's segment cache over a Django storage: whole entries or none, verified on the way
out, least recently used first out, and emptied of an avatar's segments when its consent goes."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.utils import timezone

from consent import services as consent_services
from consent.models import ConsentGrant, LedgerEntry
from engine.segment_cache import SegmentCache, segment_key
from rendering.segment_cache import (
    StorageSegmentCache,
    avatar_namespace,
    avatar_of_key,
    personal_namespace,
    site_segment_cache,
)
from tests.factories import AvatarFactory, GrantFactory
from tests.test_s3_storage import bucket_keys, s3_endpoint, s3_storage  # noqa: F401 (fixtures)


def segment_folder(folder: Path, seed: str) -> Path:
    """A segment's files as the pipeline writes them (tiny stand-ins)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "speech.wav").write_bytes(f"RIFF {seed} ".encode() * 50)
    (folder / "timings.json").write_text(json.dumps({"words": [[seed, 0.0, 0.4]]}))
    (folder / "face.mkv").write_bytes(bytes(range(256)) * 4 + seed.encode())
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def storage(tmp_path) -> FileSystemStorage:
    return FileSystemStorage(location=tmp_path / "storage")


@pytest.fixture
def cache(storage) -> StorageSegmentCache:
    return StorageSegmentCache(storage)


def test_a_store_and_a_fetch_give_back_the_same_bytes(cache, storage, tmp_path):
    stored = segment_folder(tmp_path / "rendered", "one")
    key = segment_key("avatar-12", text="Hello there.")
    cache.store(key, stored)
    assert isinstance(cache, SegmentCache)
    assert cache.fetch(key, tmp_path / "reused")
    assert contents(tmp_path / "reused") == contents(stored)
    assert storage.exists(f"segment-cache/{key}/manifest.json")
    assert not cache.fetch(segment_key("avatar-12", text="Goodbye."), tmp_path / "missed")


def test_a_tampered_file_is_a_miss_and_the_entry_goes(cache, storage, tmp_path):
    key = segment_key("avatar-12", text="Hello there.")
    cache.store(key, segment_folder(tmp_path / "rendered", "one"))
    face = next(Path(storage.location).rglob("face.mkv"))
    face.write_bytes(face.read_bytes().replace(b"one", b"two"))
    assert not cache.fetch(key, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())
    assert cache.stats().entries == 0
    assert not any(Path(storage.location).rglob("*.mkv"))


def test_an_entry_missing_a_file_is_a_miss_and_the_entry_goes(cache, storage, tmp_path):
    key = segment_key("avatar-12", text="Hello there.")
    cache.store(key, segment_folder(tmp_path / "rendered", "one"))
    next(Path(storage.location).rglob("speech.wav")).unlink()
    assert not cache.fetch(key, tmp_path / "out")
    assert cache.stats().entries == 0


def test_a_manifest_cannot_write_outside_the_fetch_folder(cache, storage, tmp_path):
    key = segment_key("avatar-12", text="Hello there.")
    cache.store(key, segment_folder(tmp_path / "rendered", "one"))
    manifest = Path(storage.path(f"segment-cache/{key}/manifest.json"))
    data = json.loads(manifest.read_text())
    data["files"][0]["name"] = "../escaped.wav"
    manifest.write_text(json.dumps(data))
    assert not cache.fetch(key, tmp_path / "out" / "inner")
    assert not (tmp_path / "out" / "escaped.wav").exists()
    assert cache.stats().entries == 0


def test_pruning_deletes_the_least_recently_used_entries_first(cache, tmp_path):
    keys = [segment_key("avatar-12", sentence=n) for n in range(4)]
    for n, key in enumerate(keys):
        cache.store(key, segment_folder(tmp_path / f"s{n}", f"s{n}"))
    entry_bytes = cache.stats().bytes // 4
    assert cache.fetch(keys[0], tmp_path / "reused")
    assert cache.prune(max_bytes=2 * entry_bytes) == 2
    hits = [cache.fetch(key, tmp_path / f"again{n}") for n, key in enumerate(keys)]
    assert hits == [True, False, False, True]


def test_a_cache_with_a_size_limit_prunes_when_a_store_passes_it(storage, tmp_path):
    entry_bytes = sum(len(data) for data in contents(segment_folder(tmp_path / "x", "s")).values())
    cache = StorageSegmentCache(storage, max_bytes=2 * entry_bytes)
    for n in range(5):
        cache.store(segment_key("avatar-12", sentence=n), segment_folder(tmp_path / f"s{n}", "s"))
        assert cache.stats().bytes <= 2 * entry_bytes
    hits = [cache.fetch(segment_key("avatar-12", sentence=n), tmp_path / f"o{n}") for n in range(5)]
    assert hits == [False, False, False, True, True]


def test_of_two_stores_of_one_key_the_first_manifest_wins(cache, storage, tmp_path, monkeypatch):
    key = segment_key("avatar-12", text="Hello there.")
    cache.store(key, segment_folder(tmp_path / "first", "first"))
    # The second store looked for the entry before the first wrote its manifest.
    exists, asked = storage.exists, []

    def exists_once_too_early(name):
        asked.append(name)
        return len(asked) > 1 and exists(name)

    monkeypatch.setattr(storage, "exists", exists_once_too_early)
    cache.store(key, segment_folder(tmp_path / "second", "second"))
    monkeypatch.undo()
    assert cache.fetch(key, tmp_path / "out")
    assert contents(tmp_path / "out") == contents(tmp_path / "first")
    entry = Path(storage.path(f"segment-cache/{key}"))
    assert sorted(p.name for p in entry.iterdir() if p.is_file()) == [
        "last-use.json",
        "manifest.json",
    ]
    assert len([p for p in entry.iterdir() if p.is_dir()]) == 1  # the loser's files went


def test_deleting_a_namespace_deletes_its_entries_only(cache, storage, tmp_path):
    for n, namespace in enumerate(["avatar-12", "avatar-12", "avatar-13"]):
        cache.store(segment_key(namespace, n=n), segment_folder(tmp_path / f"s{n}", namespace))
    assert cache.stats().namespaces == {"avatar-12": 2, "avatar-13": 1}
    assert cache.delete_namespace("avatar-12") == 2
    assert cache.stats().namespaces == {"avatar-13": 1}
    assert not Path(storage.path("segment-cache/avatar-12")).exists()


def test_the_site_cache_is_the_default_storage_under_its_prefix(settings):
    settings.SEGMENT_CACHE_MAX_BYTES = 12345
    cache = site_segment_cache()
    assert cache.storage is default_storage and cache.prefix == "segment-cache"
    assert cache.max_bytes == 12345


def cache_one_segment_of(avatar, tmp_path) -> str:
    key = segment_key(avatar_namespace(avatar.pk), text="Hello there.")
    site_segment_cache().store(key, segment_folder(tmp_path / key, "one"))
    return key


@pytest.mark.django_db
def test_revoking_a_grant_deletes_its_avatars_segments_after_commit(
    tmp_path, django_capture_on_commit_callbacks
):
    grant = GrantFactory()
    revoked = [
        cache_one_segment_of(AvatarFactory(grant=grant, portrait_bytes=b"p"), tmp_path)
        for _ in range(2)
    ]
    kept = cache_one_segment_of(AvatarFactory(portrait_bytes=b"p"), tmp_path)
    with django_capture_on_commit_callbacks() as callbacks:
        consent_services.revoke_grant(
            grant, reason="I changed my mind.", evidence=consent_services.Evidence()
        )
    assert site_segment_cache().stats().entries == 3  # nothing goes before the commit
    for callback in callbacks:
        callback()
    cache = site_segment_cache()
    assert [cache.fetch(key, tmp_path / "out") for key in revoked] == [False, False]
    assert cache.fetch(kept, tmp_path / "kept")


@pytest.mark.django_db
def test_revoking_a_grant_deletes_its_avatars_campaign_segments_too_and_no_one_elses(
    tmp_path, django_capture_on_commit_callbacks
):
    """A campaign's personal segments (its recipients' names spoken by the avatar) lie in a
    namespace of their own, encrypted under the avatar's key and deleted with its segments; an
    avatar whose id starts with the same digits keeps its own."""
    grant = GrantFactory()
    avatar = AvatarFactory(grant=grant, portrait_bytes=b"p")
    other = AvatarFactory(portrait_bytes=b"p")
    while not str(other.pk).startswith(str(avatar.pk)):  # avatar 3 and avatar 31, say
        other = AvatarFactory(portrait_bytes=b"p")
    cache = site_segment_cache()
    keys = {}
    for name, owner in (("revoked", avatar), ("kept", other)):
        keys[name] = segment_key(personal_namespace(owner.pk, "campaign:7"), text="Hi Xanthe,")
        folder = tmp_path / name
        folder.mkdir()
        (folder / "timings.json").write_text('{"words": [["xanthe", 0.1, 0.5]]}')
        cache.store(keys[name], folder)
        assert avatar_of_key(keys[name]) == owner
    folder = f"segment-cache/{personal_namespace(avatar.pk, 'campaign:7')}"
    stored = b"".join(default_storage.open(f"{folder}/{p}").read() for p in _files(folder))
    assert b"xanthe" not in stored.lower()  # encrypted under the avatar's data key
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.revoke_grant(
            grant, reason="I changed my mind.", evidence=consent_services.Evidence()
        )
    assert not cache.fetch(keys["revoked"], tmp_path / "out")
    assert cache.fetch(keys["kept"], tmp_path / "kept")
    assert personal_namespace(avatar.pk, "campaign:7") not in cache.namespaces()


def _files(folder: str):
    folders, files = default_storage.listdir(folder)
    yield from files
    for sub in folders:
        yield from (f"{sub}/{name}" for name in _files(f"{folder}/{sub}"))


@pytest.mark.django_db
def test_erasing_biometrics_deletes_the_avatars_segments_and_counts_avatars_only(
    tmp_path, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(days=400)
    grant = GrantFactory(status=ConsentGrant.Status.REVOKED, revoked_at=long_ago)
    key = cache_one_segment_of(AvatarFactory(grant=grant, portrait_bytes=b"p"), tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_services.erase_biometrics(timezone.now()) == [grant.pk]
    assert not site_segment_cache().fetch(key, tmp_path / "out")
    erased = LedgerEntry.objects.get(grant_id=grant.pk, event="data_deleted").payload
    assert erased["avatars"] == 1


@pytest.mark.django_db
def test_the_command_prints_stats_and_prunes(tmp_path, settings):
    for n in range(3):
        key = segment_key(f"avatar-{n % 2 + 1}", n=n)
        site_segment_cache().store(key, segment_folder(tmp_path / f"s{n}", "s"))
    out = io.StringIO()
    call_command("segment_cache", "stats", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "3 entries, 0.0 MB"
    assert lines[1].startswith("last used: oldest ")
    assert lines[2:] == ["  avatar-1: 2", "  avatar-2: 1"]

    out = io.StringIO()
    call_command("segment_cache", "prune", "--max-bytes", "0", stdout=out)
    assert out.getvalue() == "Deleted 3 entries; 0 left, 0.0 MB of 0.0 MB.\n"
    settings.SEGMENT_CACHE_MAX_BYTES = 1
    out = io.StringIO()
    call_command("segment_cache", "prune", stdout=out)
    assert out.getvalue().startswith("Deleted 0 entries; 0 left")


def test_the_cache_works_over_s3(s3_storage, tmp_path):  # noqa: F811 (the imported fixture)
    cache = StorageSegmentCache(s3_storage, prefix="segment-cache-test")
    stored = segment_folder(tmp_path / "rendered", "one")
    key = segment_key("avatar-12", text="Stored far away.")
    cache.store(key, stored)
    assert f"segment-cache-test/{key}/manifest.json" in bucket_keys(s3_storage)
    assert cache.fetch(key, tmp_path / "reused")
    assert contents(tmp_path / "reused") == contents(stored)
    assert cache.stats().namespaces == {"avatar-12": 1}
    assert cache.delete_namespace("avatar-12") == 1
    assert not any(name.startswith("segment-cache-test/") for name in bucket_keys(s3_storage))
