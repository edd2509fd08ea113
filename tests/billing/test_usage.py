"""The usage page: seconds charged per day (net of refunds) as a chart drawn on the server, per
campaign and lesson, credits left, the next renewal, and a notice when credits run low."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import usage
from tests.billing.usage_data import write_month
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(studio, client):
    owner, avatar, script = studio
    client.force_login(owner.user)
    return owner, write_month(owner.workspace, avatar=avatar, script=script, user=owner.user)


def test_seconds_per_day_are_the_charges_less_the_refunds_of_each_day(month):
    owner, _ = month
    today = timezone.localdate()
    per_day = usage.seconds_per_day(owner.workspace.pk, today=today)
    assert len(per_day) == 30
    assert per_day[today] == 54.5
    assert per_day[today - timedelta(days=1)] == 30.0
    assert per_day[today - timedelta(days=3)] == 95.25
    assert per_day[today - timedelta(days=9)] == 0.0  # 8 s charged, 8 s refunded
    assert sum(per_day.values()) == 240.75


def test_the_chart_scales_its_tallest_bar_to_the_next_round_value(month):
    owner, _ = month
    chart = usage.day_chart(usage.seconds_per_day(owner.workspace.pk))
    assert chart.top_seconds == 100
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.seconds == 95.25
    plot_height = chart.height - 22 - 8
    assert tallest.height == pytest.approx(plot_height * 0.9525, abs=0.1)
    assert [bar.height for bar in chart.bars].count(0) == 30 - 4


@pytest.mark.usefixtures("month")
def test_the_usage_page_shows_credits_renewal_chart_and_each_campaign_and_lesson(client):
    page = client.get(reverse("billing:overview")).content.decode()
    assert re.search(r'id="balance">359\.25 s<', page)  # 600 - 248.75 charged + 8 refunded
    renewal = (timezone.now() + timedelta(days=12)).strftime("%Y-%m-%d")
    assert renewal in page and "Studio" in page
    assert page.count('<rect class="bar"') == 30
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>([\d.]+) s</td></tr>", page)
    assert rows == [
        ("Campaign: Spring visit", "3", "133.5"),
        ("Lesson: Fire safety", "1", "95.25"),
        ("Single renders", "2", "12"),
    ]
    assert "low-balance" not in page


def test_a_balance_under_the_threshold_shows_the_low_balance_notice(month, client, settings):
    settings.BILLING_LOW_BALANCE_SECONDS = 400
    page = client.get(reverse("billing:overview")).content.decode()
    assert "Credits are running low" in page and "359 s of video left" in page
    assert "Credits are running low" in client.get(reverse("billing:plans")).content.decode()


def test_the_usage_page_shows_only_this_workspaces_ledger(month, client):
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    page = client.get(reverse("billing:overview")).content.decode()
    assert 'id="balance">0 s<' in page
    assert "Spring visit" not in page and "Mouth out of sync" not in page
    assert "No video charged yet." in page
