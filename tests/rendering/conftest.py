"""A finished render through the real queue and worker, shared by the caption and poster tests."""

import pytest

from consent.models import Purpose
from provenance.models import LabelSettings
from rendering.models import RenderJob
from rendering.services import submit_render
from rendering.workers import drain_queue
from studio.models import PronunciationEntry
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

SCRIPT = (
    "Willkommen bei Likeness. [pause 1s] Each video costs $25, and [slow]every one is "
    "labeled[/slow] as synthetic. Ask [say nee-SHAH]Nisha[/say] anything!"
)


@pytest.fixture
def rendered(make_avatar, settings):
    """A finished render of a German-labelled workspace that opens with the disclosure card."""
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 128
    owner = MembershipFactory()
    LabelSettings.objects.create(workspace=owner.workspace, language="de", opening_card=True)
    PronunciationEntry.objects.create(
        workspace=owner.workspace, word="Likeness", respelling="LYKE-ness"
    )
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    script = ScriptFactory(workspace=owner.workspace, body=SCRIPT)
    job = submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    return owner, job
