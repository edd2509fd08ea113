"""The site learns what each stage of a render costs from its finished renders (real, tiny ones)
and weights the next render's progress by it. No timing is asserted: only relations to the
seconds and units each render reported."""

import threading

import pytest
from django.db import connection

from consent.models import Purpose
from engine.pipeline import stage_costs
from rendering.models import RenderJob, StageCost
from rendering.services import build_spec, run_render, submit_render
from rendering.signals import video_published
from tests.factories import (
    GrantFactory,
    MembershipFactory,
    RenderJobFactory,
    ScriptFactory,
    SubjectFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(make_avatar, settings):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 160
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    return owner, avatar


@pytest.fixture
def published():
    """The RenderResult of every video published during the test, in order."""
    results = []

    def keep(sender, video, result, **kwargs):
        results.append(result)

    video_published.connect(keep, weak=False, dispatch_uid="test-stage-costs")
    yield results
    video_published.disconnect(dispatch_uid="test-stage-costs")


def render_script(site, body: str) -> None:
    owner, avatar = site
    job = submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=ScriptFactory(workspace=owner.workspace, body=body),
        purpose=Purpose.INTERNAL,
    )
    assert run_render(job.pk) == RenderJob.Status.SUCCEEDED


def measured(result) -> dict[str, float]:
    """Seconds per unit of each stage of ``result`` that did enough work to be measured."""
    return {
        stage: result.stage_seconds[stage] / units
        for stage, units in result.stage_units.items()
        if units > 0 and result.stage_seconds[stage] >= StageCost.MIN_SECONDS
    }


@pytest.fixture
def every_stage_measured(monkeypatch):
    """Every stage that did any work is measured, however fast this machine did it (at 160 px a
    fast machine encodes in under StageCost.MIN_SECONDS)."""
    monkeypatch.setattr(StageCost, "MIN_SECONDS", 0.0)


def test_a_finished_render_teaches_the_site_each_stage_cost_per_unit(
    site, published, every_stage_measured
):
    render_script(site, "Costs are learned from every render.")
    (result,) = published
    costs = {cost.stage: cost for cost in StageCost.objects.all()}
    expected = measured(result)
    assert "voice" in expected and "encode" in expected  # both did work in this render
    assert set(costs) == set(expected)
    for stage, seconds_per_unit in expected.items():
        assert costs[stage].seconds_per_unit == pytest.approx(seconds_per_unit, rel=1e-9)
        assert costs[stage].samples == 1


def test_a_stage_that_worked_too_briefly_to_measure_teaches_nothing(site, published, monkeypatch):
    monkeypatch.setattr(StageCost, "MIN_SECONDS", 1e9)
    render_script(site, "Costs are learned from every render.")
    assert published and not StageCost.objects.exists()


def test_a_second_render_moves_each_cost_a_third_of_the_way_to_its_own(
    site, published, every_stage_measured
):
    render_script(site, "Costs are learned from every render.")
    before = StageCost.learned()
    render_script(site, "Then the next render moves them.")
    after = {cost.stage: cost for cost in StageCost.objects.all()}
    second = measured(published[1])
    for stage, cost in after.items():
        if stage not in second:  # too little work this time to say anything
            assert cost.seconds_per_unit == before[stage]
        elif stage in before:
            moved = before[stage] + 0.3 * (second[stage] - before[stage])
            assert (cost.seconds_per_unit, cost.samples) == (pytest.approx(moved, rel=1e-9), 2)
        else:
            assert (cost.seconds_per_unit, cost.samples) == (pytest.approx(second[stage]), 1)
    assert set(second) & set(before)  # at least one stage moved


def spec_for_a_new_job(site, tmp_path):
    _, avatar = site
    portrait, voice = tmp_path / "p.png", tmp_path / "v.wav"
    portrait.write_bytes(avatar.portrait.read())
    voice.write_bytes(avatar.voice_sample.read())
    job = RenderJobFactory(avatar=avatar, script_text="Welcome back.")
    return build_spec(job, portrait=portrait, voice_sample=voice)


def test_the_next_jobs_spec_carries_the_learned_costs(site, tmp_path):
    assert spec_for_a_new_job(site, tmp_path).stage_costs is None  # the engine's prior
    StageCost.learn({"voice": 0.08, "encode": 0.004})
    StageCost.objects.create(stage="lipsync", seconds_per_unit=1.0, samples=3)  # an old engine's
    spec = spec_for_a_new_job(site, tmp_path)
    assert spec.stage_costs == {"voice": 0.08, "encode": 0.004}
    assert stage_costs(spec.stage_costs)["voice"] == 0.08  # costs the engine accepts


def test_two_workers_learning_at_once_both_count():
    def learn_ten():
        try:
            for _ in range(10):
                StageCost.learn({"voice": 0.1, "encode": 0.01})
        finally:
            connection.close()

    workers = [threading.Thread(target=learn_ten) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert dict(StageCost.objects.values_list("stage", "samples")) == {"voice": 20, "encode": 20}
