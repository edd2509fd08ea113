"""Deleting a campaign, or its retention period running out, erases its recipients' data and its
videos' files; the rows stay as tombstones so share pages answer 410 and the subject's record
that the videos were made stays."""

import json
import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns import retention
from campaigns.models import Campaign, Recipient
from campaigns.services import sentences
from rendering.models import RenderJob
from tests.campaigns.variants import make_campaign, queued_variant, rendered_variant
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ROWS = [{"first_name": "Ada", "company": "Acme"}, {"first_name": "Bo", "company": "Bolt"}]


@pytest.fixture
def campaign(make_avatar, tmp_path):
    campaign = make_campaign(make_avatar, rows=ROWS)
    ada, bo = campaign.recipients.all()
    rendered_variant(ada, tmp_path)
    ada.gif.save("ada.gif", ContentFile(b"GIF89a" + bytes(10)))
    # Bo's variant is still queued.
    queued_variant(bo, "Hi Bo, this video is for you.")
    return campaign


def stored_files(video, recipient) -> list:
    return [f.path for f in (video.file, video.poster, video.captions_vtt, video.captions_srt)] + [
        recipient.gif.path
    ]


def test_erasing_empties_the_values_deletes_the_files_and_keeps_the_rows(
    campaign, django_capture_on_commit_callbacks
):
    ada, bo = campaign.recipients.all()
    failed = RenderJob.objects.create(
        workspace=campaign.workspace,
        avatar=campaign.avatar,
        script=campaign.script,
        script_text="Hi Bo.",
        template={"values": {"first_name": "Bo"}},
        status=RenderJob.Status.FAILED,
        error="The voice could not say 'Bo'.",
        purpose=campaign.purpose,
        part_of=f"{campaign.part_of}:sample",
        width=80,
        height=80,
        fps=25,
    )
    video = ada.job.video
    paths = stored_files(video, ada)
    assert all(os.path.exists(p) for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        erased = retention.erase(campaign)
    assert erased == {"recipients": 2, "videos": 1, "files": 5}
    assert not any(os.path.exists(p) for p in paths)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DELETED and campaign.erased_at is not None
    for recipient in Recipient.objects.filter(campaign=campaign):
        assert recipient.values == {} and recipient.say == {} and not recipient.gif
    video.refresh_from_db()
    assert not video.file and not video.poster and not video.captions_vtt
    bo.job.refresh_from_db()
    assert bo.job.status == RenderJob.Status.CANCELLED
    # The renders' records stay, with the template in place of what was said to whom.
    for job in RenderJob.objects.filter(part_of=campaign.part_of):
        assert job.script_text == campaign.template_text
        assert job.template["values"] == {} and job.template["say"] == {}
        row = json.dumps([job.script_text, job.template, job.timeline, job.error])
        assert "Ada" not in row and "Bo" not in row and "Acme" not in row
    failed.refresh_from_db()
    assert failed.error == "The voice could not say '[erased]'."
    ada.job.refresh_from_db()
    texts = [s["text"] for s in ada.job.timeline["scenes"][0]["segments"]]
    assert texts == sentences(campaign.template_text)


def test_erasing_twice_does_nothing_the_second_time(campaign):
    retention.erase(campaign)
    assert retention.erase(campaign) == {"recipients": 0, "videos": 0, "files": 0}


def test_the_share_pages_of_an_erased_campaign_answer_410(campaign, client):
    ada, bo = campaign.recipients.all()
    retention.erase(campaign)
    for recipient in (ada, bo):
        page = client.get(reverse("campaign_share:page", args=[recipient.share_token]))
        assert page.status_code == 410 and 'id="share-erased"' in page.content.decode()
    for name in ("video", "poster", "captions", "gif", "go"):
        url = reverse(f"campaign_share:{name}", args=[ada.share_token])
        assert client.get(url).status_code == 410


def test_an_editor_deletes_a_campaign_after_typing_its_name(campaign, client):
    client.force_login(campaign.owner.user)
    url = reverse("campaigns:delete", args=[campaign.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Type the campaign" in confirm.content.decode()
    assert client.post(url, {"confirm": "spring"}).status_code == 400
    campaign.refresh_from_db()
    assert campaign.erased_at is None
    response = client.post(url, {"confirm": campaign.name})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.erased_at is not None


def test_a_viewer_cannot_delete_and_another_workspace_gets_404(campaign, client):
    url = reverse("campaigns:delete", args=[campaign.pk])
    viewer = MembershipFactory(workspace=campaign.workspace, role="viewer")
    client.force_login(viewer.user)
    assert client.post(url, {"confirm": campaign.name}).status_code == 403
    client.force_login(MembershipFactory().user)
    assert client.post(url, {"confirm": campaign.name}).status_code == 404
    campaign.refresh_from_db()
    assert campaign.erased_at is None


def test_the_command_erases_campaigns_past_their_retention_period(campaign, make_avatar, settings):
    settings.CAMPAIGN_RETENTION_DAYS = 30
    recent = make_campaign(make_avatar, rows=ROWS[:1])
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - timedelta(days=31))
    out = StringIO()
    call_command("erase_expired_campaigns", stdout=out)
    assert out.getvalue().strip() == "Erased 1 campaigns: 2 recipients, 1 videos, 5 files."
    campaign.refresh_from_db()
    recent.refresh_from_db()
    assert campaign.erased_at is not None and recent.erased_at is None
    assert recent.recipients.get().values == ROWS[0]


def test_erasing_a_campaign_leaves_a_campaign_whose_id_starts_alike_alone(campaign):
    # Campaign 1 must not take campaign 10's renders ("campaign:1" is a prefix of "campaign:10").
    other = RenderJob.objects.create(
        workspace=campaign.workspace,
        avatar=campaign.avatar,
        script=campaign.script,
        script_text="Hi Zoe.",
        purpose=campaign.purpose,
        part_of=f"{campaign.part_of}0",
        width=160,
        height=160,
        fps=25,
    )
    retention.erase(campaign)
    other.refresh_from_db()
    assert other.status == RenderJob.Status.QUEUED and other.script_text == "Hi Zoe."
