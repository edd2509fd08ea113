"""Consent workflows. Each is atomic, appends its events to the ledger, and enqueues work on
commit. Views parse requests and call these; nothing else changes a grant's state."""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path, PurePath

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from consent import ledger
from consent.ledger import Event
from consent.models import (
    ConsentDocument,
    ConsentError,
    ConsentGrant,
    ConsentMethod,
    DataKey,
    ScriptApproval,
    Subject,
    sha256_hex,
)
from consent.signals import biometrics_erased, grant_revoked
from core.crypto import EncryptedFileField, encrypted_content
from core.files import delete_after_commit, sha256_of_upload, upload_to_local

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    """Who did a step, technically: kept in the ledger with the step."""

    ip: str | None = None
    user_agent: str = ""
    user: str | None = None

    def as_payload(self) -> dict:
        payload = {"ip": self.ip, "user_agent": self.user_agent[:500]}
        if self.user:
            payload["user"] = self.user
        return payload


class InvalidLink(ConsentError):
    """The subject's link is unknown (mistyped, altered, or replaced by a newer one)."""


class ExpiredLink(ConsentError):
    """The invitation's link expired before the subject signed."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def record_illustration_consent(
    *,
    subject: Subject,
    document: ConsentDocument,
    purposes: list[str],
    valid_from: datetime,
    valid_until: datetime,
    recorded_by,
    evidence: Evidence,
) -> ConsentGrant:
    """The demo's consent: its "subject" is a presenter drawn by the software, not a person, so
    there is no one to give evidence. Never offered in the site; for `seed_demo` and benchmarks."""
    grant = ConsentGrant.draft(
        subject=subject,
        document=document,
        purposes=purposes,
        valid_from=valid_from,
        valid_until=valid_until,
        method=ConsentMethod.ILLUSTRATION,
    )
    grant.save()
    grant.sign(
        name=subject.full_name,
        at=timezone.now(),
        ip=evidence.ip,
        user_agent=evidence.user_agent,
        recorded_by=recorded_by,
    )
    ledger.append(
        Event.SIGNED,
        grant=grant,
        method="illustration: no person is depicted",
        document_sha256=grant.document_sha256,
        **evidence.as_payload(),
    )
    return grant


def _store_upload(grant: ConsentGrant, field_name: str, name: str, upload) -> str:
    """Write an upload to the storage of the grant's file field; the stored file's name."""
    field = ConsentGrant._meta.get_field(field_name)
    upload.seek(0)
    if isinstance(field, EncryptedFileField):  # likeness data: only ciphertext reaches storage
        upload = encrypted_content(grant, upload)
    return field.storage.save(
        field.generate_filename(grant, name), upload, max_length=field.max_length
    )


class _StoredFiles:
    """Files written before the transaction that records them (no storage write may happen
    while it can still roll back): if it fails, they are deleted again."""

    def __init__(self, grant: ConsentGrant):
        self.grant, self.stored = grant, []

    def store(self, field_name: str, name: str, upload) -> str:
        stored = _store_upload(self.grant, field_name, name, upload)
        self.stored.append((field_name, stored))
        return stored

    def store_references(self, portrait, voice) -> None:
        """The reference photo and voice sample the consent clip is checked against."""
        suffix = PurePath(portrait.name).suffix.lower()
        self.grant.reference_portrait.name = self.store(
            "reference_portrait", f"portrait{suffix}", portrait
        )
        self.grant.reference_voice.name = self.store("reference_voice", "voice.wav", voice)

    def store_signed_document(self, scan) -> str:
        """The scan or PDF of the paper the subject signed."""
        return self.store("signed_document", f"signed{PurePath(scan.name).suffix.lower()}", scan)

    def __enter__(self) -> _StoredFiles:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            for field_name, name in self.stored:
                ConsentGrant._meta.get_field(field_name).storage.delete(name)


def _new_link_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def invite_subject(
    *,
    subject: Subject,
    document: ConsentDocument,
    scope: dict,
    reference_portrait,
    reference_voice,
    invited_by,
    evidence: Evidence,
    method: str = ConsentMethod.REMOTE,
) -> tuple[ConsentGrant, str]:
    """A grant awaiting the subject's ceremony, and the token of their link (shown only once).

    `method`: REMOTE, the subject opens the link on their own device; IN_PERSON, the member hands
    their device to the subject, who goes through the same ceremony and checks there and then."""
    from engine.biometrics.phrase import challenge_sentence

    if method not in (ConsentMethod.REMOTE, ConsentMethod.IN_PERSON):
        raise ValueError(f"An invitation is remote or in person, not {method!r}.")
    token, hashed = _new_link_token()
    grant = ConsentGrant.draft(subject=subject, document=document, method=method, **scope)
    grant.invite_token_hash = hashed
    grant.invite_expires_at = timezone.now() + timedelta(days=settings.CONSENT_INVITE_DAYS)
    grant.invited_by = invited_by
    grant.challenge_text = challenge_sentence()
    with _StoredFiles(grant) as stored:
        stored.store_references(reference_portrait, reference_voice)
        with transaction.atomic():
            grant.save()
            ledger.append(
                Event.INVITED,
                grant=grant,
                method=ConsentMethod(method).label,
                subject=subject.full_name,
                email=subject.email,
                document=f"{document.slug} v{document.version}",
                document_sha256=grant.document_sha256,
                scope=grant.scope(),
                link_expires_at=grant.invite_expires_at.isoformat(),
                **evidence.as_payload(),
            )
    return grant, token


def record_signed_document(
    *,
    subject: Subject,
    document: ConsentDocument,
    scope: dict,
    reference_portrait,
    reference_voice,
    signed_document,
    witness_name: str,
    signed_on: date,
    recorded_by,
    evidence: Evidence,
) -> tuple[ConsentGrant, str]:
    """A consent the subject signed on paper, uploaded (scan, witness, date) by a member: it
    awaits review by an owner or auditor other than that member, and is never live before. The
    subject's link (its token returned, shown once) lets them see and revoke it."""
    token, hashed = _new_link_token()
    grant = ConsentGrant.draft(
        subject=subject, document=document, method=ConsentMethod.SIGNED_DOCUMENT, **scope
    )
    grant.invite_token_hash = hashed
    scan_sha256 = sha256_of_upload(signed_document)
    with _StoredFiles(grant) as stored:
        stored.store_references(reference_portrait, reference_voice)
        scan = stored.store_signed_document(signed_document)
        with transaction.atomic():
            grant.save()
            _await_review_of_paper(
                grant,
                stored_name=scan,
                sha256=scan_sha256,
                witness_name=witness_name,
                signed_on=signed_on,
                recorded_by=recorded_by,
                evidence=evidence,
            )
            ledger.append(
                Event.LINK_ISSUED,
                grant=grant,
                reason="with the signed document",
                replaces_earlier_link=False,
                **evidence.as_payload(),
            )
    return grant, token


