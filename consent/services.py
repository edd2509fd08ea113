"""Consent workflows. Each is atomic, appends its events to the ledger, and enqueues work on
commit. Views parse requests and call these; nothing else changes a grant's state."""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent import ledger
from consent.ledger import Event
from consent.models import (
    ConsentDocument,
    ConsentError,
    ConsentGrant,
    ConsentVerification,
    ScriptApproval,
    Subject,
    sha256_hex,
)
from consent.signals import grant_revoked

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


def sha256_file(field_file) -> str:
    digest = hashlib.sha256()
    with field_file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def record_signed_consent(
    *,
    subject: Subject,
    document: ConsentDocument,
    purposes: list[str],
    valid_from: datetime,
    valid_until: datetime,
    signature_name: str,
    ip: str | None,
    user_agent: str,
    recorded_by,
) -> ConsentGrant:
    """A consent signed in person and typed in by a member (no clip, no automatic checks)."""
    grant = ConsentGrant.draft(
        subject=subject,
        document=document,
        purposes=purposes,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    grant.save()
    grant.sign(
        name=signature_name,
        at=timezone.now(),
        ip=ip,
        user_agent=user_agent,
        recorded_by=recorded_by,
    )
    ledger.append(
        Event.SIGNED,
        grant=grant,
        method="in person, recorded by a member",
        document_sha256=grant.document_sha256,
        **Evidence(ip, user_agent, getattr(recorded_by, "username", None)).as_payload(),
    )
    return grant


def scope_of(grant: ConsentGrant) -> dict:
    return {
        "purposes": grant.purposes,
        "languages": grant.languages,
        "channels": grant.channels,
        "territory": grant.territory,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "forbidden_topics": grant.forbidden_topics,
        "requires_script_approval": grant.requires_script_approval,
        "compensation": grant.compensation,
    }


@transaction.atomic
def invite_subject(
    *,
    subject: Subject,
    document: ConsentDocument,
    scope: dict,
    reference_portrait,
    reference_voice,
    invited_by,
    evidence: Evidence,
) -> tuple[ConsentGrant, str]:
    """A grant awaiting the subject's ceremony, and the token of their link (shown only once)."""
    from engine.biometrics.phrase import challenge_sentence

    token = secrets.token_urlsafe(32)
    grant = ConsentGrant.draft(subject=subject, document=document, **scope)
    grant.invite_token_hash = token_hash(token)
    grant.invite_expires_at = timezone.now() + timedelta(days=settings.CONSENT_INVITE_DAYS)
    grant.invited_by = invited_by
    grant.challenge_text = challenge_sentence()
    grant.reference_portrait.save(
        f"portrait{PurePath(reference_portrait.name).suffix.lower()}",
        reference_portrait,
        save=False,
    )
    grant.reference_voice.save("voice.wav", reference_voice, save=False)
    grant.save()
    ledger.append(
        Event.INVITED,
        grant=grant,
        subject=subject.full_name,
        email=subject.email,
        document=f"{document.slug} v{document.version}",
        document_sha256=grant.document_sha256,
        scope=scope_of(grant),
        link_expires_at=grant.invite_expires_at.isoformat(),
        **evidence.as_payload(),
    )
    return grant, token


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


def attach_clip(grant: ConsentGrant, upload, evidence: Evidence) -> ConsentGrant:
    """Screen an uploaded consent clip (size, decodable, a voice, a face) and keep it.

    Nothing is saved when a check fails; the error says what to fix."""
    from engine.biometrics.consent_clip import screen_clip
    from engine.errors import EngineError

    if upload.size > settings.CONSENT_MAX_CLIP_BYTES:
        raise ConsentError(
            f"The clip is {upload.size / 1e6:.1f} MB; the limit is "
            f"{settings.CONSENT_MAX_CLIP_BYTES / 1e6:.0f} MB. Record a shorter clip."
        )
    if upload.size == 0:
        raise ConsentError("The clip is empty; record it again.")
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="consent-upload-") as folder:
        path = Path(folder) / "clip.webm"
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                digest.update(chunk)
                out.write(chunk)
        try:
            seconds = screen_clip(path)
        except EngineError as error:
            raise ConsentError(str(error)) from error
        upload.seek(0)
        with transaction.atomic():
            locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
            locked.attach_clip(upload, sha256=digest.hexdigest(), at=timezone.now())
            ledger.append(
                Event.RECORDED,
                grant=locked,
                clip_sha256=locked.clip_sha256,
                clip_seconds=round(seconds, 2),
                challenge=locked.challenge_text,
                **evidence.as_payload(),
            )
    return locked


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


def _copy_local(field_file, folder: Path, stem: str) -> Path:
    target = folder / f"{stem}{PurePath(field_file.name).suffix.lower()}"
    with field_file.open("rb") as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    return target


