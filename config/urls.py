from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("consent.urls")),
    path("avatars/", include("avatars.urls")),
    path("scripts/", include("studio.urls")),
    path("renders/", include("rendering.urls")),
    path("admin/", admin.site.urls),
]
