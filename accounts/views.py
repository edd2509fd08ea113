from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services, throttle
from accounts.forms import InviteMemberForm, SignupForm, WorkspaceForm
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
