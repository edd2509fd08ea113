"""Public pages of a campaign's recipients (no account): the share page and its files."""

from django.urls import path

from campaigns import share_views

app_name = "campaign_share"
urlpatterns = [
    path("<str:token>/", share_views.share_page, name="page"),
    path("<str:token>/video.mp4", share_views.share_file, {"kind": "mp4"}, name="video"),
    path("<str:token>/poster.jpg", share_views.share_file, {"kind": "jpg"}, name="poster"),
    path("<str:token>/captions.vtt", share_views.share_file, {"kind": "vtt"}, name="captions"),
    path("<str:token>/preview.gif", share_views.share_file, {"kind": "gif"}, name="gif"),
    path("<str:token>/brand.css", share_views.share_brand, name="brand"),
    path("<str:token>/logo", share_views.share_logo, name="logo"),
    path("<str:token>/event", share_views.share_event, name="event"),
    path("<str:token>/go", share_views.share_go, name="go"),
]
