from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rendering.segment_cache import site_segment_cache

MB = 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


class Command(BaseCommand):
    help = (
        "The site's cache of rendered segments (the default storage under segment-cache/): "
        "`stats` says what it holds, `prune` deletes the least recently used entries down to "
        "--max-bytes (default SEGMENT_CACHE_MAX_BYTES)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("stats", help="entries, size, entries per avatar, last uses")
        prune = actions.add_parser("prune", help="delete least recently used entries")
        prune.add_argument("--max-bytes", type=int, help="default: SEGMENT_CACHE_MAX_BYTES")

    def handle(self, *args, action: str, **options):
        cache = site_segment_cache()
        if action == "stats":
            self.write_stats(cache.stats())
            return
        max_bytes = options["max_bytes"]
        if max_bytes is None:
            max_bytes = settings.SEGMENT_CACHE_MAX_BYTES
        if max_bytes < 0:
            raise CommandError("--max-bytes cannot be negative.")
        deleted = cache.prune(max_bytes)
        after = cache.stats()
        self.stdout.write(
            f"Deleted {deleted} {'entry' if deleted == 1 else 'entries'}; {after.entries} left, "
            f"{megabytes(after.bytes)} of {megabytes(max_bytes)}."
        )

    def write_stats(self, stats):
        self.stdout.write(f"{stats.entries} entries, {megabytes(stats.bytes)}")
        if not stats.entries:
            return
        self.stdout.write(
            f"last used: oldest {stats.oldest_use:%Y-%m-%d %H:%M} UTC, "
            f"newest {stats.newest_use:%Y-%m-%d %H:%M} UTC"
        )
        for namespace, count in stats.namespaces.items():
            self.stdout.write(f"  {namespace}: {count}")
