"""The ledger in the admin: read only, except adding an adjustment, which records who and why."""

import pytest
from django.urls import reverse

from billing.models import CreditEntry
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(root)
    return root


def test_an_adjustment_is_added_with_its_reason_and_author_and_never_edited(client, staff):
    workspace = WorkspaceFactory()
    add = reverse("admin:billing_creditentry_add")
    answer = client.post(add, {"workspace": workspace.pk, "seconds": "-12.5", "reason": "Dup"})
    assert answer.status_code == 302
    entry = CreditEntry.objects.get()
    assert (entry.kind, entry.milliseconds, entry.actor, entry.reason) == (
        "adjustment",
        -12_500,
        "root",
        "Dup",
    )
    assert client.get(reverse("admin:billing_creditentry_changelist")).status_code == 200
    change = reverse("admin:billing_creditentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # a view, without a save button
    client.post(change, {"reason": "forged"})
    delete = reverse("admin:billing_creditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.reason, entry.milliseconds) == ("Dup", -12_500)


def test_an_adjustment_of_nothing_or_without_a_reason_is_refused(client, staff):
    workspace = WorkspaceFactory()
    add = reverse("admin:billing_creditentry_add")
    zero = client.post(add, {"workspace": workspace.pk, "seconds": "0", "reason": "x"})
    blank = client.post(add, {"workspace": workspace.pk, "seconds": "5", "reason": " "})
    assert zero.status_code == blank.status_code == 200  # the form again, with its errors
    assert b"non-zero amount" in zero.content
    assert not CreditEntry.objects.exists()


def test_the_refund_command_gives_a_charged_render_its_seconds_back_once(studio):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from billing import services
    from consent.models import Purpose
    from rendering.services import submit_render
    from tests.billing.conftest import give

    owner, avatar, script = studio
    give(owner.workspace, 10)
    job = submit_render(
        workspace=owner.workspace,
        user=owner.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )
    services.settle_job(job, seconds=3.25)
    out = StringIO()
    call_command(
        "billing_refund",
        str(job.pk),
        reason="Lips out of sync",
        by=owner.user.username,
        stdout=out,
    )
    assert out.getvalue().strip().endswith("its balance is 10 s.")
    with pytest.raises(CommandError, match="already refunded"):
        call_command("billing_refund", str(job.pk), reason="Again", by=owner.user.username)
    with pytest.raises(CommandError, match="No user named"):
        call_command("billing_refund", str(job.pk), reason="x", by="nobody")
