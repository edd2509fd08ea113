"""The API's contract: its schema, problem documents, tokens, scopes and the rate limit."""

import pytest
from django.core.management import call_command

from api.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_the_schema_is_published_as_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/renders" in schema["paths"]
    refused = schema["paths"]["/api/v1/renders"]["post"]["responses"]["422"]
    assert "application/problem+json" in refused["content"]


def test_the_interactive_docs_are_served(client):
    assert client.get("/api/v1/docs").status_code == 200


def test_a_call_without_a_token_is_a_401_problem(client):
    response = client.get("/api/v1/avatars")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


def test_an_unknown_token_is_refused(client):
    response = ApiClient(client, "lk_000000000000_nope").get("/avatars")
    assert response.status_code == 401


def test_a_token_is_stored_only_as_its_hash(make_client, workspace):
    api = make_client(["read"])
    text = api.headers["Authorization"].split()[1]
    token = ApiToken.objects.get(workspace=workspace)
    assert text not in {token.lookup, token.token_sha256}
    assert ApiToken.find(text) == token


def test_a_call_records_the_tokens_last_use(make_client, workspace):
    api = make_client(["read"])
    assert api.get("/avatars").status_code == 200
    assert ApiToken.objects.get(workspace=workspace).last_used_at is not None


def test_a_revoked_token_stops_working(make_client, workspace):
    api = make_client(["read"])
    ApiToken.objects.get(workspace=workspace).revoke()
    assert api.get("/avatars").status_code == 401


def test_an_expired_token_stops_working(make_client, workspace):
    from datetime import timedelta

    from django.utils import timezone

    api = make_client(["read"])
    ApiToken.objects.filter(workspace=workspace).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert api.get("/avatars").status_code == 401


def test_a_read_token_cannot_write(make_client):
    response = make_client(["read"]).post("/scripts", {"title": "Hi", "body": "Hello there."})
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_over_the_rate_limit_is_429_with_retry_after(make_client, settings):
    settings.API_RATE_LIMIT, settings.API_RATE_WINDOW_SECONDS = 2, 3600
    api = make_client(["read"])
    assert api.get("/avatars").status_code == 200
    assert api.get("/avatars").status_code == 200
    response = api.get("/avatars")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= settings.API_RATE_WINDOW_SECONDS


def test_the_rate_limit_counts_per_token(make_client, settings):
    settings.API_RATE_LIMIT, settings.API_RATE_WINDOW_SECONDS = 1, 3600
    first, second = make_client(["read"]), make_client(["read"])
    assert first.get("/avatars").status_code == 200
    assert first.get("/avatars").status_code == 429
    assert second.get("/avatars").status_code == 200


def test_a_bad_query_is_a_validation_problem(api):
    response = api.get("/avatars", {"limit": "0"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["errors"]


def test_a_made_up_cursor_is_refused(api):
    response = api.get("/avatars", {"cursor": "nonsense"})
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]


def test_the_command_prints_the_token_as_its_last_line(workspace, capsys):
    call_command("create_api_token", workspace=workspace.name, scopes="read,render")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.find(last)
    assert token.workspace == workspace and token.scopes == ["read", "render"]


def test_the_command_finds_a_workspace_by_id(workspace, capsys):
    call_command("create_api_token", workspace=str(workspace.pk), scopes="audit")
    assert ApiToken.find(capsys.readouterr().out.strip().splitlines()[-1]).scopes == ["audit"]


def test_the_command_refuses_an_unknown_scope(workspace):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command("create_api_token", workspace=workspace.name, scopes="read,admin")
    assert not ApiToken.objects.exists()


def test_an_owner_creates_a_token_shown_once(client, owner):
    client.force_login(owner.user)
    response = client.post("/settings/api/tokens/", {"name": "CRM", "scopes": ["read", "render"]})
    assert response.status_code == 200
    text = response.context["created"]
    assert ApiToken.find(text).name == "CRM"
    assert text not in client.get("/settings/api/tokens/").content.decode()


def test_an_owner_revokes_a_token(client, owner, make_client):
    api = make_client(["read"])
    client.force_login(owner.user)
    token = ApiToken.objects.get()
    client.post(f"/settings/api/tokens/{token.pk}/revoke/")
    assert api.get("/avatars").status_code == 401


def test_an_editor_cannot_manage_tokens(client, workspace):
    from accounts.models import Role
    from tests.factories import MembershipFactory

    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    assert client.get("/settings/api/tokens/").status_code == 403
