"""A render job renders the timeline stored at submit, and consent checks all it says and shows."""

import pytest

from consent.models import Purpose
from engine.timeline import OnScreenText, Scene, Segment, Timeline
from rendering.models import RenderJob, Video
from rendering.services import build_spec, run_render, submit_render
from tests.factories import GrantFactory, MembershipFactory, RenderJobFactory, ScriptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_avatar(make_avatar):
    owner = MembershipFactory()
    grant = GrantFactory(subject__workspace=owner.workspace, forbidden_topics=["gambling"])
    return owner, make_avatar(grant=grant)


def test_submit_stores_a_one_scene_timeline_that_editing_the_script_never_changes(owner_avatar):
    owner, avatar = owner_avatar
    script = ScriptFactory(workspace=owner.workspace, body="Welcome to the safety course.")
    job = submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )
    script.body = "Something else entirely."
    script.save()
    job.refresh_from_db()
    timeline = Timeline.from_dict(job.timeline)
    assert timeline.spoken_texts() == ["Welcome to the safety course."]
    assert (timeline.format.width, timeline.format.height) == (job.width, job.height)
    assert job.texts() == ("Welcome to the safety course.", [])


def timeline_job(avatar, *, title: str) -> RenderJob:
    timeline = Timeline(
        scenes=[Scene(segments=[Segment("Welcome back.")], text=OnScreenText(title=title))]
    )
    return RenderJobFactory(avatar=avatar, script_text="Welcome back.", timeline=timeline.to_dict())


def test_a_forbidden_topic_shown_on_screen_is_refused(owner_avatar):
    _, avatar = owner_avatar
    decision = timeline_job(avatar, title="Our gambling night").render_decision(at=_now())
    assert not decision
    assert decision.reason == "The text on screen mentions “gambling”, a topic the subject forbade."
    assert timeline_job(avatar, title="Our quiz night").render_decision(at=_now())


def test_the_worker_refuses_a_forbidden_title_before_it_renders(owner_avatar):
    _, avatar = owner_avatar
    job = timeline_job(avatar, title="Sports gamble tips")
    assert run_render(job.pk) == RenderJob.Status.CANCELLED
    job.refresh_from_db()
    assert "gambl" in job.error
    assert not Video.objects.filter(job=job).exists()


def test_the_spec_carries_the_stored_timeline_and_the_avatars_cache_namespace(
    owner_avatar, tmp_path
):
    _, avatar = owner_avatar
    job = timeline_job(avatar, title="Quiz")
    portrait, voice = tmp_path / "p.png", tmp_path / "v.wav"
    portrait.write_bytes(avatar.portrait.read())
    voice.write_bytes(avatar.voice_sample.read())
    spec = build_spec(job, portrait=portrait, voice_sample=voice)
    assert spec.timeline == job.timeline
    assert spec.cache_namespace == f"avatar-{avatar.pk}"
    assert spec.personal_cache_namespace == ""  # a video of its own keeps nothing personal
    job.part_of = "campaign:31:sample"  # a campaign's: its recipients' values are kept apart
    spec = build_spec(job, portrait=portrait, voice_sample=voice)
    assert spec.personal_cache_namespace == f"avatar-{avatar.pk}--campaign-31"
    assert spec.build_timeline().on_screen_texts() == ["Quiz"]


def _now():
    from django.utils import timezone

    return timezone.now()


def test_a_video_past_the_sites_limits_is_refused_at_submit_with_the_limit_named(
    owner_avatar, settings
):
    from rendering.services import RenderRefused

    owner, avatar = owner_avatar
    settings.TIMELINE_MAX_SECONDS = 60
    script = ScriptFactory(workspace=owner.workspace, body="A long talk. " * 200)
    with pytest.raises(RenderRefused) as refused:
        submit_render(
            workspace=owner.workspace,
            user=owner.user,
            avatar=avatar,
            script=script,
            purpose=Purpose.INTERNAL,
        )
    assert str(refused.value) == "The timeline would last about 3 min; the limit is 60 s."
    assert not RenderJob.objects.exists()
