"""Signed ledger checkpoints: a head per workspace, signed with the site's key and kept outside the
ledger, so deleted tail rows and a consistently re-hashed chain no longer pass as intact."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from consent import checkpoints, ledger
from consent.models import LedgerCheckpoint, LedgerEntry
from tests.factories import GrantFactory


def number() -> str:
    """The latest checkpoint as the commands name it (ids are the database's: on PostgreSQL a
    sequence is not reset between tests)."""
    return f"#{LedgerCheckpoint.objects.latest('pk').pk}"


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_keys(settings, tmp_path):
    settings.SITE_KEYS_DIR = tmp_path / "keys"


def command(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def two_workspaces():
    """A revoked consent in one workspace and unrelated activity in another, interleaved."""
    grant, other = GrantFactory(), GrantFactory()
    for event, target in [
        ("invited", grant),
        ("invited", other),
        ("signed", grant),
        ("signed", other),
        ("render_authorized", grant),
        ("revoked", grant),
        ("render_authorized", other),
        ("render_refused", grant),
    ]:
        ledger.append(event, grant=target, note=f"{event} {target.pk}")
    return grant, other


def rewrite_chain(keep):
    """What a database writer covering their tracks does: keep some rows, renumber them and
    recompute every hash, so the chain alone checks out."""
    rows = [e for e in LedgerEntry.objects.order_by("seq") if keep(e)]
    raw("DELETE FROM consent_ledgerentry")
    prev = ledger.GENESIS
    for seq, e in enumerate(rows, start=1):
        fields = ledger.entry_fields(
            seq=seq,
            at=e.at,
            event=e.event,
            workspace_id=e.workspace_id,
            grant_id=e.grant_id,
            payload=e.payload,
            prev_hash=prev,
        )
        prev = ledger.entry_hash(fields)
        LedgerEntry.objects.create(
            seq=seq,
            at=e.at,
            event=e.event,
            workspace_id=e.workspace_id,
            grant_id=e.grant_id,
            payload=e.payload,
            prev_hash=fields["prev_hash"],
            hash=prev,
        )


def test_each_workspace_has_its_own_head_that_other_workspaces_do_not_move():
    grant, other = two_workspaces()
    before = ledger.workspace_head(grant.workspace_id)
    assert before.entries == 5 and before.head != ledger.GENESIS
    ledger.append("viewed", grant=other)
    assert ledger.workspace_head(grant.workspace_id) == before
    assert ledger.workspace_head(other.workspace_id).entries == 4
    heads = ledger.workspace_heads()
    assert heads[grant.workspace_id] == before
    assert heads[other.workspace_id] == ledger.workspace_head(other.workspace_id)


def test_ledger_checkpoint_signs_the_site_head_and_every_workspace_head():
    grant, other = two_workspaces()
    out = command("ledger_checkpoint")
    assert f"Checkpoint {number()}: 8 entries" in out
    checkpoint = LedgerCheckpoint.objects.get()
    statement = checkpoints.verify_stored(checkpoint)
    assert (statement["length"], statement["head_hash"]) == (8, ledger.head_hash())
    assert {h["workspace"]: (h["entries"], h["head"]) for h in statement["workspaces"]} == {
        ws: (ledger.workspace_head(ws).entries, ledger.workspace_head(ws).head)
        for ws in (grant.workspace_id, other.workspace_id)
    }
    assert f"matches checkpoint {number()}" in command("verify_ledger")


def test_a_second_run_with_nothing_new_signs_nothing():
    two_workspaces()
    command("ledger_checkpoint")
    assert "nothing signed" in command("ledger_checkpoint")
    ledger.append("viewed")
    command("ledger_checkpoint")
    assert LedgerCheckpoint.objects.count() == 2
    assert f"matches checkpoint {number()}" in command("verify_ledger")


def test_deleting_the_last_rows_is_detected():
    """The chain alone still checks out after its last three rows go; the checkpoint does not."""
    grant, _other = two_workspaces()
    command("ledger_checkpoint")
    raw("DELETE FROM consent_ledgerentry WHERE seq > 5")
    assert ledger.verify().intact  # what a chain alone can say
    with pytest.raises(CommandError) as error:
        command("verify_ledger")
    message = str(error.value)
    assert f"does not match checkpoint {number()}" in message
    assert f"the ledger holds 5 of the 8 entries checkpoint {number()}" in message
    assert f"workspace {grant.workspace_id} holds 3 events where checkpoint {number()}" in message


def test_a_removed_revocation_with_the_chain_rehashed_is_detected():
    """A grant's 'revoked' event removed and every later row renumbered and re-hashed (then one
    forged event to keep the length): the chain is consistent, the signed heads are not."""
    grant, other = two_workspaces()
    command("ledger_checkpoint")
    rewrite_chain(lambda e: e.event != "revoked")
    ledger.append("viewed", grant=other)  # the length is 8 again
    assert ledger.verify().intact and ledger.verify().length == 8
    with pytest.raises(CommandError) as error:
        command("verify_ledger")
    message = str(error.value)
    assert f"entry 8 is not the one checkpoint {number()}" in message and "re-hashed" in message
    assert f"workspace {grant.workspace_id} holds 4 events where checkpoint {number()}" in message
    assert f"workspace {other.workspace_id}" not in message  # its own events are untouched


def test_an_edited_event_rehashed_names_its_workspace():
    grant, _other = two_workspaces()
    command("ledger_checkpoint")
    rows = list(LedgerEntry.objects.order_by("seq"))
    revoked = next(e for e in rows if e.event == "revoked")
    rewrite_chain(lambda e: True)  # a no-op rewrite still matches
    assert f"matches checkpoint {number()}" in command("verify_ledger")
    raw("UPDATE consent_ledgerentry SET event = 'viewed' WHERE seq = %s", [revoked.seq])
    rewrite_chain(lambda e: True)
    with pytest.raises(CommandError, match=f"workspace {grant.workspace_id}'s events differ"):
        command("verify_ledger")


def test_ledger_checkpoint_refuses_to_sign_over_a_truncated_ledger():
    two_workspaces()
    command("ledger_checkpoint")
    raw("DELETE FROM consent_ledgerentry WHERE seq > 6")
    with pytest.raises(CommandError, match="No checkpoint was signed"):
        command("ledger_checkpoint", "--force")
    assert LedgerCheckpoint.objects.count() == 1


def test_a_tampered_checkpoint_row_does_not_verify():
    """Lowering the recorded counts in the stored statement, to fit a truncated ledger, breaks
    its signature; changing only the row's columns is caught against the signed statement."""
    two_workspaces()
    checkpoint = checkpoints.make_checkpoint()
    statement = json.loads(checkpoint.statement)
    statement["length"] = 5
    forged = ledger.canonical(statement).decode()
    raw("UPDATE consent_ledgercheckpoint SET statement = %s", [forged])
    with pytest.raises(
        CommandError, match=rf"signature of checkpoint {number()} .* does not verify"
    ):
        command("verify_ledger")
    raw("UPDATE consent_ledgercheckpoint SET statement = %s", [checkpoint.statement])
    raw("UPDATE consent_ledgercheckpoint SET length = 5")
    with pytest.raises(CommandError, match="row does not match its signed statement"):
        command("verify_ledger")


