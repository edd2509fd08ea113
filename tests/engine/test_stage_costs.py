"""A render's measured work (stage units) and progress weighted by given stage costs: tiny renders
of a two-scene timeline, again from the cache, again with costs, and as a lineage's chunks."""

import math

import pytest

from engine.errors import EngineError
from engine.pipeline import PIXEL_STAGES, STAGE_COST, render
from engine.segment_cache import LocalSegmentCache
from engine.spec import RenderSpec
from engine.timeline import Background, Layout, OutputFormat, Scene, Segment, Timeline

WIDTH, HEIGHT, FPS = 192, 128, 12
MEGAPIXELS = WIDTH * HEIGHT / 1e6
LINEAGE = "00000000cafef00d"


def two_scenes() -> Timeline:
    """The presenter says two sentences in a corner, then a voice-over scene of one second."""
    return Timeline(
        format=OutputFormat(WIDTH, HEIGHT, FPS),
        lead_in_seconds=0.2,
        tail_seconds=0.3,
        scenes=[
            Scene(
                segments=[Segment("Costs are measured."), Segment("Then they are learned.")],
                layout=Layout("corner", position="bottom-right", size=0.5),
                background=Background("color", color="#305070"),
            ),
            Scene(duration=1.0, layout=Layout("voice_over")),
        ],
    )


def spec_of(portrait, landmarks, **fields) -> RenderSpec:
    return RenderSpec(
        script_text="",
        portrait_path=str(portrait),
        portrait_landmarks=landmarks,
        voice_engine="festival",
        timeline=two_scenes().to_dict(),
        provenance_id="0123456789abcdef",
        **fields,
    )


def voice_heavy(units: dict[str, float]) -> dict[str, float]:
    """Costs under which this render's voice is 90% of its work, the other stages 10% together."""
    others = [stage for stage, done in units.items() if done > 0 and stage != "voice"]
    costs = {stage: 0.1 / len(others) / units[stage] for stage in others}
    return {**costs, "voice": 0.9 / units["voice"]}


def planned(costs: dict[str, float], units: dict[str, float]) -> float:
    return sum(costs[stage] * done for stage, done in units.items())


@pytest.fixture(scope="module")
def renders(tmp_path_factory, astronaut_png, landmarks):
    folder = tmp_path_factory.mktemp("costs")
    cache = LocalSegmentCache(folder / "cache")
    calls: dict[str, list] = {"first": [], "weighted": []}

    def progress(name):
        return lambda stage, fraction: calls[name].append((stage, fraction))

    spec = spec_of(astronaut_png, landmarks)
    first = render(spec, folder / "first.mp4", cache=cache, progress=progress("first"))
    again = render(spec, folder / "again.mp4", cache=cache)
    weighted = render(
        spec_of(astronaut_png, landmarks, stage_costs=voice_heavy(first.stage_units)),
        folder / "weighted.mp4",
        progress=progress("weighted"),
    )
    return {"first": first, "again": again, "weighted": weighted}, calls


def test_a_render_reports_the_units_of_work_each_stage_did(renders):
    first = renders[0]["first"]
    units = first.stage_units
    assert set(units) == set(STAGE_COST)
    talk = first.scenes[0]["seconds"]  # the first scene is all speech: lead-in, words, pauses
    assert units["voice"] == pytest.approx(talk, abs=0.002)
    assert units["face"] == round(talk * FPS)  # the voice-over scene shows no presenter
    for stage in PIXEL_STAGES:
        assert units[stage] == pytest.approx(first.frames * MEGAPIXELS)
    assert (units["c2pa"], units["captions"]) == (1.0, 1.0)


def test_speech_and_faces_from_the_cache_are_no_work_but_every_frame_is_still_made(renders):
    first, again = renders[0]["first"], renders[0]["again"]
    assert (again.segments, again.segments_cached) == (2, 2)
    assert (again.stage_units["voice"], again.stage_units["face"]) == (0.0, 0.0)
    assert again.stage_units["encode"] == pytest.approx(first.stage_units["encode"])


def test_a_lineage_render_counts_no_work_for_the_chunks_it_reuses(
    tmp_path, astronaut_png, landmarks
):
    cache = LocalSegmentCache(tmp_path / "cache")
    spec = spec_of(astronaut_png, landmarks, frame_mark_id=LINEAGE)
    made = render(spec, tmp_path / "made.mp4", cache=cache)
    reused = render(spec, tmp_path / "reused.mp4", cache=cache)
    assert made.chunks_reused == 0 and made.stage_units["encode"] == pytest.approx(
        made.frames * MEGAPIXELS
    )
    assert reused.chunks_reused == reused.chunks > 0
    assert all(reused.stage_units[stage] == 0.0 for stage in ("voice", "face", *PIXEL_STAGES))
    assert (reused.stage_units["c2pa"], reused.stage_units["captions"]) == (1.0, 1.0)


def test_without_stage_costs_progress_is_weighted_by_the_prior(renders):
    (results, calls) = renders
    units = results["first"].stage_units
    encoded = [f for stage, f in calls["first"] if stage == "encode"][-1]
    # Once encoded, only the per-video stages are left: their share of the plan at the prior.
    left = (STAGE_COST["c2pa"] + STAGE_COST["captions"]) / planned(STAGE_COST, units)
    assert encoded == pytest.approx(1 - left, abs=1e-4)


def test_progress_is_weighted_by_the_stage_costs_given(renders):
    (results, calls) = renders
    weighted = calls["weighted"]
    assert results["weighted"].stage_units == pytest.approx(results["first"].stage_units)
    fractions = [f for _, f in weighted]
    assert fractions == sorted(fractions) and weighted[-1] == ("captions", 1.0)
    # The costs make speech 90% of the work. When it is done the other 10% is planned from the
    # timeline's estimate of its length, and as face work for every frame until the voice-over
    # scene starts (12 frames: 0.4% of the work here): 0.9 within 0.01.
    voiced = [f for stage, f in weighted if stage == "voice"][-1]
    assert voiced == pytest.approx(0.9, abs=0.01)
    # Encoded: everything but c2pa and captions, which the costs make 2 of the 7 other stages.
    encoded = [f for stage, f in weighted if stage == "encode"][-1]
    assert encoded == pytest.approx(1 - 2 * 0.1 / 7, abs=1e-4)


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        ({"lipsync": 0.1}, "unknown stage 'lipsync'"),
        ({"voice": -0.1}, "voice stage must be a positive, finite number"),
        ({"face": 0.0}, "face stage must be a positive"),
        ({"encode": math.nan}, "encode stage must be a positive"),
        ({"label": math.inf}, "label stage must be a positive"),
        ({"c2pa": "fast"}, "c2pa stage must be a positive"),
    ],
)
def test_invalid_stage_costs_are_refused_before_any_work(tmp_path, costs, message):
    spec = RenderSpec(script_text="Hi.", portrait_path="missing.png", stage_costs=costs)
    with pytest.raises(EngineError, match=message):
        render(spec, tmp_path / "never.mp4")
    assert not list(tmp_path.iterdir())