def add_signed_document(
    grant: ConsentGrant,
    *,
    signed_document,
    witness_name: str,
    signed_on: date,
    recorded_by,
    evidence: Evidence,
) -> ConsentGrant:
    """The paper the subject signed, for a consent recorded without evidence (typed in before
    evidence was required) or one still awaiting its ceremony: it then awaits review."""
    scan_sha256 = sha256_of_upload(signed_document)
    with _StoredFiles(grant) as stored:
        scan = stored.store_signed_document(signed_document)
        with transaction.atomic():
            locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
            _await_review_of_paper(
                locked,
                stored_name=scan,
                sha256=scan_sha256,
                witness_name=witness_name,
                signed_on=signed_on,
                recorded_by=recorded_by,
                evidence=evidence,
            )
    return locked


def _await_review_of_paper(
    grant: ConsentGrant, *, stored_name, sha256, witness_name, signed_on, recorded_by, evidence
) -> None:
    grant.await_review_of_signed_document(
        stored_name=stored_name,
        sha256=sha256,
        witness=witness_name,
        signed_at=datetime.combine(signed_on, time(12), tzinfo=UTC),
        recorded_by=recorded_by,
    )
    ledger.append(
        Event.SIGNED,
        grant=grant,
        method="signed document, uploaded with a witness",
        signed_on=signed_on.isoformat(),
        witness=witness_name,
        signed_document_sha256=sha256,
        document=f"{grant.document.slug} v{grant.document.version}",
        document_sha256=grant.document_sha256,
        subject=grant.subject.full_name,
        scope=grant.scope(),
        status=grant.status,
        **evidence.as_payload(),
    )


