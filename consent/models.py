import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Workspace, WorkspaceScoped
from core.crypto import (
    DecryptionError,
    EncryptedFileField,
    master_key,
    master_key_id,
    new_data_key,
    unwrap_key,
    wrap_key,
)
from core.errors import UserError


class ConsentError(UserError):
    """A consent state change that is not allowed; the message is for the user."""

    code = "consent_refused"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRAINING = "training", "Training"
    INTERNAL = "internal", "Internal communication"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    SPANISH = "es", "Spanish"
    ITALIAN = "it", "Italian"
    PORTUGUESE = "pt", "Portuguese"


class Channel(models.TextChoices):
    WEBSITE = "website", "Own website"
    SOCIAL = "social", "Social media"
    EMAIL = "email", "Email"
    BROADCAST = "broadcast", "TV and broadcast"
    INTRANET = "intranet", "Intranet and internal tools"


def default_languages() -> list[str]:
    return [Language.ENGLISH.value]


@dataclass(frozen=True)
class Withdrawal:
    """Why the videos made under a consent may no longer be shown, and since when."""

    reason: str  # "revoked" or "expired"
    at: datetime | None  # when it was revoked, or when its period ended

    @property
    def revoked(self) -> bool:
        return self.reason == "revoked"


def evidence_upload_to(instance, filename: str) -> str:
    # Evidence files get random names; only the lower-cased extension of the upload survives.
    suffix = PurePath(filename).suffix.lower()
    return f"consent/{instance.workspace_id}/{uuid.uuid4().hex}{suffix}"


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


class ConsentMethod(models.TextChoices):
    """How the subject gave consent; each way but the legacy one keeps evidence."""

    REMOTE = "remote", "Ceremony on the subject's own link"
    IN_PERSON = "in_person", "Ceremony on a member's device, in person"
    SIGNED_DOCUMENT = "signed_document", "Signed document, uploaded with a witness"
    TYPED = "typed", "Typed in by a member, without evidence (before evidence was required)"
    # No person is depicted: the demo's presenter is drawn by the software (rendering/demo.py).
    ILLUSTRATION = "illustration", "No person: a presenter drawn by the software (demo)"


