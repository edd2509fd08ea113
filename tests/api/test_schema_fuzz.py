"""Schemathesis against the live schema, in process: every operation, examples made from the
schema; no 500, every answer matches the schema (status, content type, body, headers)."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks as st_checks

from api import services
from api.webhooks import send_test_event
from campaigns import services as campaign_services
from config.wsgi import application
from lessons.models import Lesson
from tests.factories import MembershipFactory, ScriptFactory, SubjectFactory, finished_video


@pytest.fixture
def in_process(db, settings_fixture):
    # As Django's test client does: the WSGI app would close the test's database connection
    # at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def settings_fixture(settings):
    settings.API_RATE_LIMIT = 10**6
    settings.WEBHOOK_ALLOW_PRIVATE = False  # nothing generated may reach inward
    return settings


@pytest.fixture
def token(db, make_avatar):
    """A workspace with an avatar, a script and a finished render, and a token of every scope."""
    member = MembershipFactory()
    avatar = make_avatar(grant__subject=SubjectFactory(workspace=member.workspace))
    job = finished_video(avatar, extras=True).job
    script = ScriptFactory(workspace=member.workspace)
    endpoint = services.create_endpoint(
        workspace=member.workspace,
        url="https://hooks.example.com/likeness",
        events=["render.failed"],
    )
    delivery = send_test_event(endpoint)
    _token, text = services.create_token(
        workspace=member.workspace, name="fuzz", scopes=["read", "render", "manage", "audit"]
    )
    ids = {
        "avatar_id": avatar.pk,
        "script_id": script.pk,
        "render_id": job.pk,
        "grant_id": avatar.grant_id,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "campaign_id": campaign_services.create_campaign(
            workspace=member.workspace,
            user=None,
            name="Fuzz",
            script=script,
            avatar=avatar,
            purpose="marketing",
        ).pk,
        "lesson_id": Lesson.objects.create(
            workspace=member.workspace, title="Fuzz", avatar=avatar
        ).pk,
    }
    return {"text": text, "ids": ids}


# The schema as the running site serves it (loading it touches no database).
SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


def test_every_operation_is_fuzzed():
    assert len(OPERATIONS) >= 20


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_operation_conforms_to_the_schema(operation, token, in_process):
    @given(case=operation.as_strategy(), use_known=st.booleans())
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case, use_known):
        if use_known and case.path_parameters:  # half the examples name objects that exist
            known = token["ids"]
            case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
        headers = {"Authorization": f"Bearer {token['text']}"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