@transaction.atomic
def issue_subject_link(grant: ConsentGrant, *, by, evidence: Evidence) -> tuple[ConsentGrant, str]:
    """A new link for the subject (its token returned, shown once); the earlier link stops
    working. A consent still awaiting its ceremony gets a new expiry too."""
    token, hashed = _new_link_token()
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    had_link = bool(locked.invite_token_hash)
    locked.issue_link(
        token_hash=hashed,
        expires_at=timezone.now() + timedelta(days=settings.CONSENT_INVITE_DAYS),
    )
    ledger.append(
        Event.LINK_ISSUED,
        grant=locked,
        reason="issued again by a member" if had_link else "issued by a member",
        replaces_earlier_link=had_link,
        link_expires_at=locked.invite_expires_at.isoformat()
        if locked.awaits_ceremony and locked.invite_expires_at
        else None,
        **evidence.as_payload(),
    )
    return locked, token


def grant_for_link(token: str, *, at: datetime | None = None) -> ConsentGrant:
    """The grant a subject's link opens. The link expires only while the grant awaits signing:
    afterwards it stays the subject's way to see, approve and revoke."""
    if not token or len(token) > 100:
        raise InvalidLink("This link is not valid. Check that you copied all of it.")
    grant = (
        ConsentGrant.objects.select_related("subject", "document", "workspace")
        .filter(invite_token_hash=token_hash(token))
        .first()
    )
    if grant is None:
        raise InvalidLink("This link is not valid. Check that you copied all of it.")
    if grant.awaits_ceremony and grant.invite_expired(at or timezone.now()):
        raise ExpiredLink(
            f"This invitation expired on {grant.invite_expires_at:%Y-%m-%d %H:%M} UTC. "
            f"Ask {grant.workspace} for a new link."
        )
    return grant


@transaction.atomic
def record_view(grant: ConsentGrant, evidence: Evidence) -> None:
    if grant.record_view(timezone.now()):
        ledger.append(Event.VIEWED, grant=grant, **evidence.as_payload())


# The containers browsers record into; any other extension is stored as .webm.
CLIP_SUFFIXES = (".webm", ".mp4", ".mkv", ".mov")


@transaction.atomic
def issue_liveness_challenge(grant: ConsentGrant) -> dict:
    """A fresh random active challenge for the take that is starting; the page shows it at its
    moment of the recording and the clip uploaded next is checked against it."""
    from engine.biometrics.liveness import random_challenge

    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    if not locked.awaits_ceremony:
        raise ConsentError("This consent is already signed; no clip can be recorded.")
    challenge = random_challenge().to_dict()
    locked.pending_liveness_challenge = challenge
    locked.save(update_fields=["pending_liveness_challenge"])
    return challenge


def keep_take(grant: ConsentGrant, upload, *, field: str, suffixes, screen, record):
    """A recording of the subject (a consent clip, footage) screened, stored, then recorded on
    the grant: ``screen(path)`` measures the local copy (an engine error is the user's message),
    ``record(locked_grant, stored_name, sha256, measured, replaced)`` changes the row and the
    ledger in one transaction. Nothing is saved when a check fails, and a new take replaces the
    earlier one only once it is stored (then, after commit, the earlier file is deleted)."""
    from engine.errors import EngineError

    suffix = PurePath(upload.name or "").suffix.lower()
    suffix = suffix if suffix in suffixes else ".webm"
    stem = field.removeprefix("consent_")
    with tempfile.TemporaryDirectory(prefix="consent-upload-") as folder:
        path = Path(folder) / f"{stem}{suffix}"
        sha256 = upload_to_local(upload, path)
        try:
            measured = screen(path)
        except EngineError as error:
            raise ConsentError(str(error)) from error
        # Store the new file before any row changes: a failed write leaves the old one in place.
        with open(path, "rb") as handle:
            stored_name = _store_upload(grant, field, f"{stem}{suffix}", File(handle))
    storage = getattr(grant, field).storage
    try:
        with transaction.atomic():
            locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
            replaced = getattr(locked, field).name or ""
            record(locked, stored_name, sha256, measured, bool(replaced))
    except BaseException:
        storage.delete(stored_name)
        raise
    if replaced:
        transaction.on_commit(lambda: storage.delete(replaced))
    return locked