class ConsentGrant(WorkspaceScoped):
    """A subject's consent, specific in scope and time, to one workspace's use of their likeness."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting signature"
        VERIFYING = "verifying", "Being verified"
        NEEDS_REVIEW = "needs_review", "Needs review"
        ACTIVE = "active", "Signed"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="grants")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="grants")
    # The exact text shown, kept with the grant so the document can never be edited under it.
    document_text = models.TextField()
    document_sha256 = models.CharField(max_length=64)
    purposes = models.JSONField(default=list)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    languages = models.JSONField(default=default_languages)
    channels = models.JSONField(default=list, blank=True)
    territory = models.CharField(max_length=200, default="Worldwide")
    forbidden_topics = models.JSONField(default=list, blank=True)
    requires_script_approval = models.BooleanField(default=False)
    compensation = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(
        max_length=16, choices=ConsentMethod.choices, default=ConsentMethod.REMOTE
    )

    # The subject's link: only a hash of the token is stored; the token is shown once.
    invite_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    invite_expires_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    challenge_text = models.CharField(max_length=200, blank=True)
    # Liveness challenges ({"kind": "blink", "at_seconds": 2.4}): one is issued when a take starts
    # (the page shows it at that moment of the recording); the saved clip keeps the one it was
    # recorded under, which verification checks. Empty: a clip uploaded without the recorder.
    pending_liveness_challenge = models.JSONField(default=dict, blank=True)
    liveness_challenge = models.JSONField(default=dict, blank=True)
    # What verification compares the clip with, uploaded by the inviting member (biometric data).
    reference_portrait = EncryptedFileField(upload_to=evidence_upload_to, blank=True)
    reference_voice = EncryptedFileField(upload_to=evidence_upload_to, blank=True)
    # The key that encrypts this consent's likeness files and its avatars' (see DataKey); erasure
    # deletes it, so a copy of the files left in a backup no longer decrypts.
    data_key = models.ForeignKey(
        "DataKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Ceremony evidence, step by step (IP and user agent of each step are in the ledger).
    document_viewed_at = models.DateTimeField(null=True, blank=True)
    consent_clip = EncryptedFileField(upload_to=evidence_upload_to, blank=True)
    clip_sha256 = models.CharField(max_length=64, blank=True)
    clip_recorded_at = models.DateTimeField(null=True, blank=True)
    signature_kind = models.CharField(max_length=8, blank=True)  # "drawn" or "typed"
    # Minutes of the subject reading a passage, recorded on their link once they signed: what a
    # footage avatar of this consent may be made from (consent/footage.py).
    footage = EncryptedFileField(upload_to=evidence_upload_to, blank=True)
    footage_sha256 = models.CharField(max_length=64, blank=True)
    footage_recorded_at = models.DateTimeField(null=True, blank=True)
    signature_image = models.FileField(upload_to=evidence_upload_to, blank=True)
    signature_sha256 = models.CharField(max_length=64, blank=True)
    # A consent signed on paper: the scanned document and who witnessed the signature.
    signed_document = models.FileField(upload_to=evidence_upload_to, blank=True)
    signed_document_sha256 = models.CharField(max_length=64, blank=True)
    witness_name = models.CharField(max_length=200, blank=True)

    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)
    biometrics_erased_at = models.DateTimeField(null=True, blank=True)

    signature_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_ip = models.GenericIPAddressField(null=True, blank=True)
    signer_user_agent = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    # Revoked by a member on the subject's written request (empty when the subject used the link).
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revocation_request = models.FileField(upload_to=evidence_upload_to, blank=True)
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

    # What the subject agreed to: the fields an invitation sets, the ledger records at invitation
    # and the audit export lists.
    SCOPE_FIELDS = (
        "purposes",
        "languages",
        "channels",
        "territory",
        "valid_from",
        "valid_until",
        "forbidden_topics",
        "requires_script_approval",
        "compensation",
    )

    def scope(self) -> dict:
        """The scope as JSON values (dates in ISO 8601), for the ledger and exports."""
        values = {name: getattr(self, name) for name in self.SCOPE_FIELDS}
        for name in ("valid_from", "valid_until"):
            values[name] = values[name].isoformat()
        return values

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

    def revoke(self, *, reason: str, at: datetime, by=None, written_request: str = "") -> None:
        """Revoke now. `by` and `written_request` (a stored file's name): a member acting on the
        subject's written request; neither when the subject used their link."""
        if self.status == self.Status.REVOKED:
            raise ConsentError("This consent is already revoked.")
        self.status, self.revoked_at, self.revoke_reason = self.Status.REVOKED, at, reason
        self.revoked_by = by
        self.revocation_request.name = written_request
        self.save(
            update_fields=[
                "status",
                "revoked_at",
                "revoke_reason",
                "revoked_by",
                "revocation_request",
            ]
        )

    def purpose_labels(self) -> list[str]:
        return [Purpose(p).label for p in self.purposes if p in Purpose.values]

    def language_labels(self) -> list[str]:
        return [
            Language(code).label if code in Language.values else code for code in self.languages
        ]

    def channel_labels(self) -> list[str]:
        return [Channel(c).label if c in Channel.values else c for c in self.channels]

    # Channels a public link serves: posted on a website or social media, or sent by email.
    PUBLIC_LINK_CHANNELS = frozenset({Channel.WEBSITE, Channel.SOCIAL, Channel.EMAIL})

    @property
    def allows_public_sharing(self) -> bool:
        """Whether the consent covers public outputs of its videos: a share page anyone with the
        link can open, its preview tags and image, and the email snippet. A grant for internal
        channels only (intranet), or naming no channel, gets member downloads alone."""
        return any(channel in self.PUBLIC_LINK_CHANNELS for channel in self.channels)

    @property
    def awaits_ceremony(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def lacks_evidence(self) -> bool:
        """Typed in by a member before evidence was required (no clip, no signed paper, no
        review): not live until the subject consents on their link or the signed paper is
        uploaded and reviewed."""
        return self.method == ConsentMethod.TYPED

    @property
    def recorded_in_person(self) -> bool:
        """A member was with the subject (their device, or the paper they uploaded): another
        owner or auditor reviews it."""
        return self.method in (ConsentMethod.IN_PERSON, ConsentMethod.SIGNED_DOCUMENT)

    def issue_link(self, *, token_hash: str, expires_at: datetime | None) -> None:
        """A new subject link: the hash replaces the old one, which stops working at once."""
        self.invite_token_hash = token_hash
        if self.awaits_ceremony:
            self.invite_expires_at = expires_at
        self.save(update_fields=["invite_token_hash", "invite_expires_at"])

    def await_review_of_signed_document(
        self, *, stored_name: str, sha256: str, witness: str, signed_at: datetime, recorded_by
    ) -> None:
        """The subject signed this consent on paper; the scan (already in storage) is the
        evidence, and the consent waits for a reviewer other than `recorded_by`."""
        if not (self.awaits_ceremony or self.lacks_evidence):
            raise ConsentError(
                "A signed document can be added only to a consent awaiting its signature or "
                "one recorded without evidence."
            )
        if sha256_hex(self.document_text) != self.document_sha256:
            raise ConsentError(
                "The stored consent text does not match its hash; it cannot be signed."
            )
        self.method, self.status = ConsentMethod.SIGNED_DOCUMENT, self.Status.NEEDS_REVIEW
        self.signed_document.name, self.signed_document_sha256 = stored_name, sha256
        self.witness_name, self.signed_at, self.recorded_by = witness, signed_at, recorded_by
        self.signature_name, self.signature_kind = self.subject.full_name, "paper"
        self.signer_ip, self.signer_user_agent = None, ""
        self.save()

    def withdrawal(self, at: datetime | None = None) -> Withdrawal | None:
        """Whether the videos made under this consent are withdrawn at `at` (now by default), from
        everyone (members, the public link, the subject's portal), and why: the consent was
        revoked, or its period is over (valid-until covers every use of the likeness, showing a
        video made with it included). None while they may be shown."""
        if self.status == self.Status.REVOKED:
            return Withdrawal("revoked", self.revoked_at)
        if self.valid_until <= (at or timezone.now()):
            return Withdrawal("expired", self.valid_until)
        return None

    def invite_expired(self, at: datetime) -> bool:
        return self.invite_expires_at is not None and at >= self.invite_expires_at

    def record_view(self, at: datetime) -> bool:
        """The subject opened the document; True the first time."""
        if self.document_viewed_at is not None:
            return False
        self.document_viewed_at = at
        self.save(update_fields=["document_viewed_at"])
        return True

    def attach_clip(self, stored_name: str, *, sha256: str, at: datetime, challenge: dict) -> None:
        """Point at a clip already in storage (the caller deletes the one it replaces once this
        commits), with the liveness challenge it was recorded under."""
        if not self.awaits_ceremony:
            raise ConsentError("This consent is already signed; the clip cannot change.")
        self.consent_clip.name = stored_name
        self.clip_sha256, self.clip_recorded_at = sha256, at
        # A challenge answers one take only: the next take gets a new one.
        self.liveness_challenge, self.pending_liveness_challenge = challenge or {}, {}
        self.save(
            update_fields=[
                "consent_clip",
                "clip_sha256",
                "clip_recorded_at",
                "liveness_challenge",
                "pending_liveness_challenge",
            ]
        )

    def sign_remotely(
        self, *, name: str, kind: str, image, signature_sha256: str, at: datetime, ip, user_agent
    ) -> None:
        """The subject agreed on their link; verification decides whether the grant goes live."""
        if not self.awaits_ceremony:
            raise ConsentError("This consent was already signed; the link cannot sign it again.")
        if not self.consent_clip:
            raise ConsentError("Record the consent clip before signing.")
        if sha256_hex(self.document_text) != self.document_sha256:
            raise ConsentError(
                "The stored consent text does not match its hash; it cannot be signed."
            )
        if image is not None:
            self.signature_image.save("signature.png", image, save=False)
        self.status = self.Status.VERIFYING
        self.signature_name, self.signature_kind = name, kind
        self.signature_sha256, self.signed_at = signature_sha256, at
        self.signer_ip, self.signer_user_agent = ip, user_agent[:500]
        self.save()

    def conclude_verification(self, *, passed: bool) -> None:
        if self.status != self.Status.VERIFYING:
            return  # revoked (or reviewed) while the check ran: the check changes nothing
        self.status = self.Status.ACTIVE if passed else self.Status.NEEDS_REVIEW
        self.save(update_fields=["status"])

    def restart_verification(self) -> None:
        if self.status != self.Status.NEEDS_REVIEW or not self.consent_clip:
            raise ConsentError(
                "Only a recorded consent whose check failed and awaits review can be checked again."
            )
        self.status = self.Status.VERIFYING
        self.save(update_fields=["status"])

    def review(self, *, approve: bool, reason: str, by, at: datetime) -> None:
        if self.status != self.Status.NEEDS_REVIEW:
            raise ConsentError("Only a consent that needs review can be approved or rejected.")
        if self.recorded_in_person and by.pk in (self.recorded_by_id, self.invited_by_id):
            # Four eyes: the member who was with the subject cannot also vouch for the record.
            raise ConsentError(
                "You recorded this consent with the subject, so another owner or an auditor "
                "must review it."
            )
        self.status = self.Status.ACTIVE if approve else self.Status.REJECTED
        self.reviewed_by, self.reviewed_at, self.review_reason = by, at, reason
        self.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])

    @property
    def may_record_footage(self) -> bool:
        """Footage for an avatar is recorded after signing, while the consent stands."""
        signed = self.status in (self.Status.VERIFYING, self.Status.ACTIVE)
        return signed and self.withdrawal() is None

    def attach_footage(self, stored_name: str, *, sha256: str, at: datetime) -> None:
        """Point at footage already in storage (the caller deletes the one it replaces once
        this commits)."""
        if not self.may_record_footage:
            raise ConsentError(
                "Footage can only be recorded for a signed consent that is still in force."
            )
        self.footage.name = stored_name
        self.footage_sha256, self.footage_recorded_at = sha256, at
        self.save(update_fields=["footage", "footage_sha256", "footage_recorded_at"])

    def biometric_files(self) -> list:
        files = (self.reference_portrait, self.reference_voice, self.consent_clip, self.footage)
        return [f for f in files if f]


