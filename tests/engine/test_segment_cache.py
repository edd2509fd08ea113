"""The segment cache: keys from everything a segment depends on, entries stored whole or not at
all, least recently used first out, and the command line's view of it."""

import hashlib
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from engine.segment_cache import (
    LocalSegmentCache,
    NullSegmentCache,
    SegmentCache,
    segment_key,
    split_key,
)

ROOT = Path(__file__).resolve().parents[2]
PARTS = {
    "text": "Each video is labeled as synthetic.",
    "voice_profile_sha256": "ab" * 32,
    "voice_engine": "world",
    "speed": 1.0,
    "lexicon": {"Likeness": "LYKE-ness"},
    "size": [512, 512],
}


def segment_folder(folder: Path, seed: str, kilobytes: int = 1) -> Path:
    """A segment's files as the pipeline writes them (tiny stand-ins)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "speech.wav").write_bytes(f"RIFF {seed} ".encode() * (kilobytes * 100))
    (folder / "timings.json").write_text(json.dumps({"words": [[seed, 0.0, 0.4]]}))
    (folder / "face.mkv").write_bytes(bytes(range(256)) * (kilobytes * 4) + seed.encode())
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def cache(tmp_path) -> LocalSegmentCache:
    return LocalSegmentCache(tmp_path / "cache")


def test_a_key_is_the_namespace_and_a_digest_of_the_parts_in_any_order():
    key = segment_key("avatar-12", **PARTS)
    assert key == segment_key("avatar-12", **dict(reversed(PARTS.items())))
    namespace, digest = split_key(key)
    assert namespace == "avatar-12" and len(digest) == 64
    canonical = json.dumps(PARTS, sort_keys=True, separators=(",", ":")).encode()
    assert digest == hashlib.sha256(canonical).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Each video is labelled as synthetic."},
        {"voice_profile_sha256": "cd" * 32},
        {"voice_engine": "xtts"},
        {"speed": 1.1},
        {"lexicon": {"Likeness": "LIKE-ness"}},
        {"size": [512, 256]},
        {"extra": None},
    ],
)
def test_every_part_changes_the_key(change):
    assert segment_key("avatar-12", **PARTS) != segment_key("avatar-12", **{**PARTS, **change})


def test_the_namespace_changes_the_key_but_not_its_digest():
    one, other = segment_key("avatar-12", **PARTS), segment_key("avatar-13", **PARTS)
    assert one != other and split_key(one)[1] == split_key(other)[1]


@pytest.mark.parametrize("namespace", ["", "avatar/12", "..", "avatar 12", "avatar.12", "ä"])
def test_a_namespace_must_be_one_safe_path_component(namespace):
    with pytest.raises(ValueError, match="namespace"):
        segment_key(namespace, text="hello")


def test_a_part_that_is_not_a_json_value_is_a_type_error():
    with pytest.raises(TypeError, match="JSON"):
        segment_key("avatar-12", portrait=Path("portrait.png"))


def test_a_store_and_a_fetch_give_back_the_same_bytes(cache, tmp_path):
    stored = segment_folder(tmp_path / "rendered", "one")
    key = segment_key("avatar-12", **PARTS)
    cache.store(key, stored)
    assert cache.fetch(key, tmp_path / "reused")
    assert contents(tmp_path / "reused") == contents(stored)
    assert cache.stats().entries == 1


def test_a_key_never_stored_is_a_miss_that_leaves_the_folder_empty(cache, tmp_path):
    cache.store(segment_key("avatar-12", text="stored"), segment_folder(tmp_path / "a", "a"))
    assert not cache.fetch(segment_key("avatar-12", text="other"), tmp_path / "out")
    assert not any((tmp_path / "out").glob("*"))


def test_only_the_regular_files_directly_in_the_folder_are_stored(cache, tmp_path):
    folder = segment_folder(tmp_path / "rendered", "one")
    (folder / "scratch").mkdir()
    (folder / "scratch" / "frame0001.png").write_bytes(b"png")
    key = segment_key("avatar-12", text="hello")
    cache.store(key, folder)
    cache.fetch(key, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "face.mkv",
        "speech.wav",
        "timings.json",
    ]


def test_a_damaged_file_is_a_miss_and_the_entry_goes(cache, tmp_path):
    key = segment_key("avatar-12", text="hello")
    cache.store(key, segment_folder(tmp_path / "rendered", "one"))
    stored_face = next((cache.root / key).rglob("face.mkv"))
    stored_face.write_bytes(stored_face.read_bytes()[:-1] + b"!")
    assert not cache.fetch(key, tmp_path / "out")
    assert not any((tmp_path / "out").glob("*"))
    assert cache.stats().entries == 0


def test_pruning_deletes_the_least_recently_used_entries_first(cache, tmp_path):
    keys = [segment_key("avatar-12", sentence=n) for n in range(4)]
    for n, key in enumerate(keys):
        cache.store(key, segment_folder(tmp_path / f"s{n}", f"s{n}"))
    entry_bytes = cache.stats().bytes // 4
    assert cache.fetch(keys[0], tmp_path / "reused")  # the oldest store is now the newest use
    assert cache.prune(max_bytes=2 * entry_bytes) == 2
    assert cache.stats().bytes <= 2 * entry_bytes
    hits = [cache.fetch(key, tmp_path / f"again{n}") for n, key in enumerate(keys)]
    assert hits == [True, False, False, True]


def test_a_cache_with_a_size_limit_prunes_after_each_store(tmp_path):
    cache = LocalSegmentCache(tmp_path / "cache", max_bytes=10_000)
    for n in range(6):
        cache.store(segment_key("avatar-12", sentence=n), segment_folder(tmp_path / f"s{n}", "s"))
        assert cache.stats().bytes <= 10_000
    assert cache.fetch(segment_key("avatar-12", sentence=5), tmp_path / "newest")
    assert not cache.fetch(segment_key("avatar-12", sentence=0), tmp_path / "oldest")


def test_deleting_a_namespace_deletes_its_entries_only(cache, tmp_path):
    for n, namespace in enumerate(["avatar-12", "avatar-12", "avatar-13"]):
        cache.store(segment_key(namespace, n=n), segment_folder(tmp_path / f"s{n}", namespace))
    assert cache.stats().namespaces == {"avatar-12": 2, "avatar-13": 1}
    assert cache.delete_namespace("avatar-12") == 2
    assert cache.delete_namespace("avatar-12") == 0
    assert cache.stats().namespaces == {"avatar-13": 1}
    assert not (cache.root / "avatar-12").exists()


def test_stats_count_entries_bytes_namespaces_and_last_uses(cache, tmp_path):
    assert cache.stats().entries == 0 and cache.stats().oldest_use is None
    first = segment_folder(tmp_path / "a", "a")
    cache.store(segment_key("avatar-1", n=1), first)
    cache.store(segment_key("avatar-2", n=1), segment_folder(tmp_path / "b", "b"))
    stats = cache.stats()
    assert stats.entries == 2 and stats.namespaces == {"avatar-1": 1, "avatar-2": 1}
    assert stats.bytes == 2 * sum(len(data) for data in contents(first).values())
    assert stats.oldest_use <= stats.newest_use


def test_the_null_cache_never_hits_and_keeps_nothing(tmp_path):
    cache = NullSegmentCache()
    key = segment_key("avatar-12", text="hello")
    cache.store(key, segment_folder(tmp_path / "a", "a"))
    assert not cache.fetch(key, tmp_path / "out")
    assert cache.stats().entries == 0 and cache.prune(0) == 0
    assert isinstance(cache, SegmentCache) and isinstance(LocalSegmentCache(tmp_path), SegmentCache)


def store_many(root: str, folder: str, keys: list[str], start) -> None:
    """One process of the race below: store every key from this process's own files."""
    cache = LocalSegmentCache(Path(root))
    start.wait()
    for key in keys:
        cache.store(key, Path(folder))