def test_a_tampered_checkpoint_file_does_not_verify(tmp_path):
    two_workspaces()
    path = tmp_path / "checkpoint.json"
    command("ledger_checkpoint", "--out", str(path))
    assert f"matches checkpoint {number()}" in command("verify_ledger", "--checkpoint", str(path))
    document = json.loads(path.read_text())
    document["statement"]["workspaces"][0]["entries"] -= 1
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="does not verify"):
        command("verify_ledger", "--checkpoint", str(path))


def test_a_checkpoint_file_signed_by_another_site_does_not_verify(tmp_path, settings):
    from engine.keys import ensure_site_identity

    two_workspaces()
    ensure_site_identity(settings.SITE_KEYS_DIR)  # this site's own identity
    settings.SITE_KEYS_DIR = tmp_path / "elsewhere"
    document = checkpoints.checkpoint_file(checkpoints.make_checkpoint())
    settings.SITE_KEYS_DIR = tmp_path / "keys"
    with pytest.raises(checkpoints.CheckpointInvalid, match="not signed by this site"):
        checkpoints.verify_file(document)


def test_a_downloaded_checkpoint_still_catches_truncation_after_the_rows_are_deleted(tmp_path):
    """Deleting the checkpoint rows too leaves the ledger looking new, but a copy kept off the
    site still names what is missing."""
    two_workspaces()
    path = tmp_path / "checkpoint.json"
    command("ledger_checkpoint", "--out", str(path))
    raw("DELETE FROM consent_ledgercheckpoint")
    raw("DELETE FROM consent_ledgerentry WHERE seq > 5")
    assert "no signed checkpoint yet" in command("verify_ledger")
    with pytest.raises(CommandError, match="holds 5 of the 8 entries"):
        command("verify_ledger", "--checkpoint", str(path))


