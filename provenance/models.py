"""Provenance records (one per render: what the watermarks and the manifest point to) and each
workspace's disclosure settings (where the visible label goes, in which language)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction

from accounts.models import Workspace, WorkspaceScoped
from consent.models import ConsentGrant
from engine import __version__ as engine_version
from engine.label import CARD_TEXTS, CORNERS, LABEL_TEXTS
from rendering.models import RenderJob, Video


class LabelSettings(models.Model):
    """How a workspace's videos disclose that they are synthetic (the label is never optional)."""

    POSITIONS = [(c, c.replace("-", " ").capitalize()) for c in CORNERS]
    LANGUAGES = [
        ("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español"),
        ("it", "Italiano"), ("pt", "Português"), ("nl", "Nederlands"),
    ]  # fmt: skip

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="label_settings"
    )
    position = models.CharField(max_length=16, choices=POSITIONS, default="top-right")
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    opening_card = models.BooleanField(
        default=False, help_text="Open every video with a card that says it is AI-generated."
    )

    CARD_SECONDS = 2.0

    def __str__(self) -> str:
        return f"Label settings of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> LabelSettings:
        """The workspace's settings, or the defaults (unsaved) when it never changed them."""
        found = cls.objects.filter(workspace=workspace).first()
        return found or cls(workspace=workspace)

    @property
    def label_text(self) -> str:
        return LABEL_TEXTS.get(self.language, LABEL_TEXTS["en"])

    @property
    def card_text(self) -> str:
        return CARD_TEXTS.get(self.language, CARD_TEXTS["en"])

    def spec_fields(self) -> dict:
        return {
            "label_text": self.label_text,
            "label_position": self.position,
            "disclosure_card_seconds": self.CARD_SECONDS if self.opening_card else 0.0,
            "disclosure_card_text": self.card_text if self.opening_card else "",
        }


def grant_fingerprint(grant: ConsentGrant) -> str:
    """SHA-256 over the grant's identity and the exact consent text it was signed on.

    Public in every manifest: it proves which consent a video rests on without revealing who
    gave it (no name, no signature, no biometrics go in).
    """
    signed = grant.signed_at.isoformat() if grant.signed_at else ""
    material = f"likeness-grant:{settings.SITE_NAME}:{grant.pk}:{grant.document_sha256}:{signed}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ProvenanceRecord(WorkspaceScoped):
    """What one render's watermarks and C2PA manifest point to. Created before the render (the
    payload id goes into the spec), linked to its video when published.

    The frames carry ``frame_mark_id``: the render's own ``payload_id``, or a lineage's id shared
    by renders that share frames (a campaign's variants, a lesson's re-renders); the sound and
    the manifest always carry ``payload_id``."""

    payload_id = models.CharField(max_length=16, unique=True)  # 64 bits, hex: C2PA, the render
    audio_prefix = models.CharField(max_length=8, db_index=True)  # top 32 bits: the audio mark
    frame_mark_id = models.CharField(max_length=16, db_index=True)  # 64 bits, hex: the video mark
    job = models.OneToOneField(RenderJob, on_delete=models.CASCADE, related_name="provenance")
    video = models.OneToOneField(
        Video, null=True, blank=True, on_delete=models.SET_NULL, related_name="provenance"
    )
    grant = models.ForeignKey(ConsentGrant, on_delete=models.PROTECT, related_name="provenance")
    grant_sha256 = models.CharField(max_length=64)
    engines = models.JSONField(default=dict)
    c2pa_signed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Provenance {self.payload_id}"

    def save(self, *args, **kwargs) -> None:
        if not self.frame_mark_id:  # an ordinary render: its frames carry its own id
            self.frame_mark_id = self.payload_id
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "frame_mark_id"}
        super().save(*args, **kwargs)

    @classmethod
    def for_job(cls, job: RenderJob) -> ProvenanceRecord:
        """The job's record, created on its first render attempt with a fresh random id."""
        existing = cls.objects.filter(job=job).first()
        if existing:
            return existing
        grant = job.avatar.grant
        for _ in range(5):
            payload = secrets.randbits(64)
            try:
                with transaction.atomic():
                    return cls.objects.create(
                        workspace=job.workspace,
                        job=job,
                        grant=grant,
                        grant_sha256=grant_fingerprint(grant),
                        payload_id=f"{payload:016x}",
                        audio_prefix=f"{payload >> 32:08x}",
                        # A campaign's variant: its frames carry the campaign's mark.
                        frame_mark_id=job.frame_mark_id or f"{payload:016x}",
                        engines={
                            "engine": engine_version,
                            "voice": settings.VOICE_ENGINE,
                            # A footage avatar's faces come from its footage, whatever the
                            # site's engine for photos.
                            "face": "footage" if job.avatar.is_footage else settings.FACE_ENGINE,
                            "watermark": "likeness-wm-1",
                        },
                    )
            except IntegrityError:
                existing = cls.objects.filter(job=job).first()
                if existing:  # another attempt of the same job won the race
                    return existing
        raise RuntimeError("Could not allocate a unique provenance id.")

    def manifest_link(self) -> dict[str, str]:
        """The C2PA assertion's fields: ids and hashes only, never personal data."""
        return {
            "provenance_id": self.payload_id,
            "record": f"{settings.SITE_NAME}/verify/{self.payload_id}",
            "grant_sha256": self.grant_sha256,
            "site": settings.SITE_NAME,
        }

    @property
    def consent_revoked(self) -> bool:
        return self.grant.status == ConsentGrant.Status.REVOKED

    def public_summary(self) -> dict:
        """What anyone may learn about this record: no subject, no script, no file."""
        grant = self.grant
        return {
            "provenance_id": self.payload_id,
            "instance": settings.SITE_NAME,
            "created_at": self.created_at.isoformat(),
            "workspace": self.workspace.name,
            "synthetic": True,
            "engines": self.engines,
            "c2pa_signed": self.c2pa_signed,
            "published": self.video_id is not None,
            "consent": {
                "status": "revoked" if self.consent_revoked else grant.status,
                "grant_sha256": self.grant_sha256,
                "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
            },
        }
