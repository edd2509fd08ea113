"""The consent ledger: an append-only, hash-chained log of every consent event.

Each entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of its seq,
time, event, ids, payload and the previous entry's hash. Changing, removing or inserting a row
breaks the chain at that row, and `verify` names it.
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


def timeline(grant) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(grant_id=grant.pk).order_by("seq"))
