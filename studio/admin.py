from django.contrib import admin

from studio.models import PronunciationEntry, Script


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    list_display = ("title", "workspace", "updated_at")


@admin.register(PronunciationEntry)
class PronunciationEntryAdmin(admin.ModelAdmin):
    list_display = ("word", "respelling", "workspace")
