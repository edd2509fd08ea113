"""A personal segment (a campaign recipient's name) is made for its video only: never stored in
the shared segment cache, so names neither crowd out what renders reuse nor outlive a campaign's
erasure there. The segments around it are cached and copied as before."""

from pathlib import Path

import pytest

from engine.pipeline import render
from engine.segment_cache import LocalSegmentCache
from engine.spec import RenderSpec
from engine.timeline import OutputFormat, Scene, Segment, Timeline

LINEAGE = "5555666677778888"


@pytest.fixture(scope="module")
def renders(tmp_path_factory, astronaut_png):
    from engine.face import inspect_portrait

    folder = tmp_path_factory.mktemp("personal")
    landmarks = inspect_portrait(astronaut_png).landmarks
    cache = LocalSegmentCache(folder / "cache")
    results = {}
    for number, name in enumerate(("Xanthe", "Yorick")):
        timeline = Timeline(
            format=OutputFormat(160, 160, 20),
            scenes=[
                Scene(
                    segments=[
                        Segment(f"Hello {name},", personal=True),
                        Segment("this is for you."),
                    ]
                )
            ],
        )
        spec = RenderSpec(
            script_text="",
            portrait_path=str(astronaut_png),
            portrait_landmarks=landmarks,
            voice_engine="festival",
            timeline=timeline.to_dict(),
            provenance_id=f"{number + 1:016x}",
            frame_mark_id=LINEAGE,
        )
        results[name] = render(spec, folder / f"{name}.mp4", cache=cache)
    return folder, results


def _cache_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((folder / "cache").rglob("*")) if p.is_file())


def test_a_personal_segment_is_never_stored_and_the_rest_is_reused(renders):
    folder, results = renders
    first, second = results["Xanthe"], results["Yorick"]
    assert (first.segments_cached, first.chunks_reused) == (0, 0)
    assert (second.segments_cached, second.chunks_reused) == (1, 1)  # "this is for you."
    stored = _cache_bytes(folder).lower()
    assert b'"this"' in stored  # the shared sentence's word timings are kept
    assert b"xanthe" not in stored and b"yorick" not in stored
    for result in results.values():
        assert result.frames > 0 and (folder / Path(result.video_path).name).exists()