class ConsentVerification(models.Model):
    """One automatic check of a consent clip: every score, the thresholds used, the outcome."""

    grant = models.ForeignKey(ConsentGrant, on_delete=models.CASCADE, related_name="verifications")
    created_at = models.DateTimeField(auto_now_add=True)
    passed = models.BooleanField(default=False)
    transcript = models.TextField(blank=True)
    word_error_rate = models.FloatField(null=True, blank=True)
    face_distance = models.FloatField(null=True, blank=True)
    voice_similarity = models.FloatField(null=True, blank=True)
    single_face_ratio = models.FloatField(null=True, blank=True)
    frames_checked = models.PositiveIntegerField(default=0)
    clip_seconds = models.FloatField(null=True, blank=True)
    thresholds = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    # Liveness: lip-sync correlation of mouth and voice, the active challenge and what was seen.
    liveness = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Verification of grant {self.grant_id}: {'passed' if self.passed else 'failed'}"


class ScriptApproval(WorkspaceScoped):
    """A script the subject must approve before it may be rendered with their likeness."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the subject"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    grant = models.ForeignKey(ConsentGrant, on_delete=models.CASCADE, related_name="approvals")
    title = models.CharField(max_length=200)
    script_text = models.TextField()
    script_sha256 = models.CharField(max_length=64)
    # Exactly the words the voice will say (markup, lexicon and numbers applied) and their hash:
    # what the subject approves, so a later lexicon change no longer matches the approval.
    spoken_text = models.TextField(blank=True)
    spoken_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # A template (a campaign's script with {{fields}}): field -> the kind of value the subject
    # approved it for (core.merge_fields.FIELD_KINDS). Empty for a plain script.
    field_kinds = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "script_sha256"], name="one_approval_per_script_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    def decide(self, *, approve: bool, reason: str, at: datetime) -> None:
        if self.status != self.Status.PENDING:
            raise ConsentError("You already answered for this script.")
        self.status = self.Status.APPROVED if approve else self.Status.REJECTED
        self.decided_at, self.decision_reason = at, reason
        self.save(update_fields=["status", "decided_at", "decision_reason"])

    @property
    def spoken_differs(self) -> bool:
        """Whether the voice says other words than the script shows (respellings, numbers read
        out): then the subject is shown the spoken words too, since those are what they approve."""
        from engine.errors import EngineError
        from engine.voice.spoken import same_words, written_text

        if not self.spoken_text:
            return False
        try:
            return not same_words(written_text(self.script_text), self.spoken_text)
        except EngineError:  # markup that no longer parses: show both
            return True


class LedgerImmutable(Exception):
    """Ledger rows are appended, never changed or removed."""


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerImmutable("Ledger entries cannot be updated.")

    def delete(self):
        raise LedgerImmutable("Ledger entries cannot be deleted.")


class LedgerEntry(models.Model):
    """One consent event in a hash chain: hash = SHA-256 of the canonical JSON of the entry,
    which includes the previous entry's hash. Append with `consent.ledger.append`."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    event = models.CharField(max_length=32)
    # Plain ids, not foreign keys: the ledger outlives (and never cascades with) what it records.
    workspace_id = models.BigIntegerField(null=True, db_index=True)
    grant_id = models.BigIntegerField(null=True, db_index=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.event}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise LedgerImmutable("Ledger entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Ledger entries cannot be deleted.")


