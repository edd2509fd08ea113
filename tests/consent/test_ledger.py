"""The consent ledger: a hash chain that refuses edits and names the first bad entry."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from consent import ledger
from consent.models import LedgerEntry, LedgerImmutable
from tests.factories import GrantFactory


def fill(count=5, grant=None):
    return [ledger.append("invited", grant=grant, n=i) for i in range(count)]


def run_verify_ledger() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_entries_chain_each_to_the_one_before():
    entries = fill(3, grant=GrantFactory())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == ledger.GENESIS
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert ledger.verify().intact and ledger.head_hash() == entries[2].hash


@pytest.mark.django_db
def test_verify_ledger_prints_the_head_hash_when_intact():
    entries = fill(4)
    assert run_verify_ledger().startswith(entries[-1].hash)


@pytest.mark.django_db
def test_the_model_refuses_update_and_delete():
    entry = fill(1)[0]
    entry.payload = {"n": 99}
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(event="forged")
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.all().delete()


@pytest.mark.django_db
def test_an_altered_row_is_named():
    fill(5)
    raw("UPDATE consent_ledgerentry SET payload = %s WHERE seq = 3", ['{"n": 42}'])
    with pytest.raises(CommandError, match="broken at seq 3: its content does not match"):
        run_verify_ledger()


@pytest.mark.django_db
def test_a_removed_row_is_named():
    fill(5)
    raw("DELETE FROM consent_ledgerentry WHERE seq = 2")
    with pytest.raises(CommandError, match="broken at seq 2: entry 2 is missing"):
        run_verify_ledger()


@pytest.mark.django_db
def test_an_inserted_row_is_named():
    """A forged entry slipped in as seq 3, with the rest renumbered and even rehashed after it,
    still breaks where the original entry 4 no longer points to its predecessor."""
    entries = fill(4)
    raw("UPDATE consent_ledgerentry SET seq = seq + 100 WHERE seq >= 3")
    forged_fields = ledger.entry_fields(
        seq=3,
        at=entries[2].at,
        event="signed",
        workspace_id=None,
        grant_id=None,
        payload={"forged": True},
        prev_hash=entries[1].hash,
    )
    LedgerEntry.objects.create(
        seq=3,
        at=entries[2].at,
        event="signed",
        payload={"forged": True},
        prev_hash=entries[1].hash,
        hash=ledger.entry_hash(forged_fields),
    )
    raw("UPDATE consent_ledgerentry SET seq = seq - 99 WHERE seq >= 100")
    with pytest.raises(CommandError, match="broken at seq 4: it does not point"):
        run_verify_ledger()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    threads, per_thread, errors = 6, 8, []

    def work(index):
        try:
            for n in range(per_thread):
                ledger.append("render_authorized", thread=index, n=n)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    seqs = list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1))
    assert LedgerEntry.objects.values("prev_hash").distinct().count() == threads * per_thread
    assert ledger.verify().intact


@pytest.mark.django_db
def test_the_admin_shows_the_ledger_read_only(client, django_user_model):
    from django.urls import reverse

    entry = fill(1)[0]
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin)
    assert client.get(reverse("admin:consent_ledgerentry_changelist")).status_code == 200
    assert client.get(reverse("admin:consent_ledgerentry_add")).status_code == 403
    change = reverse("admin:consent_ledgerentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # a view, without a save button
    client.post(change, {"event": "forged"})
    delete = reverse("admin:consent_ledgerentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.event == "invited" and ledger.verify().intact


def _altered(column: str):
    """A value for ``column`` of ledger row 3 that differs from what was appended."""
    from datetime import UTC, datetime

    return {
        "event": "signed",  # a revocation rewritten as a signature
        "at": connection.ops.adapt_datetimefield_value(datetime(2020, 1, 1, tzinfo=UTC)),
        "workspace_id": 987654,
        "grant_id": 987654,
        "payload": '{"n": 2, "forged": true}',
    }[column]


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["event", "at", "workspace_id", "grant_id", "payload"])
def test_every_column_that_carries_meaning_is_covered_by_the_hash(column):
    """Rewriting any one meaningful column of a row in SQL (its hash left as it was) breaks the
    chain at that row: a revocation cannot become a signature, move to another grant or
    workspace, or change its time."""
    grant = GrantFactory()
    for n in range(5):
        ledger.append("revoked" if n == 2 else "invited", grant=grant, n=n)
    raw(f"UPDATE consent_ledgerentry SET {column} = %s WHERE seq = 3", [_altered(column)])  # noqa: S608
    status = ledger.verify()
    assert not status.intact
    assert (status.first_bad_seq, status.problem) == (3, "its content does not match its hash")


@pytest.mark.django_db
def test_an_auditor_recomputes_every_hash_from_the_documented_canonical_json():
    """The module's promise, followed from the stored columns alone: SHA-256 over the JSON of seq,
    time, event, ids, payload and previous hash, keys sorted, no spaces, UTF-8 (not escaped)."""
    import hashlib
    import json

    grant = GrantFactory()
    ledger.append("signed", grant=grant, name="Zoë Ångström", clauses=["voice", "face"])
    ledger.append("viewed", note="no grant")
    for entry in LedgerEntry.objects.order_by("seq"):
        document = {
            "seq": entry.seq,
            "at": entry.at.isoformat(timespec="microseconds"),
            "event": entry.event,
            "workspace": entry.workspace_id,
            "grant": entry.grant_id,
            "payload": entry.payload,
            "prev_hash": entry.prev_hash,
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert entry.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.django_db
def test_an_empty_ledger_starts_from_the_genesis_hash():
    assert ledger.head_hash() == ledger.GENESIS
    assert ledger.verify() == ledger.ChainStatus(True, 0, ledger.GENESIS)


@pytest.mark.django_db
def test_an_intact_chain_reports_its_length_and_head():
    entries = fill(4)
    assert ledger.verify() == ledger.ChainStatus(True, 4, entries[-1].hash)


@pytest.mark.django_db
def test_a_break_reports_how_much_of_the_chain_before_it_holds():
    """The status of a broken chain counts the good entries before the break and names the last
    good hash, whatever kind of break it is."""
    entries = fill(5)
    raw("UPDATE consent_ledgerentry SET payload = %s WHERE seq = 3", ['{"n": 42}'])
    assert ledger.verify() == ledger.ChainStatus(
        False, 2, entries[1].hash, 3, "its content does not match its hash"
    )
    raw("UPDATE consent_ledgerentry SET prev_hash = %s WHERE seq = 2", [ledger.GENESIS])
    assert ledger.verify() == ledger.ChainStatus(
        False, 1, entries[0].hash, 2, "it does not point to the entry before it"
    )
    raw("DELETE FROM consent_ledgerentry WHERE seq = 1")
    assert ledger.verify() == ledger.ChainStatus(False, 0, ledger.GENESIS, 1, "entry 1 is missing")


@pytest.mark.django_db
def test_an_entry_numbered_before_the_first_is_named_out_of_order():
    fill(3)
    raw("UPDATE consent_ledgerentry SET seq = 0 WHERE seq = 1")
    assert ledger.verify() == ledger.ChainStatus(
        False, 0, ledger.GENESIS, 1, "entry 0 is out of order"
    )


@pytest.mark.django_db
def test_an_entry_for_a_grant_records_the_grant_and_its_workspace():
    grant = GrantFactory()
    entry = ledger.append("signed", grant=grant)
    assert (entry.grant_id, entry.workspace_id) == (grant.pk, grant.workspace_id)
    entry.refresh_from_db()
    assert (entry.grant_id, entry.workspace_id) == (grant.pk, grant.workspace_id)


@pytest.mark.django_db
def test_a_payload_value_json_cannot_hold_is_stored_and_hashed_as_its_text():
    from datetime import UTC, datetime

    moment = datetime(2030, 5, 17, 9, 30, tzinfo=UTC)
    entry = ledger.append("expired", at=moment)
    entry.refresh_from_db()
    assert entry.payload == {"at": str(moment)}
    assert ledger.verify().intact


@pytest.mark.django_db
def test_a_grants_timeline_is_its_own_entries_in_order():
    grant, other = GrantFactory(), GrantFactory()
    ledger.append("invited", grant=grant)
    ledger.append("invited", grant=other)
    ledger.append("signed", grant=grant)
    assert [e.event for e in ledger.timeline(grant)] == ["invited", "signed"]
    assert [e.seq for e in ledger.timeline(grant)] == [1, 3]


def rival_writer(monkeypatch, *, takes: int):
    """Another writer (as on a database without the chain lock) that inserts the very seq an
    append has just read as free, `takes` times; returns the list of seqs an append tried."""
    tried = []
    entry_fields = ledger.entry_fields

    def fields_and_a_rival_row(**kwargs):
        tried.append(kwargs["seq"])
        if len(tried) <= takes:
            LedgerEntry.objects.create(
                seq=kwargs["seq"],
                at=kwargs["at"],
                event="invited",
                payload={},
                prev_hash=kwargs["prev_hash"],
                hash=f"{len(tried):064x}",
            )
        return entry_fields(**kwargs)

    monkeypatch.setattr(ledger, "entry_fields", fields_and_a_rival_row)
    return tried


@pytest.mark.django_db
def test_an_append_that_loses_its_seq_to_another_writer_reads_the_chain_again(monkeypatch):
    tried = rival_writer(monkeypatch, takes=1)
    entry = ledger.append("signed", n=1)
    assert len(tried) == 2  # the lost attempt rolled back, the second one was stored
    assert LedgerEntry.objects.get(seq=entry.seq).event == "signed"
    assert ledger.verify().intact


@pytest.mark.django_db
def test_an_append_gives_up_after_five_attempts_lost_to_other_writers(monkeypatch):
    tried = rival_writer(monkeypatch, takes=99)
    with pytest.raises(RuntimeError) as refused:
        ledger.append("signed", n=1)
    assert str(refused.value) == "The consent ledger is too busy; try again."
    assert len(tried) == 5
    assert not LedgerEntry.objects.filter(event="signed").exists()


@pytest.mark.django_db
def test_an_auditor_recomputes_a_workspace_head_from_its_own_events():
    """The workspace head's promise, followed from the workspace's own rows: SHA-256 over the
    canonical JSON of time, event, ids, payload and the previous head, from the genesis hash."""
    import hashlib
    import json

    grant, other = GrantFactory(), GrantFactory()
    ledger.append("signed", grant=grant, name="Zoë Ångström", clauses=["voice"])
    ledger.append("signed", grant=other)
    ledger.append("revoked", grant=grant, reason="changed my mind")
    head = ledger.GENESIS
    own = LedgerEntry.objects.filter(workspace_id=grant.workspace_id).order_by("seq")
    for entry in own:
        document = {
            "at": entry.at.isoformat(timespec="microseconds"),
            "event": entry.event,
            "workspace": entry.workspace_id,
            "grant": entry.grant_id,
            "payload": entry.payload,
            "prev_head": head,
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        head = hashlib.sha256(text.encode("utf-8")).hexdigest()
    expected = ledger.WorkspaceHead(grant.workspace_id, 2, head)
    assert ledger.workspace_head(grant.workspace_id) == expected
    assert ledger.workspace_heads()[grant.workspace_id] == expected


@pytest.mark.django_db
def test_heads_limited_to_a_checkpoints_counts_read_past_other_workspaces_events():
    """With limits, each listed workspace counts its first n events wherever they fall among
    other workspaces' events, listed or not."""
    first, second, unlisted = GrantFactory(), GrantFactory(), GrantFactory()
    for grant in (first, unlisted, second, first, unlisted, second, first):
        ledger.append("viewed", grant=grant)
    limits = {first.workspace_id: 1, second.workspace_id: 2}
    heads = ledger.workspace_heads(limits)
    assert set(heads) == set(limits)
    assert heads[first.workspace_id].entries == 1
    assert heads[second.workspace_id] == ledger.workspace_head(second.workspace_id)


@pytest.mark.django_db
def test_a_listed_workspace_without_events_has_the_genesis_head():
    grant = GrantFactory()
    heads = ledger.workspace_heads({grant.workspace_id: 0})
    assert heads == {
        grant.workspace_id: ledger.WorkspaceHead(grant.workspace_id, 0, ledger.GENESIS)
    }
