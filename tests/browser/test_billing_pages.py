"""The billing pages in Chromium: the usage chart drawn by the server shows under the site's
Content-Security-Policy, and the plans page offers plans and packs to the owner."""

import pytest
from playwright.sync_api import expect

from billing.models import CreditPack
from tests.billing.stripe_fake import STATE
from tests.billing.usage_data import write_month
from tests.factories import PASSWORD, GrantFactory, MembershipFactory, ScriptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_sees_usage_and_plans(page, make_avatar, settings, tmp_path):
    settings.STRIPE_SECRET_KEY = "sk_test_likeness"
    settings.STRIPE_HTTP_CLIENT = "tests.billing.stripe_fake.http_client"
    settings.BILLING_LOW_BALANCE_SECONDS = 400
    STATE.reset()
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject__workspace=owner.workspace))
    script = ScriptFactory(workspace=owner.workspace)
    write_month(owner.workspace, avatar=avatar, script=script, user=owner.user)
    CreditPack.objects.create(
        name="Ten minutes", stripe_price_id="price_pack_600", price_label="$19", seconds=600
    )
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(owner.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing and usage")).to_be_visible()
    expect(page.locator("#low-balance")).to_contain_text("359 s of video left")
    bars = page.locator("svg.usage-chart rect.bar")
    expect(bars).to_have_count(30)
    tallest = max(bars.nth(i).bounding_box()["height"] for i in range(30))
    assert tallest > 100  # drawn at its size: the chart's CSS applied, nothing refused
    page.screenshot(path=str(tmp_path / "usage.png"), full_page=True)

    page.get_by_role("link", name="Plans and credit packs").click()
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()
    expect(page.get_by_role("button", name="Buy")).to_be_visible()
    expect(page.get_by_role("button", name="Change or cancel the plan")).to_be_visible()
    page.screenshot(path=str(tmp_path / "plans.png"), full_page=True)
