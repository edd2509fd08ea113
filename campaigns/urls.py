from django.urls import path

from campaigns import share_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<id:campaign_id>/", views.campaign_detail, name="detail"),
    path("<id:campaign_id>/recipients/", views.campaign_recipients, name="recipients"),
    path("<id:campaign_id>/problems.csv", views.campaign_problems, name="problems"),
    path("<id:campaign_id>/preview/", views.campaign_preview, name="preview"),
    path("<id:campaign_id>/say/", views.campaign_say, name="say"),
    path("<id:campaign_id>/approval/", views.campaign_approval, name="approval"),
    path("<id:campaign_id>/samples/", views.campaign_samples, name="samples"),
    path("<id:campaign_id>/launch/", views.campaign_launch, name="launch"),
    path("<id:campaign_id>/progress.json", views.campaign_progress, name="progress"),
    path("<id:campaign_id>/cancel/", views.campaign_cancel, name="cancel"),
    path("<id:campaign_id>/retry/", views.campaign_retry, name="retry"),
    # Written by share_views: the spreadsheet of every row's links, status and engagement.
    path("<id:campaign_id>/export.csv", share_views.campaign_export, name="export"),
    path("<id:campaign_id>/delete/", share_views.campaign_delete, name="delete"),
]