def attach_clip(grant: ConsentGrant, upload, evidence: Evidence) -> ConsentGrant:
    """Screen an uploaded consent clip (size, length, decodable, a voice, a face) and keep it.

    Nothing is saved when a check fails and the error says what to fix; a re-take replaces the
    earlier clip only once the new one is stored."""
    from engine.biometrics.consent_clip import screen_clip

    if upload.size > settings.CONSENT_MAX_CLIP_BYTES:
        raise ConsentError(
            f"The clip is {upload.size / 1e6:.1f} MB; the limit is "
            f"{settings.CONSENT_MAX_CLIP_BYTES / 1e6:.0f} MB. Record a shorter clip."
        )
    if upload.size == 0:
        raise ConsentError("The clip is empty; record it again.")

    def record(locked, stored_name, sha256, seconds, replaced):
        locked.attach_clip(
            stored_name,
            sha256=sha256,
            at=timezone.now(),
            challenge=locked.pending_liveness_challenge,
        )
        ledger.append(
            Event.RECORDED,
            grant=locked,
            clip_sha256=locked.clip_sha256,
            clip_seconds=round(seconds, 2),
            challenge=locked.challenge_text,
            liveness_challenge=locked.liveness_challenge or None,
            **evidence.as_payload(),
        )

    return keep_take(
        grant,
        upload,
        field="consent_clip",
        suffixes=CLIP_SUFFIXES,
        screen=screen_clip,
        record=record,
    )


@transaction.atomic
def sign_on_link(
    grant: ConsentGrant,
    *,
    typed_name: str,
    drawn_png: bytes | None,
    document_sha256: str,
    evidence: Evidence,
) -> ConsentGrant:
    """The subject's explicit agreement; verification runs in the background after commit."""
    from django.core.files.base import ContentFile

    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    if document_sha256 != locked.document_sha256:
        raise ConsentError(
            "The document you agreed to is not the one on file. Reload the page and read it again."
        )
    if drawn_png is not None:
        kind, signed_bytes = "drawn", drawn_png
    else:
        kind, signed_bytes = "typed", typed_name.encode()
    locked.sign_remotely(
        name=typed_name,
        kind=kind,
        image=ContentFile(drawn_png, name="signature.png") if drawn_png is not None else None,
        signature_sha256=hashlib.sha256(signed_bytes).hexdigest(),
        at=timezone.now(),
        ip=evidence.ip,
        user_agent=evidence.user_agent,
    )
    ledger.append(
        Event.SIGNED,
        grant=locked,
        method="remote ceremony",
        signature_kind=kind,
        signature_name=typed_name,
        signature_sha256=locked.signature_sha256,
        document_sha256=locked.document_sha256,
        clip_sha256=locked.clip_sha256,
        **evidence.as_payload(),
    )
    transaction.on_commit(lambda: enqueue_verification(locked.pk))
    return locked


def enqueue_verification(grant_id: int) -> None:
    from consent.tasks import verify_grant

    verify_grant.enqueue(grant_id)


@transaction.atomic
def request_reverification(grant: ConsentGrant, *, by) -> ConsentGrant:
    """An auditor runs the automatic check again on a grant whose check failed (a worker that
    timed out, thresholds changed, a reference photo replaced)."""
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    locked.restart_verification()
    ledger.append(Event.REVERIFICATION_REQUESTED, grant=locked, user=by.username)
    transaction.on_commit(lambda: enqueue_verification(locked.pk))
    return locked


@transaction.atomic
def review_grant(grant: ConsentGrant, *, approve: bool, reason: str, by) -> ConsentGrant:
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    locked.review(approve=approve, reason=reason, by=by, at=timezone.now())
    ledger.append(
        Event.REVIEWED,
        grant=locked,
        decision="approved" if approve else "rejected",
        reason=reason,
        user=by.username,
    )
    return locked


