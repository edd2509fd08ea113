from django.urls import path

from rendering import views

app_name = "rendering"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("submit/", views.submit, name="submit"),
    path("<id:job_id>/", views.job_detail, name="job_detail"),
    path("<id:job_id>/status/", views.job_status, name="job_status"),
    path("<id:job_id>/status.json", views.job_status_json, name="job_status_json"),
    path("<id:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("<id:job_id>/retry/", views.job_retry, name="job_retry"),
    path("<id:job_id>/video.mp4", views.job_file, {"kind": "mp4"}, name="job_video"),
    path("<id:job_id>/poster.jpg", views.job_file, {"kind": "jpg"}, name="job_poster"),
    path("<id:job_id>/captions.vtt", views.job_file, {"kind": "vtt"}, name="job_captions_vtt"),
    path("<id:job_id>/captions.srt", views.job_file, {"kind": "srt"}, name="job_captions_srt"),
]
