from django.contrib import admin

from avatars.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "workspace", "created_at")
    list_filter = ("status",)
