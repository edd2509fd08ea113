from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:api_token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
