from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Invitation, Membership, Role, Workspace


@transaction.atomic
def create_workspace(*, name: str, owner) -> Workspace:
    workspace = Workspace.objects.create(name=name)
    workspace.add_member(owner, Role.OWNER)
    return workspace


@transaction.atomic
def sign_up(*, username: str, email: str, password: str, workspace_name: str):
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    create_workspace(name=workspace_name, owner=user)
    return user


@transaction.atomic
def invite(*, workspace: Workspace, recipient: str, role: Role, invited_by) -> Invitation | None:
    """Invite the account with this username or email; None when it already is a member.

    The caller answers the owner the same way either way, and whether an account exists at all is
    never looked at: the invitation waits for whoever has (or later takes) that name or email."""
    recipient = recipient.strip()
    if "@" in recipient:
        recipient = recipient.lower()
    members = Membership.objects.filter(workspace=workspace)
    if members.filter(user__username=recipient).exists() or (
        "@" in recipient and members.filter(user__email__iexact=recipient).exists()
    ):
        return None
    return Invitation.objects.create(
        workspace=workspace,
        recipient=recipient,
        role=role,
        invited_by=invited_by,
        expires_at=Invitation.default_expiry(),
    )
