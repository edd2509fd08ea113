"""The consent ledger: an append-only, hash-chained log of every consent event.

Each entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of its seq,
time, event, ids, payload and the previous entry's hash. Changing, removing or inserting a row
breaks the chain at that row, and `verify` names it.

A chain alone cannot tell rows deleted from its end, or an event removed and every later row
re-hashed, from an honest ledger. So each workspace also has its own head (`workspace_heads`): a
chain over that workspace's events only, which says nothing of other workspaces' activity and is
what its certificates carry; and `consent.checkpoints` signs the site's head and every workspace's
head, stored outside this table, for `verify_ledger` to compare against.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent.models import LedgerEntry

GENESIS = "0" * 64
# PostgreSQL: every append takes this transaction-scoped advisory lock first.
ADVISORY_LOCK_KEY = 0x4C696B65  # "Like"


class Event:
    INVITED = "invited"
    VIEWED = "viewed"
    RECORDED = "recorded"
    FOOTAGE_RECORDED = "footage_recorded"  # the subject's footage for a footage avatar
    SIGNED = "signed"
    VERIFIED = "verified"
    REVIEWED = "reviewed"
    SCRIPT_REQUESTED = "script_requested"
    SCRIPT_APPROVED = "script_approved"
    SCRIPT_REJECTED = "script_rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"
    DATA_DELETED = "data_deleted"
    RENDER_AUTHORIZED = "render_authorized"
    RENDER_REFUSED = "render_refused"
    LINK_ISSUED = "link_issued"  # a (new) subject link for the grant; the old one stops working
    REVERIFICATION_REQUESTED = "reverification_requested"
    AVATAR_IDENTITY_CHECKED = "avatar_identity_checked"  # enrollment vs the grant's references
    AVATAR_REVIEWED = "avatar_reviewed"  # an auditor's decision on a held avatar
    SCREENING_HELD = "screening_held"  # acceptable-use screening held a script for review
    SCREENING_APPROVED = "screening_approved"  # an owner let a held script render
    SCREENING_KEPT_HELD = "screening_kept_held"  # an owner kept a held script from rendering


def canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_fields(
    *, seq: int, at: datetime, event: str, workspace_id, grant_id, payload, prev_hash
) -> dict:
    return {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "event": event,
        "workspace": workspace_id,
        "grant": grant_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def entry_hash(fields: dict) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def _lock_chain() -> None:
    # SQLite: transactions here are BEGIN IMMEDIATE (settings), so the write lock is already held.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


def append(event: str, *, grant=None, workspace_id=None, **payload) -> LedgerEntry:
    """Append one event; safe under concurrency (the chain is locked, seq is unique)."""
    payload = json.loads(json.dumps(payload, default=str))  # what is hashed is what is stored
    if grant is not None:
        workspace_id = grant.workspace_id
    for _attempt in range(5):
        try:
            with transaction.atomic():
                _lock_chain()
                last = LedgerEntry.objects.order_by("-seq").only("seq", "hash").first()
                seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
                at = timezone.now()
                fields = entry_fields(
                    seq=seq,
                    at=at,
                    event=event,
                    workspace_id=workspace_id,
                    grant_id=grant.pk if grant is not None else None,
                    payload=payload,
                    prev_hash=prev,
                )
                return LedgerEntry.objects.create(
                    seq=seq,
                    at=at,
                    event=event,
                    workspace_id=workspace_id,
                    grant_id=fields["grant"],
                    payload=payload,
                    prev_hash=prev,
                    hash=entry_hash(fields),
                )
        except IntegrityError:
            continue  # another writer took this seq (a database without the lock): read again
    raise RuntimeError("The consent ledger is too busy; try again.")


@dataclass(frozen=True)
class ChainStatus:
    intact: bool
    length: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def verify() -> ChainStatus:
    """Walk the whole chain in order; the first row that does not follow names the break."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in LedgerEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            problem = (
                f"entry {expected_seq} is missing"
                if entry.seq > expected_seq
                else f"entry {entry.seq} is out of order"
            )
            return ChainStatus(False, count, prev, expected_seq, problem)
        fields = entry_fields(
            seq=entry.seq,
            at=entry.at,
            event=entry.event,
            workspace_id=entry.workspace_id,
            grant_id=entry.grant_id,
            payload=entry.payload,
            prev_hash=entry.prev_hash,
        )
        if entry.prev_hash != prev:
            return ChainStatus(
                False, count, prev, entry.seq, "it does not point to the entry before it"
            )
        if entry_hash(fields) != entry.hash:
            return ChainStatus(False, count, prev, entry.seq, "its content does not match its hash")
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    return ChainStatus(True, count, prev)


def head_hash() -> str:
    last = LedgerEntry.objects.order_by("-seq").only("hash").first()
    return last.hash if last else GENESIS


@dataclass(frozen=True)
class WorkspaceHead:
    """A workspace's own chain: how many events it holds and the hash of the last link."""

    workspace_id: int | None  # None: events of no workspace (site-level)
    entries: int
    head: str


def workspace_link(prev_head: str, entry: LedgerEntry) -> str:
    """The next head of a workspace's chain: SHA-256 over the canonical JSON of the entry's time,
    event, ids and payload and the workspace's previous head. The site-wide seq and prev_hash are
    left out, so the head tells nothing of other workspaces and anyone holding the workspace's own
    events can recompute it."""
    return entry_hash(
        {
            "at": entry.at.isoformat(timespec="microseconds"),
            "event": entry.event,
            "workspace": entry.workspace_id,
            "grant": entry.grant_id,
            "payload": entry.payload,
            "prev_head": prev_head,
        }
    )


def workspace_heads(limits: dict | None = None) -> dict[int | None, WorkspaceHead]:
    """Every workspace's head, in one pass over the ledger in seq order. With `limits`
    ({workspace id: n}), only each listed workspace's first n events count and other workspaces
    are skipped: the heads a checkpoint that recorded those counts should see again."""
    heads: dict[int | None, WorkspaceHead] = {}
    entries = LedgerEntry.objects.order_by("seq")
    if limits is not None:
        heads = {ws: WorkspaceHead(ws, 0, GENESIS) for ws in limits}
    for entry in entries.iterator(chunk_size=2000):
        ws = entry.workspace_id
        current = heads.get(ws)
        if current is None:
            if limits is not None:
                continue
            current = WorkspaceHead(ws, 0, GENESIS)
        elif limits is not None and current.entries >= limits[ws]:
            continue
        heads[ws] = WorkspaceHead(ws, current.entries + 1, workspace_link(current.head, entry))
    return heads


def workspace_head(workspace_id: int | None) -> WorkspaceHead:
    """One workspace's head over its own events (what its certificates and auditors see)."""
    head, count = GENESIS, 0
    entries = LedgerEntry.objects.filter(workspace_id=workspace_id).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        head, count = workspace_link(head, entry), count + 1
    return WorkspaceHead(workspace_id, count, head)


def timeline(grant) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(grant_id=grant.pk).order_by("seq"))
