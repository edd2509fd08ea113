from django.urls import path

from consent import audit_views, link_views, views

app_name = "consent"
urlpatterns = [
    path("subjects/", views.subject_list, name="subject_list"),
    path("subjects/new/", views.subject_new, name="subject_new"),
    path("subjects/<id:subject_id>/", views.subject_detail, name="subject_detail"),
    path("subjects/<id:subject_id>/consent/new/", views.grant_new, name="grant_new"),
    path("subjects/<id:subject_id>/invite/", views.invite_new, name="invite_new"),
    path(
        "subjects/<id:subject_id>/consent/in-person/",
        views.grant_in_person,
        name="grant_in_person",
    ),
    path(
        "subjects/<id:subject_id>/consent/signed-document/",
        views.grant_signed_document,
        name="grant_signed_document",
    ),
    path("consents/<id:grant_id>/", views.grant_detail, name="grant_detail"),
    path("consents/<id:grant_id>/review/", views.grant_review, name="grant_review"),
    path("consents/<id:grant_id>/link/", views.grant_issue_link, name="grant_issue_link"),
    path("consents/<id:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path(
        "consents/<id:grant_id>/signed-document/",
        views.grant_add_signed_document,
        name="grant_add_signed_document",
    ),
    path(
        "consents/<id:grant_id>/evidence/<slug:kind>",
        views.grant_evidence_file,
        name="grant_evidence_file",
    ),
    path("consents/<id:grant_id>/reverify/", views.grant_reverify, name="grant_reverify"),
    path("consents/<id:grant_id>/certificate.pdf", views.grant_certificate, name="certificate"),
    path("audit/", audit_views.audit_grants, name="audit_grants"),
    path("audit/ledger/", audit_views.audit_ledger, name="audit_ledger"),
    path("audit/ledger/checkpoint.json", audit_views.audit_checkpoint, name="audit_checkpoint"),
    path("audit/grants.csv", audit_views.audit_export_csv, name="audit_export_csv"),
    path("audit/grants.json", audit_views.audit_export_json, name="audit_export_json"),
    # The subject's link (no account): ceremony, then portal.
    path("c/<str:token>/", link_views.link_home, name="link_home"),
    path("c/<str:token>/clip/", link_views.link_clip, name="link_clip"),
    path("c/<str:token>/clip/challenge/", link_views.link_challenge, name="link_challenge"),
    path("c/<str:token>/sign/", link_views.link_sign, name="link_sign"),
    path("c/<str:token>/footage/", link_views.link_footage, name="link_footage"),
    path("c/<str:token>/revoke/", link_views.link_revoke, name="link_revoke"),
    path(
        "c/<str:token>/scripts/<id:approval_id>/",
        link_views.link_script_decision,
        name="link_script_decision",
    ),
    path("c/<str:token>/certificate.pdf", link_views.link_certificate, name="link_certificate"),
    path(
        "c/<str:token>/videos/<id:video_id>/video.mp4",
        link_views.link_video_file,
        {"kind": "mp4"},
        name="link_video",
    ),
    path(
        "c/<str:token>/videos/<id:video_id>/captions.vtt",
        link_views.link_video_file,
        {"kind": "vtt"},
        name="link_captions",
    ),
    path(
        "c/<str:token>/videos/<id:video_id>/thumbnail.jpg",
        link_views.link_thumbnail,
        name="link_thumbnail",
    ),
]
