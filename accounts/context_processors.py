from accounts.models import Membership


def workspace(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_workspace": request.workspace,
        "current_membership": request.membership,
        "all_memberships": Membership.objects.filter(user=request.user).select_related("workspace"),
    }
