"""View guards: every view acts inside the current workspace, with a role that allows it."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect


def member_required(*, edit: bool = False, manage: bool = False):
    """Require a signed-in member of a workspace; `edit`/`manage` also require that role."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.membership is None:
                return redirect("accounts:workspace_new")
            if edit and not request.membership.can_edit:
                raise PermissionDenied("Your role in this workspace can only view.")
            if manage and not request.membership.can_manage:
                raise PermissionDenied("Only the workspace owner can do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def get_in_workspace(request, model_or_queryset, **lookup):
    """Fetch one object of the current workspace, or 404 — also for other workspaces' ids."""
    queryset = getattr(model_or_queryset, "objects", model_or_queryset)
    return get_object_or_404(queryset.filter(workspace=request.workspace), **lookup)
