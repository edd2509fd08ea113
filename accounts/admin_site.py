"""The admin, with the site's two-step log-in: staff with a device give a code (issue 19).

INSTALLED_APPS names TwoFactorAdminConfig instead of django.contrib.admin, so admin.site (where
every app registers its models) is a TwoFactorAdminSite."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.shortcuts import redirect
from django.urls import reverse


class TwoFactorAdminSite(AdminSite):
    def has_permission(self, request):
        from accounts import two_factor

        user = request.user
        verified = getattr(user, "is_verified", lambda: False)
        return super().has_permission(request) and (verified() or not two_factor.has_device(user))

    def login(self, request, extra_context=None):
        # The admin's own form would log in on the password alone: use the site's two steps.
        from accounts.views import LoginView

        if request.method == "GET" and self.has_permission(request):
            return redirect(reverse("admin:index", current_app=self.name))
        return LoginView.as_view(next_page=reverse("admin:index", current_app=self.name))(request)


class TwoFactorAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.TwoFactorAdminSite"
