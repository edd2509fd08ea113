from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workspaces/new/", views.workspace_new, name="workspace_new"),
    path("workspaces/<id:workspace_id>/switch/", views.workspace_switch, name="workspace_switch"),
    path("members/", views.members, name="members"),
]
