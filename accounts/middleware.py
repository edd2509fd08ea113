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
