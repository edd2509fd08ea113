import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, throttle, two_factor
from accounts.forms import InviteMemberForm, SignupForm, TwoFactorCodeForm, WorkspaceForm
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, InvitationNotOpen, Membership
from accounts.permissions import member_required


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and not throttle.signup_allowed(
        request, email=request.POST.get("email", "")
    ):
        response = render(
            request, "accounts/signup.html", {"form": SignupForm(), "throttled": True}, status=429
        )
        response["Retry-After"] = "3600"
        return response
    if request.method == "POST" and form.is_valid():
        user = services.sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            workspace_name=form.cleaned_data["workspace_name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def workspace_new(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.create_workspace(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = workspace.pk
        return redirect("home")
    return render(request, "accounts/workspace_new.html", {"form": form})


@require_POST
@login_required
def workspace_switch(request, workspace_id: int):
    membership = get_object_or_404(Membership, user=request.user, workspace_id=workspace_id)
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("home")


# One answer whether or not an account has that name or email (issue 19).
INVITED = (
    "Invitation sent. If an account has that username or email, its owner sees the invitation on "
    "their Invitations page and becomes a member once they accept it."
)


@member_required()
def members(request):
    form = InviteMemberForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.can_manage:
            messages.error(request, "Only the workspace owner can invite members.")
            return redirect("accounts:members")
        if form.is_valid():
            services.invite(
                workspace=request.workspace,
                recipient=form.cleaned_data["username_or_email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
            messages.success(request, INVITED)
            return redirect("accounts:members")
    memberships = request.workspace.memberships.select_related("user").order_by("created_at")
    invitations = (
        request.workspace.invitations.select_related("invited_by").order_by("-created_at")
        if request.membership.can_manage
        else Invitation.objects.none()
    )
    return render(
        request,
        "accounts/members.html",
        {
            "form": form,
            "memberships": memberships,
            "invitations": invitations[:50],
            "invitation_days": settings.INVITATION_DAYS,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@member_required(manage=True)
def invitation_revoke(request, invitation_id: int):
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=request.workspace)
    try:
        invitation.revoke(request.user)
        messages.success(request, f"The invitation to {invitation.recipient} is revoked.")
    except InvitationNotOpen as error:
        messages.error(request, str(error))
    return redirect("accounts:members")


@login_required
def invitations(request):
    """The signed-in user's own open invitations, to accept or decline."""
    return render(
        request,
        "accounts/invitations.html",
        {"invitations": Invitation.open_for(request.user).order_by("-created_at")},
    )


@require_POST
@login_required
def invitation_answer(request, invitation_id: int, answer: str):
    # Only invitations addressed to this user are found (others are 404); a closed one says why.
    invitation = get_object_or_404(Invitation.addressed_to(request.user), pk=invitation_id)
    try:
        if answer == "accept":
            membership = invitation.accept(request.user)
            request.session[SESSION_KEY] = membership.workspace_id
            messages.success(request, f"You are now a member of {membership.workspace}.")
            return redirect("home")
        invitation.decline(request.user)
        messages.success(request, f"You declined the invitation to {invitation.workspace}.")
    except InvitationNotOpen as error:
        messages.error(request, str(error))
    return redirect("accounts:invitations")


# Between the password and the code: who, how they authenticated, since when and where to go.
PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60


class LoginView(auth_views.LoginView):
    """The password step; a user with two-factor on is not logged in until the code step."""

    template_name = "accounts/login.html"

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.has_device(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:login_code")


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


@never_cache
def login_code(request):
    """The code step of a log-in: the authenticator's code or a backup code."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Log in with your password, then enter your code.")
        return redirect("accounts:login")
    if not AxesProxyHandler.is_allowed(request, {"username": user.get_username()}):
        request.session.pop(PENDING_KEY, None)
        return throttle.locked_out_response(request)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.verify(user, form.cleaned_data["code"])
        except two_factor.CodeThrottled as error:
            form.add_error("code", str(error))
        except two_factor.CodeRefused as error:
            form.add_error("code", str(error))
            two_factor.count_wrong_code(request, user)  # axes: the 429 page once at the limit
            if getattr(request, "axes_locked_out", False):
                request.session.pop(PENDING_KEY, None)
        else:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = settings.LOGIN_REDIRECT_URL
            return redirect(target)
    return render(
        request,
        "accounts/login_code.html",
        {"form": form, "username": user.get_username()},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def two_factor_settings(request):
    """Turn two-factor log-in on (enroll, confirm with a code) or off (with a code)."""
    user = request.user
    form = TwoFactorCodeForm(request.POST or None)
    if two_factor.has_device(user):
        if request.method == "POST" and form.is_valid():
            try:
                two_factor.verify(user, form.cleaned_data["code"])
            except two_factor.CodeThrottled as error:
                form.add_error("code", str(error))
            except two_factor.CodeRefused as error:
                form.add_error("code", str(error))
                two_factor.count_wrong_code(request, user)
            else:
                two_factor.turn_off(user)
                messages.success(request, "Two-factor log-in is off.")
                return redirect("accounts:two_factor")
        return render(
            request,
            "accounts/two_factor_on.html",
            {"form": form, "required": two_factor.is_required(user)},
            status=400 if form.errors else 200,
        )
    device = two_factor.pending_device(user)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm(device, form.cleaned_data["code"])
        except two_factor.CodeRefused as error:
            form.add_error("code", str(error))
        else:
            otp_login(request, device)
            # Shown once: only their use is stored, never a page that shows them again.
            return render(request, "accounts/two_factor_backup_codes.html", {"codes": codes})
    return render(
        request,
        "accounts/two_factor_enroll.html",
        {
            "form": form,
            "otpauth_uri": device.config_url,
            "secret": two_factor.secret_base32(device),
            "required": two_factor.is_required(user),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def two_factor_qr(request):
    """The enrolling device's otpauth:// URI as a QR code (SVG), for the enroll page's <img>."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        raise Http404("No authenticator is being set up.")
    return HttpResponse(two_factor.qr_svg(device.config_url), content_type="image/svg+xml")
