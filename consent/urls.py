from django.urls import path

from consent import views

app_name = "consent"
urlpatterns = [
    path("subjects/", views.subject_list, name="subject_list"),
    path("subjects/new/", views.subject_new, name="subject_new"),
    path("subjects/<int:subject_id>/", views.subject_detail, name="subject_detail"),
    path("subjects/<int:subject_id>/consent/new/", views.grant_new, name="grant_new"),
    path("consents/<int:grant_id>/", views.grant_detail, name="grant_detail"),
]
