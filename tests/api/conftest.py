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


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each request and answers with the next
    status of ``answers`` (then 200); ``headers`` are sent with every answer."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests, self.answers, self.headers = [], [], {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    status = outer.answers.pop(0) if outer.answers else 200
                    outer.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "status": status,
                        }
                    )
                self.send_response(status)
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    @property
    def accepted(self):
        return [r for r in self.requests if 200 <= r["status"] < 300]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    found = Receiver()
    yield found
    found.close()
