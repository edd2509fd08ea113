"""Campaign speed: a hundred personalized videos against one.

Run: ``python -m bench.campaign_speed [--recipients N] [--workers W] [--companies C]`` (from
the repository root). Prints one JSON object; ratios compare figures of this one run (the machines
are noisy).

A 30-second template with ``{{first_name}}`` in its first sentence and ``{{company}}`` in its
last, cut into sentences as a campaign cuts it (``core.merge_fields.sentences``), filled for
each recipient. ``one_render_seconds``: recipient 1 alone from a cold cache. ``variants_seconds``:
all the variants from another cold cache, ``--workers`` at a time (2: two render workers), as
a campaign renders them: one lineage frame mark for the campaign, each variant its own
provenance id (audio mark and signed manifest), and the campaign's own namespace for personal
segments, as the site gives them (``rendering.services.build_spec``): recipients who share a value
share its segment. The rows cycle through ``--companies`` companies (7: a B2B list with several
contacts per company; 100 with 100 recipients: every value distinct, the worst case); the first
names are all distinct. ``distinct_payloads`` / ``payloads_read``: the audio marks read back from
the files: how many differ, and how many equal their variant's own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.timeline_speed import join_figures, spec_for, timed
from core.merge_fields import merge, parse_template, sentences
from engine.demo import write_demo_assets
from engine.keys import ensure_site_identity
from engine.pipeline import render
from engine.segment_cache import LocalSegmentCache
from engine.timeline import OutputFormat, Scene, Segment, Timeline
from engine.voice.profile import compute_voice_profile
from engine.watermark import audio_payload, read_audio_mark

TEMPLATE = (
    "Hi {{first_name}}, thanks for taking the time to talk with us last week. "
    "I recorded this short video to walk you through what we discussed. "
    "Our new planning tool keeps every project, every deadline and every team in one place. "
    "Most teams set it up in an afternoon, and the first month costs nothing at all. "
    "I have put together a few ideas that fit the way your team already works. "
    "I hope to see you and everyone at {{company}} very soon."
)
CAMPAIGN_MARK = "ca3a1a9eca3a1a9e"
FIRST_NAMES = [
    *("Ann", "Bob", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira"),
    *("Liam", "Maya", "Noah", "Olga", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor"),
    *("Wen", "Xavier", "Yara", "Zoe"),
]
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne & Co")
SHARED_NAMESPACE, PERSONAL_NAMESPACE = "avatar-1", "avatar-1--campaign-1"


def recipients(count: int, companies: int = len(COMPANIES)) -> list[dict[str, str]]:
    """Distinct rows: first names, with a second given name once they run out; ``companies``
    companies in turn (past the seven named, "Company 8" and on)."""
    rows = []
    for index in range(count):
        name = FIRST_NAMES[index % len(FIRST_NAMES)]
        if index >= len(FIRST_NAMES):
            name += f" {FIRST_NAMES[(index // len(FIRST_NAMES) * 7) % len(FIRST_NAMES)]}"
        number = index % companies
        company = COMPANIES[number] if number < len(COMPANIES) else f"Company {number + 1}"
        rows.append({"first_name": name, "company": company})
    return rows


def variant_timeline(values: dict[str, str]) -> Timeline:
    segments = [
        Segment(merge(sentence, values), personal=bool(parse_template(sentence)))
        for sentence in sentences(TEMPLATE)
    ]
    return Timeline(scenes=[Scene(segments=segments)], format=OutputFormat(512, 512, 25))


def provenance_id(index: int) -> str:
    """Distinct in their first 32 bits too (the audio mark's), as the site's random ids are."""
    return hashlib.sha256(f"variant {index}".encode()).hexdigest()[:16]


def render_variant(job: tuple) -> dict:
    """One variant in a worker process: its wall time and stage seconds."""
    tmp, index, values, cache_root, assets = job  # the files written once, by main
    spec = spec_for(
        assets,
        tmp,
        timeline=variant_timeline(values).to_dict(),
        frame_mark_id=CAMPAIGN_MARK,
        provenance_id=provenance_id(index),
        cache_namespace=SHARED_NAMESPACE,
        personal_cache_namespace=PERSONAL_NAMESPACE,
    )
    out = f"{tmp}/variant-{index}.mp4"
    started = time.perf_counter()
    result = render(spec, out, cache=LocalSegmentCache(Path(cache_root)))
    return {
        "index": index,
        "out": out,
        "wall": time.perf_counter() - started,
        "stage_seconds": result.stage_seconds,
        "segments_cached": result.segments_cached,
        "chunks_reused": getattr(result, "chunks_reused", 0),
    }


def read_variant(done: dict) -> dict:
    """What a variant's file says: its audio mark, against the one it was given. Checked after
    the variants' wall is taken, as a viewer's copy would be, not as part of rendering."""
    mark = read_audio_mark(done["out"])
    return {
        "expected": audio_payload(int(provenance_id(done["index"]), 16)),
        "read": mark.payload if mark is not None else None,
    }


def main(count: int = 100, workers: int = 2, companies: int = len(COMPANIES)) -> dict:
    with tempfile.TemporaryDirectory(prefix="likeness-campaign-bench-") as tmp:
        folder = Path(tmp)
        assets = write_demo_assets(tmp)
        compute_voice_profile([assets.voice_sample_path]).save(f"{tmp}/voice-profile.npz")
        ensure_site_identity(f"{tmp}/keys")
        rows = recipients(count, companies)

        one_spec = spec_for(
            assets,
            tmp,
            timeline=variant_timeline(rows[0]).to_dict(),
            frame_mark_id=CAMPAIGN_MARK,
            provenance_id=provenance_id(10_000),
            cache_namespace=SHARED_NAMESPACE,
            personal_cache_namespace=PERSONAL_NAMESPACE,
        )
        one, one_wall = timed(
            render, one_spec, f"{tmp}/one.mp4", cache=LocalSegmentCache(folder / "cold-cache")
        )
        joins = join_figures(one_spec, one, folder)

        cache_root = str(folder / "campaign-cache")
        jobs = [(tmp, i, values, cache_root, assets) for i, values in enumerate(rows)]
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(render_variant, jobs))
            variants_wall = time.perf_counter() - started
            marks = list(pool.map(read_variant, done))

    walls = sorted(d["wall"] for d in done)
    read = [m["read"] for m in marks]
    return {
        "variants": count,
        "workers": workers,
        "companies": len({row["company"] for row in rows}),
        "video_seconds": one.video_seconds,
        "one_render_seconds": round(one_wall, 2),
        "variants_seconds": round(variants_wall, 2),
        "variants_over_one": round(variants_wall / one_wall, 2),
        "variant_p50_seconds": round(statistics.median(walls), 2),
        "variant_p95_seconds": round(walls[min(len(walls) - 1, int(0.95 * len(walls)))], 2),
        "segments_per_variant": one.segments,
        "segments_cached_p50": statistics.median(d["segments_cached"] for d in done),
        "chunks_reused_p50": statistics.median(d["chunks_reused"] for d in done),
        "distinct_payloads": len({r for r in read if r is not None}),
        "payloads_read": sum(m["read"] == m["expected"] for m in marks),
        **joins,
        "stage_seconds_one": one.stage_seconds,
        # Where a warm variant's time goes: the median of each stage over the variants.
        "stage_seconds_variant_p50": {
            stage: round(statistics.median(d["stage_seconds"].get(stage, 0.0) for d in done), 3)
            for stage in one.stage_seconds
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--companies", type=int, default=len(COMPANIES))
    arguments = parser.parse_args()
    print(json.dumps(main(arguments.recipients, arguments.workers, arguments.companies), indent=2))
