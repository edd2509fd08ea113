import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models

from accounts.models import Workspace, WorkspaceScoped


class ConsentError(Exception):
    """A consent state change that is not allowed; the message is for the user."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRAINING = "training", "Training"
    INTERNAL = "internal", "Internal communication"


class Subject(WorkspaceScoped):
    """The person depicted. Not a user of the site: they act through their own link."""

    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class ConsentDocument(models.Model):
    """A versioned consent text. Once saved, its text never changes: a new text is a new version."""

    workspace = models.ForeignKey(
        Workspace,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty for the documents that ship with the site.",
    )
    slug = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slug", "version"], name="one_document_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args, **kwargs):
        digest = sha256_hex(self.body)
        if self.pk is not None and self.sha256 and digest != self.sha256:
            raise ConsentError("A consent document's text cannot change; publish a new version.")
        self.sha256 = digest
        super().save(*args, **kwargs)

    @classmethod
    def standard(cls) -> "ConsentDocument":
        """The document that ships with the site (a migration adds it; a flushed database too)."""
        from consent.documents import STANDARD_BODY, STANDARD_SLUG, STANDARD_TITLE

        document, _ = cls.objects.get_or_create(
            workspace=None,
            slug=STANDARD_SLUG,
            version=1,
            defaults={"title": STANDARD_TITLE, "body": STANDARD_BODY},
        )
        return document

    @classmethod
    def available_to(cls, workspace: Workspace):
        cls.standard()
        return cls.objects.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True))


class ConsentGrant(WorkspaceScoped):
    """A subject's consent, specific in scope and time, to one workspace's use of their likeness."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting signature"
        ACTIVE = "active", "Signed"
        REVOKED = "revoked", "Revoked"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="grants")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="grants")
    # The exact text shown, kept with the grant so the document can never be edited under it.
    document_text = models.TextField()
    document_sha256 = models.CharField(max_length=64)
    purposes = models.JSONField(default=list)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)

    signature_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_ip = models.GenericIPAddressField(null=True, blank=True)
    signer_user_agent = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="grant_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} — {self.document} ({self.get_status_display()})"

    @classmethod
    def draft(cls, *, subject: Subject, document: ConsentDocument, **scope) -> "ConsentGrant":
        return cls(
            workspace=subject.workspace,
            subject=subject,
            document=document,
            document_text=document.body,
            document_sha256=document.sha256,
            **scope,
        )

    def sign(
        self, *, name: str, at: datetime, ip: str | None, user_agent: str, recorded_by
    ) -> None:
        if self.status != self.Status.PENDING:
            raise ConsentError("Only a consent awaiting its signature can be signed.")
        if sha256_hex(self.document_text) != self.document_sha256:
            raise ConsentError(
                "The stored consent text does not match its hash; it cannot be signed."
            )
        self.status = self.Status.ACTIVE
        self.signature_name, self.signed_at = name, at
        self.signer_ip, self.signer_user_agent = ip, user_agent[:500]
        self.recorded_by = recorded_by
        self.save()

    def revoke(self, *, reason: str, at: datetime) -> None:
        if self.status == self.Status.REVOKED:
            raise ConsentError("This consent is already revoked.")
        self.status, self.revoked_at, self.revoke_reason = self.Status.REVOKED, at, reason
        self.save(update_fields=["status", "revoked_at", "revoke_reason"])

    def purpose_labels(self) -> list[str]:
        return [Purpose(p).label for p in self.purposes if p in Purpose.values]
