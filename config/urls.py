from django.contrib import admin
from django.urls import include, path

from config import views
from rendering import views as rendering_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("consent.urls")),
    path("avatars/", include("avatars.urls")),
    path("scripts/", include("studio.urls")),
    path("renders/", include("rendering.urls")),
    # Public share pages of videos: 410 once the consent is revoked or its period is over.
    path("v/<str:token>/", rendering_views.share_page, name="share_page"),
    path("v/<str:token>/video.mp4", rendering_views.share_video, name="share_video"),
    path("v/<str:token>/poster.jpg", rendering_views.share_poster, name="share_poster"),
    path("v/<str:token>/captions.vtt", rendering_views.share_captions, name="share_captions"),
    path("", include("provenance.urls")),
    path("admin/", admin.site.urls),
]