def run_verification(grant_id: int) -> str:
    """Worker side: score the clip, store every number, and activate or flag the grant."""
    from engine.biometrics.consent_clip import check_consent_clip
    from engine.errors import EngineError

    grant = ConsentGrant.objects.get(pk=grant_id)
    if grant.status != ConsentGrant.Status.VERIFYING:
        return grant.status
    with tempfile.TemporaryDirectory(prefix=f"verify-{grant.pk}-") as folder:
        workdir = Path(folder)
        faces = [_copy_local(grant.reference_portrait, workdir, "portrait")]
        voices = [_copy_local(grant.reference_voice, workdir, "voice")]
        for index, avatar in enumerate(grant.avatars.all()):
            if avatar.portrait:
                faces.append(_copy_local(avatar.portrait, workdir, f"avatar-{index}"))
            if avatar.voice_sample:
                voices.append(_copy_local(avatar.voice_sample, workdir, f"avatar-voice-{index}"))
        faces = [f for f in faces if f.stat().st_size]
        voices = [v for v in voices if v.stat().st_size]
        try:
            check = check_consent_clip(
                _copy_local(grant.consent_clip, workdir, "clip"),
                challenge=grant.challenge_text,
                reference_faces=faces,
                reference_voices=voices,
            )
            outcome = check.to_dict()
        except EngineError as error:
            outcome = {"passed": False, "reasons": [str(error)], "thresholds": {}}
    with transaction.atomic():
        locked = ConsentGrant.objects.select_for_update().get(pk=grant_id)
        verification = ConsentVerification.objects.create(
            grant=locked,
            passed=outcome["passed"],
            transcript=outcome.get("transcript", ""),
            word_error_rate=outcome.get("word_error_rate"),
            face_distance=outcome.get("face_distance"),
            voice_similarity=outcome.get("voice_similarity"),
            single_face_ratio=outcome.get("single_face_ratio"),
            frames_checked=outcome.get("frames_checked", 0),
            clip_seconds=outcome.get("seconds"),
            thresholds=outcome["thresholds"],
            reasons=outcome["reasons"],
        )
        locked.conclude_verification(passed=verification.passed)
        ledger.append(
            Event.VERIFIED,
            grant=locked,
            passed=verification.passed,
            scores={
                "word_error_rate": verification.word_error_rate,
                "face_distance": verification.face_distance,
                "voice_similarity": verification.voice_similarity,
                "single_face_ratio": verification.single_face_ratio,
            },
            thresholds=verification.thresholds,
            reasons=verification.reasons,
            status=locked.status,
        )
    return locked.status


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
def request_script_approval(grant: ConsentGrant, *, title: str, text: str, by) -> ScriptApproval:
    approval, created = ScriptApproval.objects.get_or_create(
        grant=grant,
        script_sha256=sha256_hex(text),
        defaults={
            "workspace": grant.workspace,
            "title": title,
            "script_text": text,
            "requested_by": by,
        },
    )
    if created:
        ledger.append(
            Event.SCRIPT_REQUESTED,
            grant=grant,
            title=title,
            script_sha256=approval.script_sha256,
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
        reason=reason,
        **evidence.as_payload(),
    )
    return locked


@transaction.atomic
def revoke_grant(grant: ConsentGrant, *, reason: str, evidence: Evidence) -> ConsentGrant:
    """Revoke now: receivers cancel pending renders and disable avatars in this transaction;
    the biometric data goes after the retention period (`manage.py erase_biometrics`)."""
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    locked.revoke(reason=reason, at=timezone.now())
    ledger.append(
        Event.REVOKED,
        grant=locked,
        reason=reason,
        biometrics_erased_after=(
            locked.revoked_at + timedelta(days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS)
        ).isoformat(),
        **evidence.as_payload(),
    )
    grant_revoked.send(sender=ConsentGrant, grant=locked)
    return locked


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


# Avatar fields derived from the face or voice (landmarks, voice measurements) are emptied too.
AVATAR_BIOMETRIC_JSON_FIELDS = ("face_landmarks", "voice_checks")


def _erase_avatar_biometrics(avatar) -> int:
    """Delete every file an avatar holds (portrait, voice sample, voice profile...) and empty
    its derived measurements; the row stays, disabled, for the record of what was made."""
    from django.db.models import FileField

    changes = {}
    for field in avatar._meta.get_fields():
        if isinstance(field, FileField):
            stored = getattr(avatar, field.name)
            if stored:
                stored.storage.delete(stored.name)
            changes[field.name] = ""
        elif field.name in AVATAR_BIOMETRIC_JSON_FIELDS:
            changes[field.name] = [] if field.name == "face_landmarks" else {}
    type(avatar).objects.filter(pk=avatar.pk).update(**changes)
    return 1


def erase_biometrics(at: datetime) -> list[int]:
    """Delete the clip, reference photo and voice, signature image and the avatars' portraits,
    voice samples and landmarks of grants revoked or expired longer ago than the retention
    period. Returns the grant ids erased."""
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
                grant.signature_image,
            ):
                if field:
                    deleted.append(field.field.name)
                    field.delete(save=False)
            avatars = 0
            for avatar in grant.avatars.all():
                avatars += _erase_avatar_biometrics(avatar)
            grant.biometrics_erased_at = at
            grant.save()
            ledger.append(
                Event.DATA_DELETED,
                grant=grant,
                files=deleted,
                avatars=avatars,
                retention_days=settings.CONSENT_BIOMETRIC_RETENTION_DAYS,
            )
            erased.append(grant.pk)
    return erased
