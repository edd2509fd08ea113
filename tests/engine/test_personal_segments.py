"""A personal segment (a campaign recipient's name) is never stored in the shared segment cache,
so names neither crowd out what renders reuse nor outlive a campaign's erasure there. The segments
around it are cached and copied as before. A render that names its lineage's own namespace keeps
personal segments there only, so recipients who share a value (a company) share its segment,
and each variant still carries its own provenance id in its sound."""

from pathlib import Path

import pytest

from engine.pipeline import render
from engine.segment_cache import LocalSegmentCache
from engine.spec import RenderSpec
from engine.timeline import OutputFormat, Scene, Segment, Timeline

LINEAGE = "5555666677778888"


SHARED, PERSONAL = "avatar-1", "avatar-1--campaign-9"


def _render_all(folder: Path, astronaut_png, names, personal_namespace: str = "") -> dict:
    from engine.face import inspect_portrait

    landmarks = inspect_portrait(astronaut_png).landmarks
    cache = LocalSegmentCache(folder / "cache")
    results = {}
    for number, name in enumerate(names):
        timeline = Timeline(
            format=OutputFormat(160, 160, 20),
            scenes=[
                Scene(
                    segments=[
                        Segment(f"Hello {name},", personal=True),
                        Segment("this is for you and for everyone on your team who asked."),
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
            provenance_id=f"{number + 1:08x}{number + 1:08x}",
            frame_mark_id=LINEAGE,
            cache_namespace=SHARED,
            personal_cache_namespace=personal_namespace,
        )
        results[f"{name}-{number}"] = render(spec, folder / f"{name}-{number}.mp4", cache=cache)
    return results


@pytest.fixture(scope="module")
def renders(tmp_path_factory, astronaut_png):
    folder = tmp_path_factory.mktemp("personal")
    return folder, _render_all(folder, astronaut_png, ("Xanthe", "Yorick"))


@pytest.fixture(scope="module")
def lineage_renders(tmp_path_factory, astronaut_png):
    folder = tmp_path_factory.mktemp("lineage")
    names = ("Xanthe", "Yorick", "Xanthe")
    return folder, _render_all(folder, astronaut_png, names, personal_namespace=PERSONAL)


def _cache_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_personal_segment_is_never_stored_and_the_rest_is_reused(renders):
    folder, results = renders
    first, second = results["Xanthe-0"], results["Yorick-1"]
    assert (first.segments_cached, first.chunks_reused) == (0, 0)
    assert (second.segments_cached, second.chunks_reused) == (1, 1)  # "this is for you."
    stored = _cache_bytes(folder / "cache").lower()
    assert b'"this"' in stored  # the shared sentence's word timings are kept
    assert b"xanthe" not in stored and b"yorick" not in stored
    for result in results.values():
        assert result.frames > 0 and (folder / Path(result.video_path).name).exists()


def test_a_lineage_namespace_keeps_personal_segments_apart_and_shares_them_within(lineage_renders):
    from engine.watermark import audio_payload, read_audio_mark

    folder, results = lineage_renders
    first, other, again = results["Xanthe-0"], results["Yorick-1"], results["Xanthe-2"]
    assert (first.segments_cached, first.chunks_reused) == (0, 0)
    assert (other.segments_cached, other.chunks_reused) == (1, 1)  # only the shared sentence
    assert (again.segments_cached, again.chunks_reused) == (2, 2)  # "Hello Xanthe," kept too
    shared = _cache_bytes(folder / "cache" / SHARED).lower()
    personal = _cache_bytes(folder / "cache" / PERSONAL).lower()
    assert b'"this"' in shared and b'"this"' not in personal
    assert b"xanthe" not in shared and b"yorick" not in shared
    assert b"xanthe" in personal and b"yorick" in personal
    # Kept as speech and encoded chunks: never as lossless face frames, which cost more to
    # store for a campaign of distinct names than they save.
    assert not list((folder / "cache" / PERSONAL).rglob("frames.mkv"))
    assert list((folder / "cache" / SHARED).rglob("frames.mkv"))
    # The same frames and speech, but each variant's own id in its sound.
    marks = {name: read_audio_mark(folder / f"{name}.mp4") for name in results}
    for number, name in enumerate(results):
        assert marks[name] is not None
        assert marks[name].payload == audio_payload(int(results[name].provenance_id, 16))
        assert results[name].provenance_id == f"{number + 1:08x}{number + 1:08x}"
    assert marks["Xanthe-0"].payload != marks["Xanthe-2"].payload


def test_personal_segments_need_a_namespace_of_their_own():
    from engine.segment_cache import CachePlaces, NullSegmentCache

    with pytest.raises(ValueError, match="namespace of their own"):
        CachePlaces(NullSegmentCache(), SHARED, SHARED)
    with pytest.raises(ValueError, match="letters, digits"):
        CachePlaces(NullSegmentCache(), SHARED, "avatar-1/../x")


def test_a_poster_whose_frame_was_copied_from_the_cache_is_decoded_from_the_file(lineage_renders):
    """The last variant's every chunk came from the cache: its poster is decoded from its file,
    the first's was kept as it was encoded; both show the frame a viewer sees at that time."""
    import numpy as np
    from PIL import Image

    from engine.poster import poster_path, poster_seconds
    from engine.probe import read_frame

    folder, results = lineage_renders
    for name in ("Xanthe-0", "Xanthe-2"):
        result = results[name]
        out = folder / f"{name}.mp4"
        poster = np.asarray(Image.open(poster_path(out)).convert("RGB")).astype(np.float64)
        at = poster_seconds(result.video_seconds, result.words[0][1])
        frame = read_frame(out, at, 160, 160).astype(np.float64)
        assert 10 * np.log10(255**2 / np.mean((poster - frame) ** 2)) > 30
