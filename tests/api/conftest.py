"""A workspace, its tokens, and a client that speaks to /api/v1/ with one."""

import pytest

from api import services
from api.models import Scope
from tests.factories import MembershipFactory

ALL_SCOPES = list(Scope.values)


class ApiClient:
    """Django's test client with a bearer token on every call."""

    def __init__(self, client, text: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {text}"}

    def _call(self, method: str, path: str, data=None, headers=None, **kwargs):
        merged = {**self.headers, **(headers or {})}
        call = getattr(self.client, method)
        if data is not None and method in ("post", "patch", "put") and "format" not in kwargs:
            return call(f"/api/v1{path}", data, content_type="application/json", headers=merged)
        kwargs.pop("format", None)
        if data is not None:
            return call(f"/api/v1{path}", data, headers=merged, **kwargs)
        return call(f"/api/v1{path}", headers=merged, **kwargs)

    def get(self, path, data=None, **kw):
        return self._call("get", path, data, **kw)

    def post(self, path, data=None, **kw):
        return self._call("post", path, data, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def owner(db):
    return MembershipFactory()


@pytest.fixture
def workspace(owner):
    return owner.workspace


@pytest.fixture
def make_client(client, workspace):
    def make(scopes=ALL_SCOPES, *, workspace=workspace):
        _token, text = services.create_token(workspace=workspace, name="test", scopes=scopes)
        return ApiClient(client, text)

    return make


@pytest.fixture
def api(make_client):
    """A client whose token has every scope."""
    return make_client()