def test_two_processes_storing_the_same_keys_leave_one_whole_entry_each(cache, tmp_path):
    keys = [segment_key("avatar-12", sentence=n) for n in range(40)]
    mine = segment_folder(tmp_path / "mine", "mine", kilobytes=64)
    theirs = segment_folder(tmp_path / "theirs", "theirs", kilobytes=64)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    racers = [
        context.Process(target=store_many, args=(str(cache.root), str(folder), keys, start))
        for folder in (mine, theirs)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    for n, key in enumerate(keys):
        assert cache.fetch(key, tmp_path / f"out{n}")
        assert contents(tmp_path / f"out{n}") in (contents(mine), contents(theirs))
    assert cache.stats().entries == len(keys)
    assert not any((cache.root / ".staging").iterdir())


def run_cli(*args) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "engine", "cache", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_command_line_prints_stats_and_prunes_to_a_size(cache, tmp_path):
    for n in range(3):
        cache.store(segment_key(f"avatar-{n % 2}", n=n), segment_folder(tmp_path / f"s{n}", "s"))
    stats = run_cli("stats", "--dir", cache.root)
    assert stats["entries"] == 3 and stats["namespaces"] == {"avatar-0": 2, "avatar-1": 1}
    assert stats["bytes"] == cache.stats().bytes and stats["oldest_use"] <= stats["newest_use"]
    pruned = run_cli("prune", "--dir", cache.root, "--max-bytes", stats["bytes"] // 2)
    assert pruned == {"deleted": 2, "entries": 1, "bytes": stats["bytes"] // 3}


def test_the_command_line_refuses_a_missing_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "engine", "cache", "stats", "--dir", tmp_path / "nowhere"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "does not exist" in done.stderr
