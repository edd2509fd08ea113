from django.contrib import admin

from consent.models import ConsentDocument, ConsentGrant, Subject


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("full_name", "email", "workspace")


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "version", "workspace", "sha256")
    readonly_fields = ("sha256",)


@admin.register(ConsentGrant)
class ConsentGrantAdmin(admin.ModelAdmin):
    list_display = ("subject", "status", "valid_from", "valid_until", "workspace")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False  # consent records are changed through their workflows, never by hand
