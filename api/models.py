"""API tokens, idempotency records, webhook endpoints and their deliveries.

A token is shown once and stored as its SHA-256; a webhook secret is shown once too but kept as
written, because every delivery is signed with it (Standard Webhooks: HMAC-SHA256)."""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import WorkspaceScoped


class Scope(models.TextChoices):
    READ = "read", "Read avatars, scripts, renders, campaigns and lessons"
    RENDER = "render", "Write scripts, start and cancel renders, campaigns and lessons"
    MANAGE = "manage", "Manage webhook endpoints"
    AUDIT = "audit", "Read consent grants"


TOKEN_PREFIX = "lk_"  # noqa: S105  # nosec B105: what every token starts with, not a secret


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ApiToken(WorkspaceScoped):
    """A workspace's key to the API: named, scoped, optionally expiring, revocable."""

    name = models.CharField(max_length=100)
    # The first characters after lk_, kept in clear so a token is found (and recognised in a
    # list) without storing it; the whole token is only stored as its SHA-256.
    lookup = models.CharField(max_length=12, unique=True)
    token_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    # Who made it: what the token makes (scripts, renders, campaigns) is recorded as theirs.
    # None for a token made on the command line.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}{self.lookup}…)"

    @classmethod
    def issue(cls, *, workspace, name: str, scopes, by=None, expires_at=None):
        """A new token and its secret text (returned once, never stored)."""
        unknown = set(scopes) - set(Scope.values)
        if unknown or not scopes:
            raise ValueError(f"Unknown or no scopes: {sorted(unknown)}; choose from {Scope.values}")
        lookup = secrets.token_hex(6)
        text = f"{TOKEN_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            workspace=workspace,
            name=name,
            lookup=lookup,
            token_sha256=_sha256(text),
            scopes=sorted(set(scopes)),
            created_by=by,
            expires_at=expires_at,
        )
        return token, text

    @classmethod
    def find(cls, text: str) -> "ApiToken | None":
        """The live token this text is, or None (unknown, revoked or expired)."""
        if not text.startswith(TOKEN_PREFIX) or text.count("_") < 2:
            return None
        lookup = text[len(TOKEN_PREFIX) :].split("_", 1)[0]
        token = cls.objects.select_related("workspace").filter(lookup=lookup).first()
        if token is None or not hmac.compare_digest(token.token_sha256, _sha256(text)):
            return None
        return token if token.is_live else None

    @property
    def is_live(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def state_label(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        return "Active" if self.is_live else "Expired"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def revoke(self) -> bool:
        """Revoke; False when it already was."""
        updated = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        self.refresh_from_db()
        return updated == 1

    def touch(self) -> None:
        """Record a use, at most once a minute (a busy token does not write on every call)."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class IdempotencyRecord(WorkspaceScoped):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed to its repeats."""

    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="one_record_per_key")
        ]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key}"


class Event(models.TextChoices):
    RENDER_SUCCEEDED = "render.succeeded", "A render finished and its video is ready"
    RENDER_FAILED = "render.failed", "A render failed"
    CAMPAIGN_COMPLETED = "campaign.completed", "Every video of a campaign finished"
    CONSENT_ACTIVATED = "consent.activated", "A consent became active"
    CONSENT_REVOKED = "consent.revoked", "A consent was revoked: take its videos down"
    CONSENT_EXPIRING = "consent.expiring", "A consent runs out soon"
    TEST = "webhook.test", "A test event sent from the endpoint's page or the API"


SUBSCRIBABLE_EVENTS = [e for e in Event.values if e != Event.TEST]


def new_webhook_secret() -> str:
    """whsec_ + base64 of 24 random bytes, the Standard Webhooks form."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(WorkspaceScoped):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=64, default=new_webhook_secret)
    # After a rotation the old secret also signs deliveries until this time, so a receiver can
    # switch without losing one.
    previous_secret = models.CharField(max_length=64, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.enabled and (event == Event.TEST or event in self.events)

    def signing_secrets(self, *, at=None) -> list[str]:
        at = at or timezone.now()
        secrets_ = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > at:
            secrets_.append(self.previous_secret)
        return secrets_

    def rotate_secret(self, *, overlap: timedelta) -> str:
        self.previous_secret = self.secret
        self.previous_secret_until = timezone.now() + overlap
        self.secret = new_webhook_secret()
        self.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        return self.secret

    def disable(self, reason: str) -> bool:
        updated = WebhookEndpoint.objects.filter(pk=self.pk, enabled=True).update(
            enabled=False, disabled_reason=reason[:300]
        )
        self.refresh_from_db()
        return updated == 1


class WebhookMessage(WorkspaceScoped):
    """One event as sent to every endpoint that wants it; ``key`` makes an event happen once
    (a campaign completes once, a consent is announced as expiring once per period)."""

    msg_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40, choices=Event.choices)
    key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} {self.msg_id}"


class WebhookDelivery(models.Model):
    """One message to one endpoint, tried on the retry schedule until a 2xx or the end of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.message} → {self.endpoint} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: each try, its answer and when."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.delivery} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
