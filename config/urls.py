from django.contrib import admin
from django.urls import include, path

import core.converters  # noqa: F401  (registers <id:…> before the apps' URLs are read)
from api.api import api
from api.views import download as api_download
from api.views import scorm_download as api_scorm
from config import views
from rendering.views import share_file, share_page

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("consent.urls")),
    path("avatars/", include("avatars.urls")),
    path("scripts/", include("studio.urls")),
    path("renders/", include("rendering.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("lessons/", include("lessons.urls")),
    # A campaign recipient's share page: 410 once the consent is withdrawn or the campaign erased.
    # Not under c/: that is the subject's consent link (consent.urls, c/<token>/ comes first).
    path("s/", include("campaigns.share_urls")),
    # Public share pages of videos: 410 once the consent is revoked or its period is over.
    path("v/<str:token>/", share_page, name="share_page"),
    path("v/<str:token>/video.mp4", share_file, {"kind": "mp4"}, name="share_video"),
    path("v/<str:token>/poster.jpg", share_file, {"kind": "jpg"}, name="share_poster"),
    path("v/<str:token>/captions.vtt", share_file, {"kind": "vtt"}, name="share_captions"),
    path("", include("provenance.urls")),
    # The public REST API (api/): tokens, not sessions; its pages for owners under /api-tokens/.
    path("api/v1/downloads/<str:token>", api_download, name="api-download"),
    path("api/v1/scorm/<str:token>", api_scorm, name="api-scorm"),
    path("api/v1/", api.urls),
    path("settings/api/", include("api.urls")),
    # Plans, credits and usage; 404 unless STRIPE_SECRET_KEY is set.
    path("billing/", include("billing.urls")),
    path("admin/", admin.site.urls),
]
