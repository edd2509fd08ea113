"""A render says the words consent was checked on: the lexicon is copied onto the job at submit,
and the check at submit, at retry and in the worker, and the render itself, use that copy."""

import pytest
from django.core.files.base import ContentFile

from consent.models import Purpose
from rendering.models import RenderJob
from rendering.services import RenderRefused, build_spec, retry_render, run_render, submit_render
from studio.models import PronunciationEntry
from tests.factories import (
    GrantFactory,
    MembershipFactory,
    RenderJobFactory,
    ScriptApprovalFactory,
    ScriptFactory,
    SubjectFactory,
)

pytestmark = pytest.mark.django_db

WEATHER = "Thank you for watching our weather update."


@pytest.fixture
def studio(make_avatar):
    """An owner, a script and an avatar whose consent needs each script approved."""

    def make(**grant_options):
        owner = MembershipFactory()
        grant = GrantFactory(
            subject=SubjectFactory(workspace=owner.workspace),
            requires_script_approval=True,
            **grant_options,
        )
        avatar = make_avatar(grant=grant)
        script = ScriptFactory(workspace=owner.workspace, body=WEATHER)
        ScriptApprovalFactory(grant=grant, script_text=WEATHER)  # the subject approved it
        return owner, avatar, script

    return make


def submit(owner, avatar, script):
    return submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )


def respell(workspace, word, respelling):
    PronunciationEntry.objects.create(workspace=workspace, word=word, respelling=respelling)


def test_submit_copies_the_workspace_lexicon_onto_the_job(studio):
    owner, avatar, script = studio()
    respell(owner.workspace, "Nguyen", "win")
    job = submit(owner, avatar, script)
    assert job.pronunciations == {"Nguyen": "win"}


def test_the_tester_case_an_approved_script_rewritten_by_the_lexicon_is_refused(studio):
    owner, avatar, script = studio()
    respell(owner.workspace, "weather", "politics")
    respell(owner.workspace, "update", "vote for candidate Smith")
    with pytest.raises(RenderRefused, match="pronunciations changed"):
        submit(owner, avatar, script)
    assert not RenderJob.objects.exists()


def test_the_rewritten_script_is_refused_for_the_forbidden_topic_it_now_says(studio):
    owner, avatar, script = studio(forbidden_topics=["politics"])
    respell(owner.workspace, "weather", "politics")
    with pytest.raises(RenderRefused, match="“politics”, a topic the subject forbade"):
        submit(owner, avatar, script)


def test_a_lexicon_change_after_submit_never_reaches_the_render(studio, tmp_path):
    owner, avatar, script = studio()
    job = submit(owner, avatar, script)
    respell(owner.workspace, "weather", "politics")
    assert job.render_decision(at=job.created_at).allowed  # checked on the job's own words
    avatar.voice_profile.save("profile.npz", ContentFile(b"cached"), save=True)
    sample = tmp_path / "voice.wav"
    sample.write_bytes(b"")
    spec = build_spec(job, portrait=tmp_path / "p.png", voice_sample=sample)
    assert spec.pronunciations == {} and spec.script_text == WEATHER


def test_the_worker_checks_the_words_of_the_jobs_lexicon(studio):
    _, avatar, script = studio(forbidden_topics=["politics"])
    job = RenderJobFactory(avatar=avatar, script=script, pronunciations={"weather": "politics"})
    assert run_render(job.pk) == RenderJob.Status.CANCELLED
    job.refresh_from_db()
    assert "“politics”, a topic the subject forbade" in job.error


def test_a_retry_checks_the_words_of_the_jobs_lexicon(studio):
    _, avatar, script = studio()
    job = RenderJobFactory(
        avatar=avatar,
        script=script,
        pronunciations={"update": "vote for candidate Smith"},
        status=RenderJob.Status.FAILED,
    )
    with pytest.raises(RenderRefused, match="pronunciations changed"):
        retry_render(job)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.FAILED
