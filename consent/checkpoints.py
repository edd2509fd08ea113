"""Signed checkpoints of the consent ledger, kept outside the ledger table.

A checkpoint is a statement — the site-wide length and head hash, and every workspace's own head
(`ledger.workspace_heads`) — signed ES256 (ECDSA P-256, SHA-256, DER, base64) over its canonical
JSON with the site's signing key (`engine.keys`, the key that signs C2PA manifests and
certificates). `verify_ledger` compares the ledger with the latest one: rows deleted from the end,
or an event removed and the rest re-hashed (a consistent chain that a chain alone cannot tell from
an honest one), no longer match what was signed. A downloaded checkpoint file, kept off the site,
also survives someone deleting checkpoint rows: `verify_ledger --checkpoint FILE`.

Production makes one every hour (`manage.py ledger_checkpoint --every 3600`, a service in
docker/compose.yaml; a cron line running it without --every works as well); a run with nothing new
since the latest checkpoint signs nothing. Events after the latest checkpoint are protected by the
chain only, so the interval is how much history a database writer could drop unseen.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent import ledger
from consent.models import LedgerCheckpoint, LedgerEntry
from core.errors import UserError

KIND = "likeness.ledger-checkpoint"
VERSION = 1
ALGORITHM = "ES256: ECDSA P-256 over SHA-256 of the canonical JSON of statement, DER, base64"


class CheckpointInvalid(UserError):
    """A checkpoint whose signature does not verify, or a file that is not a checkpoint."""

    code = "checkpoint_invalid"


class LedgerDiverged(UserError):
    """The ledger no longer holds what a checkpoint recorded; refuse to sign over that."""

    code = "ledger_diverged"


def _describe(statement: dict) -> str:
    number = statement.get("checkpoint")
    name = f"checkpoint #{number}" if number else "the checkpoint"
    return f"{name} of {statement.get('created_at', '?')}"


def _head_json(head: ledger.WorkspaceHead) -> dict:
    return {"workspace": head.workspace_id, "entries": head.entries, "head": head.head}


def _sign(statement: dict) -> tuple[str, str]:
    """(signature, certificate chain PEM) for a statement, with the site's signer key."""
    from engine.keys import ensure_site_identity

    identity = ensure_site_identity(settings.SITE_KEYS_DIR, site_name=settings.SITE_NAME)
    key = serialization.load_pem_private_key(identity.signer_key_pem(), password=None)
    signature = key.sign(ledger.canonical(statement), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode(), identity.chain_pem().decode()


def signed_file(statement: dict, signature: str, chain: str) -> dict:
    """The downloadable form: the statement, its signature and how to check it."""
    return {
        "statement": statement,
        "algorithm": ALGORITHM,
        "signature": signature,
        "certificate_chain": chain,
        "trust_anchor": "the site's root certificate (SITE_KEYS_DIR/root.pem)",
    }


def checkpoint_file(checkpoint: LedgerCheckpoint) -> dict:
    """A stored checkpoint as its signed file (the whole site's heads: for operators)."""
    statement = json.loads(checkpoint.statement)
    return signed_file(statement, checkpoint.signature, checkpoint.certificate_chain)


def verify_file(document: dict) -> dict:
    """The statement of a signed checkpoint file, once its signature verifies under a signer
    certificate issued by this site's root; CheckpointInvalid otherwise."""
    from engine.keys import load_site_identity

    try:
        statement = document["statement"]
        signature = base64.b64decode(document["signature"], validate=True)
        chain = x509.load_pem_x509_certificates(document["certificate_chain"].encode())
        if statement.get("kind") != KIND:
            raise ValueError(statement.get("kind"))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointInvalid(f"This is not a ledger checkpoint file ({error}).") from error
    identity = load_site_identity(settings.SITE_KEYS_DIR)
    if identity is None:
        raise CheckpointInvalid(
            f"There is no site signing identity in {settings.SITE_KEYS_DIR} to check against."
        )
    root = x509.load_pem_x509_certificate(identity.root_pem())
    signer = chain[0]
    try:
        root.public_key().verify(
            signer.signature,
            signer.tbs_certificate_bytes,
            ec.ECDSA(signer.signature_hash_algorithm),
        )
        signer.public_key().verify(
            signature, ledger.canonical(statement), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, TypeError, ValueError) as error:
        raise CheckpointInvalid(
            f"The signature of {_describe(statement)} does not verify: the checkpoint was "
            "altered, or it was not signed by this site."
        ) from error
    return statement


def verify_stored(checkpoint: LedgerCheckpoint) -> dict:
    """A stored checkpoint's statement, its signature checked; the row's own columns must say
    what the signed statement says (they are what lists show)."""
    statement = verify_file(checkpoint_file(checkpoint))
    if (checkpoint.length, checkpoint.head_hash) != (
        statement.get("length"),
        statement.get("head_hash"),
    ) or statement.get("checkpoint") != checkpoint.pk:
        raise CheckpointInvalid(
            f"Checkpoint #{checkpoint.pk}'s row does not match its signed statement: the row "
            "was altered."
        )
    return statement


@dataclass(frozen=True)
class CheckpointComparison:
    """How the ledger compares with one checkpoint; `differences` names each thing that differs."""

    checkpoint: str  # "checkpoint #3 of 2026-11-30T22:00:00+00:00"
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def _workspace_name(workspace_id) -> str:
    return f"workspace {workspace_id}" if workspace_id is not None else "site-level events"


def compare(statement: dict) -> CheckpointComparison:
    """Compare the ledger with a verified statement (site-wide, or one workspace's)."""
    name = _describe(statement)
    differences = []
    if "length" in statement:
        length, recorded = statement["length"], statement["head_hash"]
        now = LedgerEntry.objects.filter(seq=length).values_list("hash", flat=True).first()
        count = LedgerEntry.objects.filter(seq__lte=length).count()
        if count < length:
            differences.append(
                f"the ledger holds {count} of the {length} entries {name} recorded: "
                f"entries were deleted (the last {length - count} at least, if from the end)"
                if now is None
                else f"{length - count} of the {length} entries {name} recorded are missing"
            )
        elif length and now != recorded:
            differences.append(
                f"entry {length} is not the one {name} recorded (hash {recorded[:16]}…, now "
                f"{(now or '')[:16]}…): the chain up to it was rewritten and re-hashed"
            )
    recorded_heads = {h["workspace"]: h for h in statement.get("workspaces", [])}
    actual = ledger.workspace_heads({ws: h["entries"] for ws, h in recorded_heads.items()})
    for ws, recorded in recorded_heads.items():
        head = actual[ws]
        if head.entries < recorded["entries"]:
            differences.append(
                f"{_workspace_name(ws)} holds {head.entries} events where {name} recorded "
                f"{recorded['entries']}: events were removed"
            )
        elif head.head != recorded["head"]:
            differences.append(
                f"{_workspace_name(ws)}'s events differ from {name}: an event was changed, "
                "removed or reordered before it"
            )
    return CheckpointComparison(name, differences)


def latest() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-created_at", "-pk").first()


def compare_latest() -> CheckpointComparison | None:
    """The ledger against the latest stored checkpoint (its signature checked first, which
    raises CheckpointInvalid); None before the first checkpoint."""
    checkpoint = latest()
    if checkpoint is None:
        return None
    return compare(verify_stored(checkpoint))


def make_checkpoint(*, force: bool = False) -> LedgerCheckpoint | None:
    """Sign and store the ledger's heads now. Refuses (LedgerDiverged) when the chain is broken
    or no longer matches the latest checkpoint: a new signature must never bless a truncated or
    re-hashed ledger. Returns None when nothing was appended since the latest (unless `force`)."""
    with transaction.atomic():
        ledger._lock_chain()  # the heads are read at one point of the chain
        status = ledger.verify()
        if not status.intact:
            raise LedgerDiverged(
                f"The consent ledger is broken at seq {status.first_bad_seq}: {status.problem}."
            )
        previous = latest()
        if previous is not None:
            comparison = compare(verify_stored(previous))
            if not comparison.matches:
                raise LedgerDiverged(
                    f"The consent ledger does not match {comparison.checkpoint}: "
                    + "; ".join(comparison.differences)
                    + "."
                )
            if previous.length == status.length and not force:
                return None
        created_at = timezone.now()
        checkpoint = LedgerCheckpoint.objects.create(
            created_at=created_at, length=status.length, head_hash=status.head_hash
        )
        heads = sorted(
            ledger.workspace_heads().values(),
            key=lambda h: (h.workspace_id is not None, h.workspace_id or 0),
        )
        statement = {
            "kind": KIND,
            "version": VERSION,
            "scope": "site",
            "site": settings.SITE_NAME,
            "checkpoint": checkpoint.pk,
            "created_at": _iso(created_at),
            "length": status.length,
            "head_hash": status.head_hash,
            "workspaces": [_head_json(h) for h in heads],
        }
        checkpoint.statement = ledger.canonical(statement).decode()
        checkpoint.signature, checkpoint.certificate_chain = _sign(statement)
        checkpoint.save(update_fields=["statement", "signature", "certificate_chain"])
        return checkpoint


def workspace_file(checkpoint: LedgerCheckpoint, workspace_id: int) -> dict:
    """The latest checkpoint as one workspace may see it: only its own head (no site-wide length
    or other workspaces), re-signed with the site's key once the stored checkpoint verifies."""
    statement = verify_stored(checkpoint)
    heads = {h["workspace"]: h for h in statement["workspaces"]}
    own = heads.get(workspace_id, {"workspace": workspace_id, "entries": 0, "head": ledger.GENESIS})
    extract = {
        "kind": KIND,
        "version": VERSION,
        "scope": "workspace",
        "site": statement["site"],
        "checkpoint": statement["checkpoint"],
        "created_at": statement["created_at"],
        "workspaces": [own],
    }
    return signed_file(extract, *_sign(extract))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