@transaction.atomic
def request_script_approval(
    grant: ConsentGrant,
    *,
    title: str,
    text: str,
    by,
    lexicon: dict[str, str] | None = None,
    field_kinds: dict[str, str] | None = None,
) -> ScriptApproval:
    """Send a script to the subject for approval, with the words the voice will say for it
    (``lexicon``: word -> respelling; the workspace's lexicon when None). Sending the same
    script again after the pronunciations changed asks the subject again. ``field_kinds``: the
    script is a template, and each {{field}} takes values of this kind (the subject sees it)."""
    from consent.policy import workspace_lexicon
    from engine.voice.markup import MarkupError
    from engine.voice.spoken import spoken_text

    if lexicon is None:
        lexicon = workspace_lexicon(grant.workspace)
    try:
        spoken = spoken_text(text, lexicon)
    except MarkupError as error:
        raise ConsentError(f"The script's markup is invalid: {error}") from error
    spoken_sha256 = sha256_hex(spoken)
    approval, created = ScriptApproval.objects.select_for_update().get_or_create(
        grant=grant,
        script_sha256=sha256_hex(text),
        defaults={
            "workspace": grant.workspace,
            "title": title,
            "script_text": text,
            "spoken_text": spoken,
            "spoken_sha256": spoken_sha256,
            "field_kinds": field_kinds or {},
            "requested_by": by,
        },
    )
    if not created and approval.field_kinds != (field_kinds or {}):
        # The same template for other kinds of value: the subject answers for these kinds.
        approval.title, approval.requested_by = title, by
        approval.spoken_text, approval.spoken_sha256 = spoken, spoken_sha256
        approval.field_kinds = field_kinds or {}
        approval.status = ScriptApproval.Status.PENDING
        approval.decided_at, approval.decision_reason = None, ""
        approval.save()
        created = True
    elif not created and approval.spoken_sha256 != spoken_sha256:
        if not approval.spoken_sha256 and spoken == spoken_text(text):
            # Asked before approvals recorded the spoken words, and the lexicon leaves them as
            # written: the subject's answer covers these words; record them.
            approval.spoken_text, approval.spoken_sha256 = spoken, spoken_sha256
            approval.save(update_fields=["spoken_text", "spoken_sha256"])
        else:
            # Same script, other words (the lexicon changed): the earlier answer, kept in the
            # ledger, was about other words, so the subject is asked again.
            approval.title, approval.requested_by = title, by
            approval.spoken_text, approval.spoken_sha256 = spoken, spoken_sha256
            approval.status = ScriptApproval.Status.PENDING
            approval.decided_at, approval.decision_reason = None, ""
            approval.save()
            created = True
    if created:
        ledger.append(
            Event.SCRIPT_REQUESTED,
            grant=grant,
            title=title,
            script_sha256=approval.script_sha256,
            spoken_sha256=spoken_sha256,
            **({"field_kinds": approval.field_kinds} if approval.field_kinds else {}),
            user=by.username,
        )
    return approval


@transaction.atomic
def decide_script(
    approval: ScriptApproval, *, approve: bool, reason: str, evidence: Evidence
) -> ScriptApproval:
    locked = ScriptApproval.objects.select_for_update().get(pk=approval.pk)
    locked.decide(approve=approve, reason=reason, at=timezone.now())
    ledger.append(
        Event.SCRIPT_APPROVED if approve else Event.SCRIPT_REJECTED,
        grant=locked.grant,
        title=locked.title,
        script_sha256=locked.script_sha256,
        spoken_sha256=locked.spoken_sha256,
        reason=reason,
        **evidence.as_payload(),
    )
    return locked


@transaction.atomic
def revoke_grant(
    grant: ConsentGrant,
    *,
    reason: str,
    evidence: Evidence,
    by=None,
    written_request: str = "",
    written_request_sha256: str = "",
) -> ConsentGrant:
    """Revoke now: receivers cancel pending renders and disable avatars in this transaction;
    the biometric data goes after the retention period (`manage.py erase_biometrics`).

    The subject on their link, or `by` a member on the subject's written request (a stored
    file's name: see `revoke_on_written_request`)."""
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    locked.revoke(reason=reason, at=timezone.now(), by=by, written_request=written_request)
    on_request = {}
    if by is not None:
        on_request = {"revoked_by": by.username, "written_request_sha256": written_request_sha256}
    ledger.append(
        Event.REVOKED,
        grant=locked,
        method="written request" if by is not None else "subject's link",
        reason=reason,
        biometrics_erased_after=(
            locked.revoked_at + timedelta(days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS)
        ).isoformat(),
        **on_request,
        **evidence.as_payload(),
    )
    grant_revoked.send(sender=ConsentGrant, grant=locked)
    return locked


