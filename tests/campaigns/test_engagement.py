"""Engagement counted by the share page itself: a view per GET, plays and watched steps posted
by its script (CSRF-checked, validated, rate-limited), clicks through /go; the funnel."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from campaigns import engagement
from campaigns.engagement import funnel
from campaigns.models import Recipient
from tests.campaigns.variants import make_campaign, rendered_variant

pytestmark = pytest.mark.django_db

ADA = {"first_name": "Ada", "company": "Acme"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shared(make_avatar, tmp_path):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    rendered_variant(recipient, tmp_path)
    return recipient


def csrf_client(recipient) -> tuple[Client, str]:
    """A browser that opened the page, with the token the page hands its script."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("campaign_share:page", args=[recipient.share_token]))
    token = page.content.decode().split('data-csrf="', 1)[1].split('"', 1)[0]
    return client, token


def post_event(client, recipient, csrf, **data):
    return client.post(
        reverse("campaign_share:event", args=[recipient.share_token]),
        data,
        HTTP_X_CSRFTOKEN=csrf,
    )


def test_each_page_view_counts_and_the_first_is_remembered(shared, client):
    url = reverse("campaign_share:page", args=[shared.share_token])
    first = client.get(url)
    assert first["Cache-Control"].startswith("max-age=0") or "no-cache" in first["Cache-Control"]
    shared.refresh_from_db()
    seen = shared.first_viewed_at
    assert shared.views == 1 and seen is not None and shared.last_event_at is not None
    client.get(url)
    shared.refresh_from_db()
    assert shared.views == 2 and shared.first_viewed_at == seen


def test_plays_and_the_most_watched_are_recorded(shared):
    client, csrf = csrf_client(shared)
    assert post_event(client, shared, csrf, event="play").status_code == 200
    for percent in (25, 50, 75, 50):
        assert post_event(client, shared, csrf, event="watched", percent=percent).status_code == 200
    shared.refresh_from_db()
    assert shared.plays == 1 and shared.watched_percent == 75


@pytest.mark.parametrize(
    "data",
    [
        {"event": "watched", "percent": "33"},
        {"event": "watched", "percent": "abc"},
        {"event": "watched"},
        {"event": "buy"},
        {},
    ],
)
def test_a_bad_event_or_percent_is_refused_and_counts_nothing(shared, data):
    client, csrf = csrf_client(shared)
    assert post_event(client, shared, csrf, **data).status_code == 400
    shared.refresh_from_db()
    assert (shared.plays, shared.watched_percent) == (0, 0)


def test_an_event_without_the_pages_csrf_token_is_refused(shared):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("campaign_share:event", args=[shared.share_token]), {"event": "play"}
    )
    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.plays == 0


def test_events_are_rate_limited_per_page(shared, monkeypatch):
    monkeypatch.setattr(engagement, "EVENT_LIMIT", 3)
    client, csrf = csrf_client(shared)
    answers = [post_event(client, shared, csrf, event="play").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    shared.refresh_from_db()
    assert shared.plays == 3


def test_clicks_over_the_limit_still_go_to_the_link_but_are_not_counted(
    shared, client, monkeypatch
):
    monkeypatch.setattr(engagement, "EVENT_LIMIT", 2)
    go = reverse("campaign_share:go", args=[shared.share_token])
    assert [client.get(go).status_code for _ in range(4)] == [302] * 4
    shared.refresh_from_db()
    assert shared.cta_clicks == 2


def test_an_event_for_a_variant_without_a_video_is_refused(make_avatar):
    campaign = make_campaign(make_avatar, rows=[ADA])
    recipient = campaign.recipients.get()
    client, csrf = csrf_client(recipient)
    assert post_event(client, recipient, csrf, event="play").status_code == 409


def test_the_call_to_action_counts_then_redirects_to_the_merged_link(shared, client):
    go = client.get(reverse("campaign_share:go", args=[shared.share_token]))
    assert go.status_code == 302
    assert go["Location"] == "https://example.com/book?name=Ada"
    shared.refresh_from_db()
    assert shared.cta_clicks == 1


def test_no_address_or_agent_of_the_viewer_is_stored(shared, client):
    client.get(
        reverse("campaign_share:page", args=[shared.share_token]),
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="Spy/1.0",
    )
    row = Recipient.objects.filter(pk=shared.pk).values().get()
    assert not any("203.0.113.77" in str(v) or "Spy/1.0" in str(v) for v in row.values())


def test_the_funnel_counts_recipients_at_each_step(make_avatar, tmp_path):
    rows = [{"first_name": name, "company": ""} for name in ("Ada", "Bo", "Cy", "Di")]
    campaign = make_campaign(make_avatar, rows=rows)
    recipients = list(campaign.recipients.all())
    for recipient in recipients[:3]:
        rendered_variant(recipient, tmp_path)
    ada, bo, cy, _ = recipients
    Recipient.objects.filter(pk=ada.pk).update(views=3, plays=2, watched_percent=100, cta_clicks=1)
    Recipient.objects.filter(pk=bo.pk).update(views=1, plays=1, watched_percent=50)
    Recipient.objects.filter(pk=cy.pk).update(views=1)
    steps = {s["step"]: (s["count"], s["percent"]) for s in funnel(campaign)}
    assert [s["step"] for s in funnel(campaign)] == [
        "sent",
        "viewed",
        "played",
        "watched_25",
        "watched_50",
        "watched_75",
        "watched_100",
        "clicked",
    ]
    assert steps == {
        "sent": (3, 100),
        "viewed": (3, 100),
        "played": (2, 67),
        "watched_25": (2, 67),
        "watched_50": (2, 67),
        "watched_75": (1, 33),
        "watched_100": (1, 33),
        "clicked": (1, 33),
    }
