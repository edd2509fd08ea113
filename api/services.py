"""Token workflows the owner's page, the command line and the tests share."""

from django.db import transaction

from api.models import ApiToken


@transaction.atomic
def create_token(*, workspace, name: str, scopes, by=None, expires_at=None) -> tuple[ApiToken, str]:
    """A new token and its text, which is shown once and never stored."""
    return ApiToken.issue(
        workspace=workspace, name=name, scopes=scopes, by=by, expires_at=expires_at
    )


def revoke_token(token: ApiToken) -> bool:
    return token.revoke()
