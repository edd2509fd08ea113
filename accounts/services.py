from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Role, Workspace


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
