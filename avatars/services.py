from django.db import transaction
from django.utils import timezone

from avatars.models import Avatar, AvatarError
from consent import ledger
from consent.ledger import Event
from consent.models import ConsentGrant
from core.errors import UserError


class IdentityMismatch(UserError):
    """The uploads are not shown to be the consenting person's, and no review was asked for."""

    code = "identity_mismatch"


def _identity_facts(identity) -> dict:
    """What the ledger keeps of an identity check: every score, the thresholds, the reasons."""
    checked = identity.to_dict()
    return {
        "face_distance": checked["face_distance"],
        "voice_similarity": checked["voice_similarity"],
        "face": checked["face"],
        "voice": checked["voice"],
        "thresholds": checked["thresholds"],
        "reasons": checked["reasons"],
    }


@transaction.atomic
def enroll_avatar(
    *,
    workspace,
    name,
    grant,
    portrait,
    portrait_report,
    voice_sample,
    voice_report,
    created_by,
    identity,
    hold_reason: str = "",
    voice_enrollment=None,
    footage=None,
    footage_report: dict | None = None,
):
    """Create an avatar from checked uploads, caching what the renders need: the landmarks now,
    the voice profile in a task (a render that starts before it finishes computes it itself).

    A footage avatar also gives its ``footage`` (the upload) and what its check learnt; its
    portrait is a still of the footage and its voice sample may be the footage's sound.

    `identity` is the uploads' comparison with the grant's references
    (engine.biometrics.identity.IdentityCheck). A match makes an active avatar; a mismatch (or a
    grant with nothing to compare with) makes one held for an owner's or auditor's review when
    the member wrote why, and is refused otherwise. The decision goes into the consent ledger.
    """
    if grant.workspace_id != workspace.pk:
        raise AvatarError("The consent belongs to another workspace.")
    hold_reason = hold_reason.strip()
    if not identity.passed and not hold_reason:
        raise IdentityMismatch(" ".join(identity.reasons))
    locked = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.status != ConsentGrant.Status.ACTIVE:
        raise IdentityMismatch("This consent is no longer active; it cannot carry an avatar.")
    avatar = Avatar.objects.create(
        workspace=workspace,
        name=name,
        grant=locked,
        status=Avatar.Status.ACTIVE if identity.passed else Avatar.Status.HELD,
        portrait=portrait,
        portrait_width=portrait_report.width,
        portrait_height=portrait_report.height,
        face_landmarks=portrait_report.landmarks,
        voice_sample=voice_sample,
        voice_seconds=voice_report.seconds,
        voice_checks={"enrollment": voice_enrollment.to_dict()} if voice_enrollment else {},
        footage=footage or "",
        footage_report=footage_report or {},
        identity_checks=identity.to_dict(),
        hold_reason="" if identity.passed else hold_reason,
        created_by=created_by,
    )
    ledger.append(
        Event.AVATAR_IDENTITY_CHECKED,
        grant=locked,
        avatar=avatar.pk,
        avatar_name=name,
        kind="footage" if footage else "photo",
        outcome="passed" if identity.passed else "held",
        hold_reason=avatar.hold_reason,
        user=getattr(created_by, "username", None),
        **_identity_facts(identity),
    )
    transaction.on_commit(lambda: enqueue_voice_profile(avatar.pk))
    return avatar


@transaction.atomic
def record_identity_refusal(grant, identity, *, by) -> None:
    """An enrollment refused because its uploads are not the consenting person's: kept in the
    ledger with its scores (someone tried to put another likeness on this consent)."""
    ledger.append(
        Event.AVATAR_IDENTITY_CHECKED,
        grant=grant,
        avatar=None,
        outcome="refused",
        user=getattr(by, "username", None),
        **_identity_facts(identity),
    )


@transaction.atomic
def review_avatar(avatar: Avatar, *, approve: bool, reason: str, by) -> Avatar:
    """An owner's or auditor's decision on an avatar held for identity review, in the ledger."""
    locked = Avatar.objects.select_for_update().select_related("grant").get(pk=avatar.pk)
    locked.review_identity(approve=approve, reason=reason, by=by, at=timezone.now())
    ledger.append(
        Event.AVATAR_REVIEWED,
        grant=locked.grant,
        avatar=locked.pk,
        decision="approved" if approve else "rejected",
        reason=reason,
        user=by.username,
        face_distance=locked.identity_checks.get("face_distance"),
        voice_similarity=locked.identity_checks.get("voice_similarity"),
    )
    return locked


def enqueue_voice_profile(avatar_id: int) -> None:
    from avatars.tasks import compute_voice_profile

    compute_voice_profile.enqueue(avatar_id)
