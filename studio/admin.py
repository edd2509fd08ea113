from django.contrib import admin

from studio.models import Script


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    list_display = ("title", "workspace", "updated_at")
