"""A footage avatar's render through the real queue and worker: the consent check, the footage's
own frames behind a mouth taken from it, the provenance record naming the footage engine."""

from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatars.models import Avatar
from consent import services as consent_services
from consent.models import Purpose
from engine.probe import probe
from provenance.models import ProvenanceRecord
from rendering.models import RenderJob
from rendering.segment_cache import avatar_namespace, site_segment_cache
from rendering.services import submit_render, warm_footage
from rendering.workers import drain_queue
from tests.factories import GrantFactory, ScriptFactory, SubjectFactory
from tests.footage_media import FootageMaker
from tests.media import decode_frames

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 288  # footage and render alike, so the render's pixels compare with the footage's


@pytest.fixture
def footage_avatar(
    member, member_client, settings, tmp_path, astronaut_rgb, portrait_png, speech_wav
):
    settings.FOOTAGE_MIN_SECONDS, settings.FOOTAGE_MAX_SECONDS = 6, 30
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = SIZE
    settings.RENDER_FPS = 15
    grant = GrantFactory(
        subject=SubjectFactory(workspace=member.workspace),
        reference_portrait=ContentFile(portrait_png, name="ref.png"),
        reference_voice=ContentFile(speech_wav, name="ref.wav"),
    )
    footage = FootageMaker(tmp_path).make(astronaut_rgb, seconds=10, size=SIZE)
    response = member_client.post(
        reverse("avatars:avatar_new_footage"),
        {
            "name": "On camera",
            "grant": grant.pk,
            "footage": SimpleUploadedFile("f.mp4", footage.read_bytes()),
        },
    )
    assert response.status_code == 302
    return Avatar.objects.get(), Path(footage)


def test_a_footage_avatar_renders_from_its_footage(footage_avatar, member, tmp_path):
    avatar, footage = footage_avatar
    script = ScriptFactory(
        workspace=member.workspace, body="Glue the sheet to the dark blue background."
    )
    job = submit_render(
        workspace=member.workspace,
        user=member.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    record = ProvenanceRecord.objects.get(job=job)
    assert record.engines["face"] == "footage"

    video = tmp_path / "out.mp4"
    video.write_bytes(job.video.file.read())
    report = probe(str(video))
    assert report["watermark"]["video"]["payload"] == record.frame_mark_id

    rendered = decode_frames(video, SIZE, SIZE).astype(np.float32)
    source = decode_frames(footage, SIZE, SIZE).astype(np.float32)
    # Above the mouth every rendered frame is one of the footage's own frames (the mouth is
    # replaced; the label sits at the bottom): its nearest footage frame differs by a few grey
    # levels of encoding, where the still portrait moved by the footage's sway would not.
    top = slice(SIZE // 8, SIZE // 2)
    nearest = [
        np.abs(source[:, top] - frame[top]).mean(axis=(1, 2)).min() for frame in rendered[::5]
    ]
    assert max(nearest) < 4.0, nearest
    # And the head moves as in the footage: the frames above the mouth are not all alike.
    assert np.abs(rendered[1:, top] - rendered[:-1, top]).mean() > 0.3


def test_the_footage_is_analysed_by_a_worker_after_enrollment_not_by_the_first_render(
    footage_avatar,
):
    avatar, _ = footage_avatar
    cache = site_segment_cache()
    assert avatar_namespace(avatar.pk) not in cache.namespaces()
    drain_queue()  # the task the enrollment enqueued on commit
    assert avatar_namespace(avatar.pk) in cache.namespaces()


def test_a_revoked_consents_footage_is_never_analysed(footage_avatar):
    avatar, _ = footage_avatar
    consent_services.revoke_grant(avatar.grant, reason="no", evidence=consent_services.Evidence())
    assert warm_footage(avatar.pk) == "refused"
    drain_queue()
    assert avatar_namespace(avatar.pk) not in site_segment_cache().namespaces()
