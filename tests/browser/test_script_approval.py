"""A member sends a script to the subject for approval from the script's own page."""

import pytest
from playwright.sync_api import expect

from consent.models import ScriptApproval
from tests.factories import PASSWORD, GrantFactory, MembershipFactory, ScriptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_script_is_sent_for_approval_from_its_page(page):
    member = MembershipFactory()
    grant = GrantFactory(
        subject__workspace=member.workspace,
        subject__full_name="Ada Lovelace",
        requires_script_approval=True,
    )
    script = ScriptFactory(
        workspace=member.workspace, title="Welcome", body="Welcome to the safety course."
    )

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(member.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/scripts/{script.pk}/")
    form = page.locator("form", has=page.get_by_role("button", name="Send for approval"))
    expect(form.get_by_label("Consent")).to_have_value(str(grant.pk))
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("“Welcome” was sent to the subject for approval.")).to_be_visible()
    approval = ScriptApproval.objects.get(grant=grant)
    assert approval.script_text == "Welcome to the safety course."
    assert approval.status == ScriptApproval.Status.PENDING

    # The consent's page says where scripts are sent from, and lists this one.
    page.goto(f"/consents/{grant.pk}/")
    expect(page.get_by_text("Send a script for approval from its page under")).to_be_visible()
    expect(page.locator("li", has_text="Welcome")).to_contain_text("Awaiting the subject")