def revoke_on_written_request(
    grant: ConsentGrant, *, written_request, reason: str, by, evidence: Evidence
) -> ConsentGrant:
    """A member (an owner: the view checks) revokes because the subject asked in writing; the
    request (checked by the form) is kept with the grant and its hash in the ledger. The same
    consequences as the subject revoking on their link."""
    request_sha256 = sha256_of_upload(written_request)
    with _StoredFiles(grant) as stored:
        name = stored.store(
            "revocation_request",
            f"revocation-request{PurePath(written_request.name).suffix.lower()}",
            written_request,
        )
        return revoke_grant(
            grant,
            reason=reason,
            evidence=evidence,
            by=by,
            written_request=name,
            written_request_sha256=request_sha256,
        )


def record_render_decision(grant: ConsentGrant, decision, *, job_id, stage: str, **facts) -> None:
    """Ledger entry for a policy answer at submit or in the worker."""
    ledger.append(
        Event.RENDER_AUTHORIZED if decision.allowed else Event.RENDER_REFUSED,
        grant=grant,
        job=job_id,
        stage=stage,
        reason=decision.reason,
        **facts,
    )


def record_expiries(at: datetime) -> int:
    """Ledger an `expired` event once for each grant whose validity has ended."""
    count = 0
    due = ConsentGrant.objects.filter(valid_until__lte=at, expiry_recorded_at__isnull=True)
    for grant_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            grant = ConsentGrant.objects.select_for_update().get(pk=grant_id)
            if grant.expiry_recorded_at is not None:
                continue
            grant.expiry_recorded_at = at
            grant.save(update_fields=["expiry_recorded_at"])
            ledger.append(Event.EXPIRED, grant=grant, valid_until=grant.valid_until.isoformat())
            count += 1
    return count


def erase_biometrics(at: datetime) -> list[int]:
    """Delete the clip, footage, reference photo and voice, signature image and the avatars'
    portraits, footage, voice samples and landmarks of grants revoked or expired longer ago than
    the retention period. Returns the grant ids erased."""
    from django.db.models import Q

    cutoff = at - timedelta(days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS)
    due = ConsentGrant.objects.filter(biometrics_erased_at__isnull=True).filter(
        Q(status=ConsentGrant.Status.REVOKED, revoked_at__lte=cutoff)
        | Q(valid_until__lte=cutoff)
        | Q(status=ConsentGrant.Status.REJECTED, reviewed_at__lte=cutoff)
    )
    erased = []
    for grant_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            grant = ConsentGrant.objects.select_for_update().get(pk=grant_id)
            deleted = []
            for field in (
                grant.reference_portrait,
                grant.reference_voice,
                grant.consent_clip,
                grant.footage,
                grant.signature_image,
            ):
                if field:
                    deleted.append(field.field.name)
                    delete_after_commit(field)
            # The apps that copied the likeness (avatars) erase their copies; each answers how
            # many records it erased.
            answers = biometrics_erased.send(sender=ConsentGrant, grant=grant)
            avatars = sum(count or 0 for _, count in answers)
            # Crypto-shredding: without its data key no copy of these files (a backup, a
            # bucket's old versions) decrypts again.
            destroyed_key = bool(grant.data_key_id)
            if destroyed_key:
                DataKey.objects.filter(pk=grant.data_key_id).delete()
                grant.data_key = None
            grant.biometrics_erased_at = at
            grant.save()
            ledger.append(
                Event.DATA_DELETED,
                grant=grant,
                files=deleted,
                avatars=avatars,
                data_key_destroyed=destroyed_key,
                retention_days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS,
            )
            erased.append(grant.pk)
    return erased
