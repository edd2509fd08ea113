import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.dispatch import receiver

from accounts.models import WorkspaceScoped
from avatars.voice import voice_profile_bytes
from consent.models import ConsentGrant
from consent.policy import RenderDecision, authorize_preparation, authorize_render
from consent.signals import biometrics_erased, grant_revoked
from core.crypto import EncryptedFileField
from core.errors import UserError
from core.files import delete_after_commit


def _random_name(instance, kind: str, filename: str) -> str:
    # An uploaded filename never reaches the file system; only its lower-cased extension does.
    suffix = PurePath(filename).suffix.lower()
    return f"avatars/{instance.workspace_id}/{kind}-{uuid.uuid4().hex}{suffix}"


def portrait_upload_to(instance, filename: str) -> str:
    return _random_name(instance, "portrait", filename)


def voice_upload_to(instance, filename: str) -> str:
    return _random_name(instance, "voice", filename)


def voice_profile_upload_to(instance, filename: str) -> str:
    return _random_name(instance, "voice-profile", filename)


def footage_upload_to(instance, filename: str) -> str:
    return _random_name(instance, "footage", filename)


class AvatarError(UserError):
    """An avatar state change that is not allowed; the message is for the user."""


class Avatar(WorkspaceScoped):
    """A consenting subject's likeness: a portrait and a voice sample, bound to their consent.

    A footage avatar also keeps minutes of the subject's own video: its renders keep the
    footage's head motion, blinks and light and take their mouths from it. Its portrait is a still
    of the footage and its voice sample may be the footage's own sound, so everything that reads a
    portrait (identity, framing, posters) works the same for both kinds."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        # Its portrait or voice did not match the consent's references (or the consent has none):
        # it cannot render until an owner or auditor approves it.
        HELD = "held", "Held for identity review"
        REJECTED = "rejected", "Rejected at identity review"

    name = models.CharField(max_length=100)
    grant = models.ForeignKey(ConsentGrant, on_delete=models.PROTECT, related_name="avatars")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    portrait = EncryptedFileField(upload_to=portrait_upload_to)
    portrait_width = models.PositiveIntegerField()
    portrait_height = models.PositiveIntegerField()
    # Cached once at enrollment so renders never detect the face again.
    face_landmarks = models.JSONField()
    voice_sample = EncryptedFileField(upload_to=voice_upload_to)
    footage = EncryptedFileField(upload_to=footage_upload_to, blank=True)
    # What the footage check learnt (engine.face.footage.FootageReport), and where the voice
    # sample came from ("footage", or "upload").
    footage_report = models.JSONField(default=dict, blank=True)
    voice_seconds = models.FloatField()
    # Computed once from the voice sample (pitch, timbre, speaking rate, speaker embedding) so
    # renders never analyse the sample again; see avatars/voice.py.
    voice_profile = EncryptedFileField(upload_to=voice_profile_upload_to, blank=True)
    voice_checks = models.JSONField(default=dict, blank=True)  # enrollment measurements
    # The enrollment's comparison with the consent's references: scores, thresholds, reasons
    # (engine.biometrics.identity.IdentityCheck.to_dict()).
    identity_checks = models.JSONField(default=dict, blank=True)
    hold_reason = models.TextField(blank=True)  # why the enrolling member asked for a review
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_enabled(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_footage(self) -> bool:
        return bool(self.footage)

    @property
    def is_held(self) -> bool:
        return self.status == self.Status.HELD

    def identity_refusal(self) -> str | None:
        """Why the identity review keeps this avatar from rendering, or None."""
        if self.status == self.Status.HELD:
            return (
                "This avatar is held for identity review: its portrait or voice was not matched "
                "with the consenting person. An owner or auditor must approve it on its page."
            )
        if self.status == self.Status.REJECTED:
            return "This avatar was rejected at identity review" + (
                f": {self.review_reason}" if self.review_reason else "."
            )
        return None

    def review_identity(self, *, approve: bool, reason: str, by, at: datetime) -> None:
        """An owner's or auditor's decision on a held avatar: active, or rejected for good."""
        if self.status != self.Status.HELD:
            raise AvatarError(
                "Only an avatar held for identity review can be approved or rejected."
            )
        if approve and by is not None and by.pk == self.created_by_id:
            # Four eyes: whoever asked for the hold cannot lift it (rejecting is always allowed).
            raise AvatarError(
                "You enrolled this avatar, so another owner or auditor must approve it."
            )
        self.status = self.Status.ACTIVE if approve else self.Status.REJECTED
        self.reviewed_by, self.reviewed_at, self.review_reason = by, at, reason
        self.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])

    def erase_biometrics(self) -> None:
        """Delete (after commit) every file and empty every measurement of the face or voice."""
        changed = []
        for field in self._meta.get_fields():
            if isinstance(field, models.FileField):
                delete_after_commit(getattr(self, field.name))
                changed.append(field.name)
        self.face_landmarks, self.voice_checks, self.footage_report = [], {}, {}
        self.save(update_fields=[*changed, "face_landmarks", "voice_checks", "footage_report"])

    def ensure_voice_profile(self) -> None:
        """Compute the voice profile from the sample and save it with the avatar, unless it has
        one, another process (the enrollment task, or a render) saved one first, or the sample
        was erased meanwhile (consent revoked)."""
        if self.voice_profile:
            return
        current = Avatar.objects.get(pk=self.pk)
        if not current.voice_profile and current.voice_sample:
            data, summary = voice_profile_bytes(current.voice_sample)
            with transaction.atomic():
                current = Avatar.objects.select_for_update().get(pk=self.pk)
                if not current.voice_profile and current.voice_sample:
                    current.voice_profile.save("profile.npz", ContentFile(data), save=False)
                    checks = {k: v for k, v in (current.voice_checks or {}).items() if k != "error"}
                    current.voice_checks = {**checks, "profile": summary}
                    current.save(update_fields=["voice_profile", "voice_checks"])
        self.voice_profile, self.voice_checks = current.voice_profile, current.voice_checks

    def learn_voice_profile(self) -> None:
        """Worker side of enrollment (the profile's phone alignment takes about a third of a CPU
        second per second of speech, too long for the upload's request). A failure is kept on
        the avatar for its page, then raised; renders try again."""
        try:
            self.ensure_voice_profile()
        except Exception as error:
            message = f"{type(error).__name__}: {error}"[:300]
            checks = {**(self.voice_checks or {}), "error": message}
            Avatar.objects.filter(pk=self.pk).update(voice_checks=checks)
            raise

    def preparation_decision(self, *, at: datetime) -> RenderDecision:
        """May this avatar be prepared for its renders now (its footage analysed and cached)?
        The consent's checks that do not depend on a script, and the identity review."""
        refusal = self.identity_refusal()
        if refusal:
            return RenderDecision(False, refusal)
        return authorize_preparation(self.grant, avatar_enabled=self.is_enabled, at=at)

    def render_decision(
        self,
        *,
        purpose: str,
        at: datetime,
        language: str | None = None,
        script_text: str | None = None,
        lexicon: dict[str, str] | None = None,
        on_screen_text: Sequence[str] = (),
        template=None,
    ) -> RenderDecision:
        refusal = self.identity_refusal()
        if refusal:
            return RenderDecision(False, refusal)
        return authorize_render(
            self.grant,
            avatar_enabled=self.is_enabled,
            purpose=purpose,
            at=at,
            language=language,
            script_text=script_text,
            lexicon=lexicon,
            on_screen_text=on_screen_text,
            template=template,
        )


@receiver(grant_revoked)
def disable_avatars_of_revoked_grant(sender, grant, **kwargs):
    """A revoked consent disables every avatar made with it, in the revoking transaction."""
    Avatar.objects.filter(grant=grant).update(status=Avatar.Status.DISABLED)


@receiver(biometrics_erased)
def erase_avatar_biometrics(sender, grant, **kwargs) -> int:
    """Every file an avatar of the grant holds (portrait, voice sample, voice profile...) is
    deleted after commit and its derived measurements emptied; the rows stay, disabled, for the
    record of what was made."""
    avatars = list(Avatar.objects.select_for_update().filter(grant=grant))
    for avatar in avatars:
        avatar.erase_biometrics()
    return len(avatars)