class LedgerCheckpoint(models.Model):
    """A signed record of the ledger's heads at one moment, kept outside the ledger table: the
    site-wide length and head hash and each workspace's own head (`consent.checkpoints`). A later
    `verify_ledger` compares the ledger to the latest one, so rows deleted from the end or a chain
    re-hashed after an edit no longer pass as intact."""

    created_at = models.DateTimeField()
    length = models.PositiveBigIntegerField()  # entries covered: seq 1..length
    head_hash = models.CharField(max_length=64)
    # What was signed, byte for byte (canonical JSON), its ES256 signature (base64, DER) and the
    # signer's certificate chain (PEM) at the time; the columns above are for listing only.
    statement = models.TextField()
    signature = models.TextField()
    certificate_chain = models.TextField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Ledger checkpoint #{self.pk} ({self.length} entries)"


def describe_findings(findings) -> str:
    """Screening findings (``Finding.as_dict``) for people: "Label (“word”, “word”); ..."."""
    return "; ".join(
        f"{f['label']} ({', '.join(f'“{m}”' for m in f['matched'])})" for f in findings
    )


class ScreeningReview(WorkspaceScoped):
    """A script the acceptable-use screening (``engine.text.screening``) held: it cannot render
    until an owner of its workspace approves it, or it is edited so that it no longer matches.
    One per exact text; an approval covers the findings it was given, no others."""

    class Status(models.TextChoices):
        HELD = "held", "Held for review"
        APPROVED = "approved", "Approved by an owner"
        KEPT_HELD = "kept_held", "Kept held by an owner"

    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    # [{"category", "label", "matched": [...]}, ...] as engine.text.screening.Finding.as_dict
    findings = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    flagged_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-flagged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "text_sha256"], name="one_screening_review_per_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title or 'Script'} ({self.get_status_display()})"

    @property
    def reason(self) -> str:
        """The categories and matched words, for people."""
        return describe_findings(self.findings)

    def covers(self, findings: list[dict]) -> bool:
        """Whether an owner approved every category and matched word of ``findings``."""
        if self.status != self.Status.APPROVED:
            return False
        approved = {(f["category"], m) for f in self.findings for m in f["matched"]}
        return all((f["category"], m) in approved for f in findings for m in f["matched"])

    def decide(self, *, approve: bool, by, at: datetime) -> None:
        if self.status == self.Status.APPROVED:
            raise ConsentError("An owner already approved this script.")
        self.status = self.Status.APPROVED if approve else self.Status.KEPT_HELD
        self.decided_by, self.decided_at = by, at
        self.save(update_fields=["status", "decided_by", "decided_at"])


