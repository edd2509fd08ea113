"""A campaign rendered for real: each recipient's video says their name, carries the campaign's
frame mark and its own provenance id, and /verify traces a copy to that recipient's video."""

import subprocess

import pytest

from campaigns import services
from provenance.models import ProvenanceRecord
from provenance.services import verify_path
from rendering.models import RenderJob
from rendering.workers import drain_queue
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory
from tests.media import ffprobe, stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_variant_is_a_whole_video_traced_to_its_own_recipient(make_avatar, settings, tmp_path):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    script = ScriptFactory(
        workspace=owner.workspace, body="Hi {{first_name}}, this is a short test. Thank you."
    )
    campaign = services.create_campaign(
        workspace=owner.workspace,
        user=owner.user,
        name="Two",
        script=script,
        avatar=avatar,
        purpose="marketing",
    )
    services.replace_recipients(
        campaign, services.read_list(campaign, text="first_name\nAnn\nBartholomew\n")
    )
    assert services.launch(campaign, user=owner.user) == {"submitted": 2, "refused": 0}
    drain_queue()

    records = []
    for recipient in campaign.recipients.select_related("job__video"):
        job = recipient.job
        assert job.status == RenderJob.Status.SUCCEEDED, job.error
        info = ffprobe(job.video.file.path)
        assert stream(info, "video")["codec_name"] == "h264"
        assert stream(info, "audio")["codec_name"] == "aac"
        record = ProvenanceRecord.objects.get(job=job)
        assert record.frame_mark_id == campaign.frame_mark_id  # the lineage, shared
        records.append(record)
    assert records[0].payload_id != records[1].payload_id  # each its own provenance id
    assert records[0].audio_prefix != records[1].audio_prefix
    # The longer name makes a longer video: the personalized clause really differs.
    seconds = [r.job.video.seconds for r in records]
    assert seconds[1] > seconds[0]

    # A re-encoded copy (no manifest survives: crf 28, half size, AAC 64k) of the second
    # variant is traced to the second recipient's video, not to its sibling.
    copy = tmp_path / "copy.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", records[1].job.video.file.path),
            *("-vf", "scale=128:128", "-c:v", "libx264", "-crf", "28"),
            *("-c:a", "aac", "-b:a", "64k", "-map_metadata", "-1", str(copy)),
        ],
        check=True,
    )
    report = verify_path(copy).report
    assert report["record"]["provenance_id"] == records[1].payload_id
    assert report["matched_by"] != "c2pa"
