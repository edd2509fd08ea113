"""Every API operation that takes an id answers 404 to another workspace's token, whatever the
method; every operation refuses a token without its scope."""

import re

import pytest

from api.api import api as ninja_api
from api.models import Scope
from api.webhooks import send_test_event
from campaigns import services as campaign_services
from lessons.models import Lesson
from tests.factories import MembershipFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db

MIN_ID_OPERATIONS = 12


def operations():
    """(method, path template, scope) of every operation in the live schema."""
    schema = ninja_api.get_openapi_schema()
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            scope = _scope_of(path, method)
            found.append((method, path.removeprefix("/api/v1"), scope, operation))
    return found


def _scope_of(path: str, method: str) -> str:
    """The scope the resolver's view asks for (read off the operation's auth)."""
    for route_path, path_view in _path_views():
        if route_path == path:
            for operation in path_view.operations:
                if method.upper() in operation.methods:
                    return operation.auth_callbacks[0].scope
    raise AssertionError(f"{method} {path} not found")


def _path_views():
    for prefix, router in ninja_api._routers:
        for route, path_view in router.path_operations.items():
            yield (
                "/api/v1" + (prefix.rstrip("/") + "/" + route.lstrip("/")).replace("//", "/"),
                path_view,
            )


@pytest.fixture
def theirs(make_avatar, receiver):
    them = MembershipFactory()
    avatar = make_avatar(grant__subject=SubjectFactory(workspace=them.workspace))
    job = finished_video(avatar, extras=True).job
    campaign = campaign_services.create_campaign(
        workspace=them.workspace,
        user=them.user,
        name="Spring",
        script=job.script,
        avatar=avatar,
        purpose="marketing",
    )
    from api.services import create_endpoint

    lesson = Lesson.objects.create(workspace=them.workspace, title="Fire safety", avatar=avatar)
    endpoint = create_endpoint(workspace=them.workspace, url=receiver.url, events=["render.failed"])
    delivery = send_test_event(endpoint)
    return {
        "avatar_id": avatar.pk,
        "script_id": job.script_id,
        "render_id": job.pk,
        "grant_id": avatar.grant_id,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "campaign_id": campaign.pk,
        "lesson_id": lesson.pk,
        "workspace": them.workspace,
    }


def _bodies():
    return {
        "/scripts/{script_id}": {"title": "Mine now"},
        "/webhook-endpoints/{endpoint_id}": {"description": "Mine now"},
    }


def test_every_id_taking_operation_is_404_with_another_workspaces_ids(make_client, theirs):
    api = make_client()  # every scope, of my workspace
    checked = 0
    for method, path, _scope, _operation in operations():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        missing = set(names) - set(theirs)
        assert not missing, f"{path} takes {missing}: add a foreign object for it to this test"
        url = path.format(**{name: theirs[name] for name in names})
        body = _bodies().get(path, {})
        call = getattr(api, method)
        response = call(url, body) if method in ("post", "patch") else call(url)
        assert response.status_code == 404, f"{method.upper()} {url} → {response.status_code}"
        assert response.json()["code"] == "not_found"
        checked += 1
    assert checked >= MIN_ID_OPERATIONS


def test_their_own_token_reaches_every_one(make_client, theirs, client):
    """So each 404 above is the workspace boundary's doing, not an operation that 404s to all."""
    api = make_client(workspace=theirs["workspace"])
    for method, path, _scope, _operation in operations():
        names = re.findall(r"{(\w+)}", path)
        if not names or method == "delete":
            continue
        url = path.format(**{name: theirs[name] for name in names})
        call = getattr(api, method)
        response = call(url, _bodies().get(path, {})) if method in ("post", "patch") else call(url)
        assert response.status_code != 404, f"{method.upper()} {url} is 404 for its owner"


@pytest.mark.parametrize("scope", Scope.values)
def test_every_operation_refuses_a_token_without_its_scope(make_client, scope, theirs):
    others = [s for s in Scope.values if s != scope]
    api = make_client(others, workspace=theirs["workspace"])
    refused = 0
    for method, path, needed, _operation in operations():
        if needed != scope:
            continue
        names = re.findall(r"{(\w+)}", path)
        url = path.format(**{name: theirs[name] for name in names})
        call = getattr(api, method)
        response = call(url, {}) if method in ("post", "patch") else call(url)
        assert response.status_code == 403, f"{method.upper()} {url} → {response.status_code}"
        assert response.json()["code"] == "insufficient_scope"
        refused += 1
    assert refused >= 1


def test_operations_without_a_token_are_401(client):
    for method, path, _scope, _operation in operations():
        url = "/api/v1" + re.sub(r"{\w+}", "1", path)
        response = getattr(client, method)(url)
        assert response.status_code == 401, f"{method.upper()} {url} → {response.status_code}"


def test_no_operation_is_without_auth():
    for method, path, _scope, operation in operations():
        assert operation.get("security"), f"{method.upper()} {path} has no security"
