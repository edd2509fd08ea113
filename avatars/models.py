import uuid
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.dispatch import receiver

from accounts.models import WorkspaceScoped
from consent.models import ConsentGrant
from consent.policy import RenderDecision, authorize_render
from consent.signals import grant_revoked


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


class Avatar(WorkspaceScoped):
    """A consenting subject's likeness: a portrait and a voice sample, bound to their consent."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    name = models.CharField(max_length=100)
    grant = models.ForeignKey(ConsentGrant, on_delete=models.PROTECT, related_name="avatars")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    portrait = models.FileField(upload_to=portrait_upload_to)
    portrait_width = models.PositiveIntegerField()
    portrait_height = models.PositiveIntegerField()
    # Cached once at enrollment so renders never detect the face again.
    face_landmarks = models.JSONField()
    voice_sample = models.FileField(upload_to=voice_upload_to)
    voice_seconds = models.FloatField()
    # Computed once from the voice sample (pitch, timbre, speaking rate, speaker embedding) so
    # renders never analyse the sample again; see avatars/voice.py.
    voice_profile = models.FileField(upload_to=voice_profile_upload_to, blank=True)
    voice_checks = models.JSONField(default=dict, blank=True)  # enrollment measurements
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

    def ensure_voice_profile(self) -> None:
        """Compute and cache the voice profile if this avatar has none yet."""
        if not self.voice_profile:
            from avatars.voice import store_voice_profile

            store_voice_profile(self)

    def render_decision(
        self,
        *,
        purpose: str,
        at: datetime,
        language: str | None = None,
        script_text: str | None = None,
    ) -> RenderDecision:
        return authorize_render(
            self.grant,
            avatar_enabled=self.is_enabled,
            purpose=purpose,
            at=at,
            language=language,
            script_text=script_text,
        )


@receiver(grant_revoked)
def disable_avatars_of_revoked_grant(sender, grant, **kwargs):
    """A revoked consent disables every avatar made with it, in the revoking transaction."""
    Avatar.objects.filter(grant=grant).update(status=Avatar.Status.DISABLED)
