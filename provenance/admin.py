from django.contrib import admin

from provenance.models import LabelSettings, ProvenanceRecord


@admin.register(ProvenanceRecord)
class ProvenanceRecordAdmin(admin.ModelAdmin):
    list_display = ("payload_id", "workspace", "job", "video", "c2pa_signed", "created_at")
    search_fields = ("payload_id", "audio_prefix")
    readonly_fields = [f.name for f in ProvenanceRecord._meta.fields]


admin.site.register(LabelSettings)
