"""The subject's portal shows each campaign made with their likeness as one entry (name,
workspace, purpose, how many videos, its share pages), and revoking there cancels the variants
not yet rendered and takes every share page and file of the campaign offline (410)."""

import re

import pytest
from django.urls import reverse

from campaigns import retention
from campaigns.models import Campaign
from consent import services as consent_services
from rendering.models import RenderJob
from tests.campaigns.variants import make_campaign, queued_variant, rendered_variant

pytestmark = pytest.mark.django_db

ROWS = [
    {"first_name": "Ada", "company": "Acme"},
    {"first_name": "Bo", "company": "Bolt"},
    {"first_name": "Cy", "company": "Cogs"},
]
EVIDENCE = consent_services.Evidence(ip="192.0.2.1", user_agent="pytest", user="owner")


@pytest.fixture
def campaign(make_avatar, tmp_path):
    """Three variants: Ada's and Bo's rendered, Cy's still queued."""
    campaign = make_campaign(make_avatar, rows=ROWS)
    ada, bo, cy = campaign.recipients.all()
    rendered_variant(ada, tmp_path)
    rendered_variant(bo, tmp_path)
    queued_variant(cy, "Hi Cy.")
    return campaign


def portal_of(client, campaign) -> tuple[str, str]:
    grant = campaign.avatar.grant
    _, token = consent_services.issue_subject_link(grant, by=campaign.owner.user, evidence=EVIDENCE)
    return token, client.get(reverse("consent:link_home", args=[token])).content.decode()


def entry_of(page: str, campaign) -> str:
    found = re.search(
        rf'<article class="card campaign-use" id="campaign-{campaign.pk}">(.*?)</article>',
        page,
        re.S,
    )
    assert found, "the campaign has an entry on the portal"
    return found[1]


def test_a_campaign_is_one_entry_with_its_count_and_share_pages(campaign, client):
    _, page = portal_of(client, campaign)
    entry = entry_of(page, campaign)
    assert "<h3>Spring visit</h3>" in entry
    assert f"By {campaign.workspace}" in entry and "purpose: Marketing" in entry
    assert "2 videos made" in entry
    assert '<details class="share-pages"><summary>Its 2 share pages</summary>' in entry
    for recipient in campaign.recipients.filter(job__status=RenderJob.Status.SUCCEEDED):
        assert f'href="{reverse("campaign_share:page", args=[recipient.share_token])}"' in entry
    # The recipients are named by line, never by name; the variants are not listed one by one.
    assert "Ada" not in page and "Bo" not in page
    assert page.count('class="card campaign-use"') == 1
    assert 'id="video-' not in page


def test_a_draft_is_not_on_the_portal_and_an_erased_campaign_stays_without_links(
    campaign, client, make_avatar
):
    draft = make_campaign(make_avatar, rows=ROWS[:1])
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.DRAFT)
    retention.erase(campaign)
    _, page = portal_of(client, campaign)
    entry = entry_of(page, campaign)
    assert "2 videos made" in entry and "Deleted on" in entry and "/s/" not in entry


def test_revoking_cancels_what_is_not_rendered_and_every_share_page_answers_410(campaign, client):
    token, _ = portal_of(client, campaign)
    ada, bo, cy = campaign.recipients.all()
    response = client.post(
        reverse("consent:link_revoke", args=[token]), {"reason": "No more.", "confirm": "on"}
    )
    assert response.status_code == 302
    cy.job.refresh_from_db()
    assert cy.job.status == RenderJob.Status.CANCELLED
    for recipient in (ada, bo):
        recipient.job.refresh_from_db()
        assert recipient.job.status == RenderJob.Status.SUCCEEDED  # the record stays
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    for recipient in (ada, bo, cy):
        page = client.get(reverse("campaign_share:page", args=[recipient.share_token]))
        assert page.status_code == 410 and 'id="share-gone"' in page.content.decode()
        for name in ("video", "poster", "captions", "gif", "event", "go"):
            url = reverse(f"campaign_share:{name}", args=[recipient.share_token])
            answer = client.post(url) if name == "event" else client.get(url)
            assert answer.status_code == 410, (name, answer.status_code)
    # The portal says so and no longer links the pages.
    page = client.get(reverse("consent:link_home", args=[token])).content.decode()
    entry = entry_of(page, campaign)
    assert "Withdrawn" in entry and "/s/" not in entry


def test_a_draft_appears_once_it_made_a_sample_video(make_avatar, client):
    draft = make_campaign(make_avatar, rows=ROWS[:1])
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.DRAFT)
    _, page = portal_of(client, draft)
    assert 'class="card campaign-use"' not in page
    RenderJob.objects.create(
        workspace=draft.workspace,
        avatar=draft.avatar,
        script=draft.script,
        script_text="Hi Ada.",
        purpose=draft.purpose,
        part_of=f"{draft.part_of}:sample",
        status=RenderJob.Status.SUCCEEDED,
        width=80,
        height=80,
        fps=25,
    )
    _, page = portal_of(client, draft)
    assert "0 videos made" in entry_of(page, draft) and "(and 1 sample)" in entry_of(page, draft)
