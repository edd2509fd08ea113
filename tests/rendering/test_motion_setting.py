"""A render's motion setting (still, natural, lively) is chosen on the script's page, kept on the
job and handed to the engine; a form without it renders natural, an unknown one is refused."""

import pytest
from django.urls import reverse

from consent.models import Purpose
from engine.face.drive import MOTION_STYLES
from rendering.models import MOTION_CHOICES, RenderJob
from rendering.services import build_spec
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_avatar, client):
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    script = ScriptFactory(workspace=owner.workspace, body="Hello. This is a test.")
    client.force_login(owner.user)
    return avatar, script


def post(client, avatar, script, **extra):
    fields = {"script": script.pk, "avatar": avatar.pk, "purpose": Purpose.INTERNAL, **extra}
    return client.post(reverse("rendering:submit"), fields, follow=True)


def test_the_script_page_offers_every_setting_with_natural_chosen(setup, client):
    _, script = setup
    page = client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    for name in MOTION_STYLES:
        assert f'<option value="{name}"' in page
    assert '<option value="natural" selected>' in page
    assert [name for name, _ in MOTION_CHOICES] == list(MOTION_STYLES)


def test_the_chosen_setting_is_kept_on_the_job_and_given_to_the_engine(setup, client, tmp_path):
    avatar, script = setup
    post(client, avatar, script, motion="still")
    job = RenderJob.objects.get()
    assert job.motion == "still"
    portrait, voice = tmp_path / "p.png", tmp_path / "v.wav"
    portrait.write_bytes(avatar.portrait.read())
    voice.write_bytes(avatar.voice_sample.read())
    spec = build_spec(job, portrait=portrait, voice_sample=voice)
    assert spec.motion == "still"
    spec.validate()


def test_a_form_without_a_setting_renders_natural(setup, client):
    avatar, script = setup
    post(client, avatar, script)
    assert RenderJob.objects.get().motion == "natural"


def test_an_unknown_setting_is_refused_and_nothing_is_queued(setup, client):
    avatar, script = setup
    response = post(client, avatar, script, motion="wild")
    assert not RenderJob.objects.exists()
    assert "Select a valid choice. wild is not one of the available choices." in (
        response.content.decode()
    )
