from django.urls import path

from avatars import views

app_name = "avatars"
urlpatterns = [
    path("", views.avatar_list, name="avatar_list"),
    path("new/", views.avatar_new, name="avatar_new"),
    path("new/footage/", views.avatar_new_footage, name="avatar_new_footage"),
    path("<id:avatar_id>/", views.avatar_detail, name="avatar_detail"),
    path("<id:avatar_id>/review/", views.avatar_review, name="avatar_review"),
    path("<id:avatar_id>/portrait/", views.avatar_portrait, name="avatar_portrait"),
    path("<id:avatar_id>/footage/", views.avatar_footage, name="avatar_footage"),
    path("<id:avatar_id>/voice-sample/", views.avatar_voice_sample, name="avatar_voice_sample"),
]
