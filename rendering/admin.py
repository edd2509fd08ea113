from django.contrib import admin

from rendering.models import RenderJob, Video


@admin.register(RenderJob)
class RenderJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "workspace", "avatar", "status", "stage", "progress", "created_at")
    list_filter = ("status",)


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("job", "seconds", "width", "height", "created_at")
