from django.contrib import admin

from consent.models import (
    ConsentDocument,
    ConsentGrant,
    ConsentVerification,
    LedgerCheckpoint,
    LedgerEntry,
    ScreeningReview,
    ScriptApproval,
    Subject,
)


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("full_name", "email", "workspace")


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "version", "workspace", "sha256")
    readonly_fields = ("sha256",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Consent records change through their workflows, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentGrant)
class ConsentGrantAdmin(ReadOnlyAdmin):
    list_display = ("subject", "status", "valid_from", "valid_until", "workspace")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return True  # an in-person consent may still be entered; it is then never editable


@admin.register(ConsentVerification)
class ConsentVerificationAdmin(ReadOnlyAdmin):
    list_display = ("grant", "passed", "word_error_rate", "face_distance", "voice_similarity")


@admin.register(ScriptApproval)
class ScriptApprovalAdmin(ReadOnlyAdmin):
    list_display = ("title", "grant", "status", "requested_at")


@admin.register(ScreeningReview)
class ScreeningReviewAdmin(ReadOnlyAdmin):
    """Held scripts and owners' decisions; decided on the script's page, recorded in the ledger."""

    list_display = ("title", "workspace", "status", "flagged_at", "decided_by", "decided_at")
    list_filter = ("status",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "event", "workspace_id", "grant_id", "hash")
    list_filter = ("event",)
    readonly_fields = (
        "seq",
        "at",
        "event",
        "workspace_id",
        "grant_id",
        "payload",
        "prev_hash",
        "hash",
    )


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyAdmin):
    """Signed ledger checkpoints (`manage.py ledger_checkpoint`): read-only, like the ledger."""

    list_display = ("pk", "created_at", "length", "head_hash")
    readonly_fields = (
        "created_at",
        "length",
        "head_hash",
        "statement",
        "signature",
        "certificate_chain",
    )