class DataKey(WorkspaceScoped):
    """A data key of a workspace (one per consent) that encrypts likeness files with AES-GCM
    (core/crypto.py), stored only wrapped by the site's master key (LIKENESS_MASTER_KEY). Its id
    is in every file it encrypts; deleting the row makes those files unreadable for good."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)  # fingerprint of the key that wrapped it
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key {self.pk}"

    @classmethod
    def generate(cls, workspace_id: int) -> "DataKey":
        key_id, master = uuid.uuid4(), master_key()
        return cls.objects.create(
            id=key_id,
            workspace_id=workspace_id,
            wrapped=wrap_key(new_data_key(), key_id, master),
            master_key_id=master_key_id(master),
        )

    def unwrap(self, master: bytes | None = None) -> bytes:
        return unwrap_key(self.wrapped, self.pk, master or master_key())

    def rewrap(self, *, old_master: bytes, new_master: bytes) -> None:
        """Wrap the same data key under a new master key (files stay as they are)."""
        plain = self.unwrap(old_master)
        self.wrapped = wrap_key(plain, self.pk, new_master)
        self.master_key_id = master_key_id(new_master)
        self.rewrapped_at = timezone.now()
        self.save(update_fields=["wrapped", "master_key_id", "rewrapped_at"])


class GrantKeyring:
    """core.crypto's keyring: the files of a consent, and of the avatars made with it, are
    encrypted under the consent's data key, created when its first file is stored."""

    def key_for(self, instance) -> tuple[uuid.UUID, bytes]:
        grant = instance if isinstance(instance, ConsentGrant) else instance.grant
        if grant.data_key_id is None:
            key = DataKey.generate(grant.workspace_id)
            grant.data_key = key
            if grant.pk is not None:
                ConsentGrant.objects.filter(pk=grant.pk, data_key__isnull=True).update(data_key=key)
                # Another process may have set one first: use the one that was stored.
                grant.data_key_id = (
                    ConsentGrant.objects.filter(pk=grant.pk).values_list("data_key", flat=True)
                )[0]
        key = DataKey.objects.get(pk=grant.data_key_id)
        return key.pk, key.unwrap()

    def key_by_id(self, key_id: uuid.UUID) -> bytes:
        try:
            return DataKey.objects.get(pk=key_id).unwrap()
        except DataKey.DoesNotExist:
            raise DecryptionError(
                "This file's data key was destroyed (its likeness data was erased)."
            ) from None
