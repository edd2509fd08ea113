from django.urls import path

from studio import views

app_name = "studio"
urlpatterns = [
    path("", views.script_list, name="script_list"),
    path("new/", views.script_new, name="script_new"),
    path("<id:script_id>/", views.script_detail, name="script_detail"),
    path(
        "<id:script_id>/send-for-approval/",
        views.script_send_for_approval,
        name="script_send_for_approval",
    ),
    path(
        "<id:script_id>/screening/",
        views.script_screening_decision,
        name="script_screening_decision",
    ),
    path("pronunciations/", views.pronunciation_list, name="pronunciation_list"),
    path(
        "pronunciations/<id:pronunciation_id>/delete/",
        views.pronunciation_delete,
        name="pronunciation_delete",
    ),
]
