from django.urls import path

from provenance import views

app_name = "provenance"
urlpatterns = [
    path("verify", views.verify, name="verify"),
    path("verify/api", views.verify_api, name="verify_api"),
    path("verify/site-root.pem", views.site_root_certificate, name="site_root_certificate"),
    # The 64-bit provenance id is unguessable: the public record is a capability link.
    path("verify/<str:token>", views.record, name="record"),
    path("settings/disclosure", views.label_settings, name="label_settings"),
]