def test_the_auditor_downloads_their_workspaces_signed_checkpoint(member_client, member):
    url = reverse("consent:audit_checkpoint")
    assert member_client.get(url).status_code == 404  # none signed yet
    grant = GrantFactory(subject__workspace=member.workspace)
    ledger.append("signed", grant=grant)
    other = GrantFactory()
    ledger.append("signed", grant=other)
    checkpoints.make_checkpoint()
    response = member_client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    statement = checkpoints.verify_file(document)
    own = ledger.workspace_head(member.workspace.pk)
    assert statement["scope"] == "workspace" and "length" not in statement
    assert statement["workspaces"] == [
        {"workspace": own.workspace_id, "entries": 1, "head": own.head}
    ]
    assert [h["workspace"] for h in statement["workspaces"]] == [member.workspace.pk]
    assert other.workspace_id != member.workspace.pk
    page = member_client.get(reverse("consent:audit_ledger")).content.decode()
    assert f"matches checkpoint {number()}" in page and own.head in page
    assert ledger.head_hash() not in page  # the site-wide head tells of other workspaces


def test_the_ledger_page_names_what_differs_from_the_checkpoint(member_client, member):
    grant = GrantFactory(subject__workspace=member.workspace)
    for event in ("invited", "signed", "revoked"):
        ledger.append(event, grant=grant)
    checkpoints.make_checkpoint()
    raw("DELETE FROM consent_ledgerentry WHERE seq = 3")
    page = member_client.get(reverse("consent:audit_ledger")).content.decode()
    assert 'data-matches="0"' in page and "the ledger holds 2 of the 3 entries" in page


def test_the_certificate_carries_its_workspace_head_not_the_site_head():
    from consent.certificate import certificate_html

    grant, other = two_workspaces()
    ledger.append("viewed", grant=other)  # the site-wide head moves on; this workspace's does not
    html = certificate_html(grant)
    assert ledger.workspace_head(grant.workspace_id).head in html
    assert ledger.head_hash() not in html
    assert ledger.workspace_head(other.workspace_id).head not in html


def test_the_admin_shows_checkpoints_read_only(client, django_user_model):
    two_workspaces()
    checkpoint = checkpoints.make_checkpoint()
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin)
    assert client.get(reverse("admin:consent_ledgercheckpoint_changelist")).status_code == 200
    assert client.get(reverse("admin:consent_ledgercheckpoint_add")).status_code == 403
    delete = reverse("admin:consent_ledgercheckpoint_delete", args=[checkpoint.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert LedgerCheckpoint.objects.count() == 1
