from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.lesson_list, name="list"),
    path("new/", views.lesson_new, name="new"),
    path("<id:lesson_id>/", views.lesson_detail, name="detail"),
    path("<id:lesson_id>/scenes/", views.scene_add, name="scene_add"),
    path("<id:lesson_id>/scenes/<id:scene_id>/", views.scene_save, name="scene_save"),
    path("<id:lesson_id>/scenes/<id:scene_id>/still.png", views.scene_still, name="scene_still"),
    path(
        "<id:lesson_id>/scenes/<id:scene_id>/<str:action>/",
        views.scene_action,
        name="scene_action",
    ),
    path("<id:lesson_id>/deck/", views.deck_import, name="deck_import"),
    path("<id:lesson_id>/render/", views.lesson_render, name="render"),
    path(
        "<id:lesson_id>/scorm-<str:version>.zip",
        views.lesson_scorm,
        name="scorm",
    ),
]
