"""A marketer in Chromium: make a campaign, upload a list with a bad row, fix it, preview a
row, launch, and watch every video get made."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from rendering.models import RenderJob
from tests.factories import PASSWORD, GrantFactory, MembershipFactory, ScriptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_campaign_from_upload_to_every_video_made(
    page, render_worker, make_avatar, settings, tmp_path
):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 192
    member = MembershipFactory()
    avatar = make_avatar(
        grant=GrantFactory(subject__workspace=member.workspace, forbidden_topics=["gambling"])
    )
    avatar.name = "Grace"
    avatar.save()
    ScriptFactory(
        workspace=member.workspace, title="Hello", body="Hi {{first_name}}, see you soon."
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("First name,Email\nAnn,ann@example.com\nGambling Gus,g@example.com\n")
    good = tmp_path / "good.csv"
    good.write_text("First name;Email\nAnn;ann@example.com\nGus;g@example.com\n")

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(member.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Autumn hello")
    page.get_by_label("Script").select_option(label="Hello")
    page.get_by_label("Avatar").select_option(label="Grace")
    page.get_by_role("button", name="Create the campaign").click()
    expect(page.get_by_role("heading", name="Autumn hello")).to_be_visible()

    page.get_by_label("Share page headline").fill("A video for {{first_name}}")
    page.get_by_label("Call-to-action button").fill("Book a call")
    page.get_by_label("Call-to-action link").fill("https://example.com/book?name={{first_name}}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The campaign was saved.")).to_be_visible()

    page.get_by_label("A CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("nothing was imported")
    expect(problems).to_contain_text("a topic the subject forbade")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download them as CSV").click()
    assert "Gambling Gus" in download.value.path().read_text()

    page.get_by_label("A CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("2 recipients imported.")).to_be_visible()
    page.locator("#recipient-rows tr", has_text="Gus").get_by_role("link", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Hi Gus, see you soon.")
    # Hear a name: the player loads the value said alone in the subject's voice.
    player = page.locator("#names tr", has_text="Gus").locator("audio")
    player.evaluate("audio => audio.play()")
    page.wait_for_function(
        "audio => audio.duration > 0.3 && audio.currentTime > 0", arg=player.element_handle()
    )
    page.screenshot(path=str(tmp_path / "campaign-draft.png"), full_page=True)

    page.get_by_role("button", name="Launch 2 videos").click()
    expect(page.get_by_text("2 videos queued.")).to_be_visible()
    # The progress panel polls by itself until every video is made.
    expect(page.locator("#progress h2")).to_contain_text("100%", timeout=180_000)
    page.reload()
    expect(page.locator("#funnel")).to_contain_text("Videos made")
    page.screenshot(path=str(tmp_path / "campaign-done.png"), full_page=True)
    page.locator("#recipient-rows tr", has_text="Gus").get_by_role(
        "link", name="Share page"
    ).click()
    expect(page.get_by_role("heading", name="A video for Gus")).to_be_visible()
    expect(page.locator("video")).to_be_visible()
    # The call to action is counted, then lands on the merged link (answered here: no network).
    landed = []
    page.route(
        "https://example.com/**",
        lambda route: (landed.append(route.request.url), route.fulfill(body="booked")),
    )
    page.get_by_role("link", name="Book a call").click()
    expect(page.get_by_text("booked")).to_be_visible()
    assert landed == ["https://example.com/book?name=Gus"]
    page.goto(f"/campaigns/{Campaign.objects.get().pk}/")
    counts = page.locator("#funnel .funnel-count")
    expect(counts.nth(1)).to_contain_text("1 (50%)")  # viewed
    expect(counts.last).to_contain_text("1 (50%)")  # clicked
    campaign = Campaign.objects.get()
    statuses = {r.job.status for r in campaign.recipients.select_related("job")}
    assert statuses == {RenderJob.Status.SUCCEEDED}
