from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from accounts import two_factor
from accounts.models import Membership

SESSION_KEY = "workspace_id"


class CurrentWorkspaceMiddleware:
    """Attach the signed-in user's current membership (and its workspace) to the request.

    The current workspace is remembered in the session; a stale or foreign id falls back to the
    user's first membership, so a request can never act in a workspace the user does not belong to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.workspace = None
        if request.user.is_authenticated:
            memberships = Membership.objects.filter(user=request.user).select_related("workspace")
            wanted = request.session.get(SESSION_KEY)
            membership = (wanted and memberships.filter(workspace_id=wanted).first()) or (
                memberships.order_by("created_at", "pk").first()
            )
            if membership is not None:
                request.membership = membership
                request.workspace = membership.workspace
        return self.get_response(request)


class TwoFactorMiddleware:
    """Two-factor before anything else (after django-otp's OTPMiddleware).

    A signed-in session that was not verified with a code while the user has a device (a session
    from before the device, or one made some other way) is logged out, to log in with the code. A
    user whose role is in REQUIRE_TWO_FACTOR_ROLES and who has no device is sent to set one up.
    """

    EXEMPT = ("accounts:two_factor", "accounts:two_factor_qr", "accounts:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)
        if user.is_authenticated and not verified():
            if two_factor.has_device(user):
                logout(request)
                messages.info(request, "Log in again with your password and your code.")
                return redirect_to_login(request.get_full_path())
            if two_factor.is_required(user) and not self._exempt(request):
                messages.info(request, "Set up two-factor log-in before you continue.")
                return redirect("accounts:two_factor")
        return self.get_response(request)

    def _exempt(self, request) -> bool:
        return request.path_info in {reverse(name) for name in self.EXEMPT} or (
            request.path_info.startswith(("/static/", "/media/"))
        )
