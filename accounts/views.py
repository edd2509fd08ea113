from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import AddMemberForm, SignupForm, WorkspaceForm
from accounts.middleware import SESSION_KEY
from accounts.models import Membership
from accounts.permissions import member_required


def signup(request):
    form = SignupForm(request.POST or None)
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


@member_required()
def members(request):
    form = AddMemberForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST":
        if not request.membership.can_manage:
            messages.error(request, "Only the workspace owner can add members.")
            return redirect("accounts:members")
        if form.is_valid():
            request.workspace.add_member(
                form.cleaned_data["username_or_email"], form.cleaned_data["role"]
            )
            messages.success(request, "Member added.")
            return redirect("accounts:members")
    memberships = request.workspace.memberships.select_related("user").order_by("created_at")
    return render(request, "accounts/members.html", {"form": form, "memberships": memberships})
