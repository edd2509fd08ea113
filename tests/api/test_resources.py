"""Avatars, scripts, renders, consent grants and verify through the API."""

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from api.models import IdempotencyRecord
from rendering.models import RenderJob
from studio.models import Script
from tests.factories import ScriptFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def avatar(make_avatar, workspace):
    return make_avatar(grant__subject=SubjectFactory(workspace=workspace))


def test_avatars_are_listed_without_biometric_files(api, avatar):
    body = api.get("/avatars").json()
    assert [item["id"] for item in body["items"]] == [avatar.pk]
    assert set(body["items"][0]) == {
        "id",
        "name",
        "status",
        "enabled",
        "kind",
        "consent_grant_id",
        "created_at",
    }
    assert api.get(f"/avatars/{avatar.pk}").json()["name"] == avatar.name
    assert body["items"][0]["kind"] == "photo"
    avatar.footage.save("footage.mp4", ContentFile(b"minutes of the subject"), save=True)
    assert api.get(f"/avatars/{avatar.pk}").json()["kind"] == "footage"


def test_lists_page_with_a_cursor(api, workspace):
    scripts = [ScriptFactory(workspace=workspace) for _ in range(5)]
    first = api.get("/scripts", {"limit": 2}).json()
    second = api.get("/scripts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/scripts", {"limit": 2, "cursor": second["next_cursor"]}).json()
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert ids == sorted((s.pk for s in scripts), reverse=True)
    assert third["next_cursor"] is None


def test_a_script_is_created_read_updated_and_deleted(api, workspace):
    created = api.post("/scripts", {"title": "Welcome", "body": "Hello and welcome."})
    assert created.status_code == 201
    script_id = created.json()["id"]
    assert api.get(f"/scripts/{script_id}").json()["body"] == "Hello and welcome."
    patched = api.patch(f"/scripts/{script_id}", {"body": "Hello again."})
    assert patched.json() | {"title": "Welcome", "body": "Hello again."} == patched.json()
    assert api.delete(f"/scripts/{script_id}").status_code == 204
    assert not Script.objects.filter(pk=script_id).exists()


def test_a_script_is_validated_like_the_page_does(api, workspace):
    response = api.post("/scripts", {"title": "Silence", "body": "[pause 2s]"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "no words to speak" in response.json()["detail"]
    assert not Script.objects.exists()


def test_a_script_with_renders_is_kept(api, avatar):
    job = finished_video(avatar).job
    response = api.delete(f"/scripts/{job.script_id}")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_a_render_is_created_from_text(api, avatar):
    response = api.post(
        "/renders", {"avatar_id": avatar.pk, "purpose": "internal", "text": "Hello team."}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == 0
    job = RenderJob.objects.get(pk=body["id"])
    assert job.script.body == "Hello team." and job.script.workspace == avatar.workspace


def test_a_render_is_created_from_a_script(api, avatar, workspace):
    script = ScriptFactory(workspace=workspace)
    response = api.post(
        "/renders", {"avatar_id": avatar.pk, "purpose": "training", "script_id": script.pk}
    )
    assert response.status_code == 201
    assert RenderJob.objects.get(pk=response.json()["id"]).script == script


def test_a_render_needs_exactly_one_of_script_and_text(api, avatar, workspace):
    script = ScriptFactory(workspace=workspace)
    both = {"avatar_id": avatar.pk, "purpose": "internal", "script_id": script.pk, "text": "Hi."}
    assert api.post("/renders", both).json()["code"] == "validation_error"
    neither = {"avatar_id": avatar.pk, "purpose": "internal"}
    assert api.post("/renders", neither).status_code == 422


def test_the_consent_policy_refuses_with_its_reason(api, make_avatar, workspace):
    avatar = make_avatar(
        grant__subject=SubjectFactory(workspace=workspace), grant__purposes=["training"]
    )
    response = api.post(
        "/renders", {"avatar_id": avatar.pk, "purpose": "marketing", "text": "Buy now."}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "consent_refused"
    assert "marketing" in body["detail"].lower()
    assert not RenderJob.objects.exists()
    assert not Script.objects.exists()  # the text's script went with the refused render


def test_a_revoked_consent_refuses_renders(api, avatar):
    from consent.models import ConsentGrant

    ConsentGrant.objects.filter(pk=avatar.grant_id).update(
        status=ConsentGrant.Status.REVOKED, revoked_at=timezone.now()
    )
    response = api.post("/renders", {"avatar_id": avatar.pk, "purpose": "internal", "text": "Hi."})
    assert response.json()["code"] == "consent_refused"


def _render(api, avatar, key, text="Hello team."):
    return api.post(
        "/renders",
        {"avatar_id": avatar.pk, "purpose": "internal", "text": text},
        headers={"Idempotency-Key": key},
    )


def test_the_same_key_and_body_replay_the_first_answer(api, avatar):
    first, again = _render(api, avatar, "k-1"), _render(api, avatar, "k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert RenderJob.objects.count() == 1


def test_the_same_key_with_another_body_is_422(api, avatar):
    _render(api, avatar, "k-2")
    response = _render(api, avatar, "k-2", text="Something else.")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert RenderJob.objects.count() == 1


def test_a_key_still_in_flight_is_409(api, avatar, workspace):
    from api.idempotency import _digest

    class Request:
        method, path = "POST", "/api/v1/renders"

    payload = {
        "avatar_id": avatar.pk,
        "purpose": "internal",
        "script_id": None,
        "text": "Hello team.",
        "title": None,
    }
    IdempotencyRecord.objects.create(
        workspace=workspace, key="k-3", request_sha256=_digest(Request, payload)
    )
    response = _render(api, avatar, "k-3")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_flight"
    assert not RenderJob.objects.exists()


def test_a_refusal_is_replayed_too(api, make_avatar, workspace):
    avatar = make_avatar(
        grant__subject=SubjectFactory(workspace=workspace), grant__purposes=["training"]
    )
    first, again = _render(api, avatar, "k-4"), _render(api, avatar, "k-4")
    assert first.json()["code"] == again.json()["code"] == "consent_refused"


def test_a_render_shows_status_stage_and_progress(api, avatar):
    job = finished_video(avatar, extras=True).job
    body = api.get(f"/renders/{job.pk}").json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["video"]["seconds"] == 2.0 and body["withdrawn"] is None
    assert [r["id"] for r in api.get("/renders").json()["items"]] == [job.pk]
    assert api.get("/renders", {"status": "failed"}).json()["items"] == []


def test_a_queued_render_is_cancelled(api, avatar):
    job_id = _render(api, avatar, "k-5").json()["id"]
    response = api.post(f"/renders/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = api.post(f"/renders/{job_id}/cancel")
    assert again.status_code == 409


def test_downloads_are_short_lived_links(api, avatar, client, settings):
    job = finished_video(avatar, extras=True).job
    links = api.get(f"/renders/{job.pk}/downloads").json()
    mp4 = client.get(links["mp4"])
    assert mp4.status_code == 200 and mp4["Content-Type"] == "video/mp4"
    assert b"".join(mp4.streaming_content if mp4.streaming else [mp4.content]).startswith(
        b"\x00\x00\x00\x18ftyp"
    )
    assert client.get(links["captions_vtt"]).status_code == 200
    settings.API_DOWNLOAD_SECONDS = -1  # every link given so far has expired
    assert client.get(links["mp4"]).status_code == 404


def test_a_tampered_download_link_is_404(api, avatar, client):
    job = finished_video(avatar, extras=True).job
    link = api.get(f"/renders/{job.pk}/downloads").json()["mp4"]
    assert client.get(link[:-3] + "abc").status_code == 404


def test_an_unfinished_render_has_no_downloads(api, avatar):
    job_id = _render(api, avatar, "k-6").json()["id"]
    assert api.get(f"/renders/{job_id}/downloads").json()["code"] == "not_ready"


def test_a_withdrawn_video_is_gone(api, avatar, client):
    from consent.models import ConsentGrant

    job = finished_video(avatar, extras=True).job
    link = api.get(f"/renders/{job.pk}/downloads").json()["mp4"]
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(
        status=ConsentGrant.Status.REVOKED, revoked_at=timezone.now()
    )
    assert api.get(f"/renders/{job.pk}/downloads").status_code == 410
    assert client.get(link).status_code == 410


def test_consent_grants_are_read_with_the_audit_scope(make_client, avatar):
    body = make_client(["audit"]).get(f"/consent-grants/{avatar.grant_id}").json()
    assert body["status"] == "active" and "marketing" in body["purposes"]
    assert make_client(["read"]).get("/consent-grants").status_code == 403


def test_verify_answers_like_the_public_api(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("notes.txt", b"not a video at all")
    response = api.post("/verify", {"file": upload}, format="multipart")
    assert response.status_code == 422
    assert response.json()["code"]


def test_a_flagged_script_is_held_and_its_render_refused(api, avatar):
    from consent.models import ScreeningReview

    text = "Hi team. Buy four g1ft c@rds and send me the codes on the back today."
    assert api.post("/scripts", {"title": "Favour", "body": text}).status_code == 201
    assert ScreeningReview.objects.get().status == ScreeningReview.Status.HELD
    script_id = Script.objects.get().pk
    response = api.post(
        "/renders", {"avatar_id": avatar.pk, "purpose": "internal", "script_id": script_id}
    )
    assert response.status_code == 422 and response.json()["code"] == "consent_refused"


def test_what_a_token_makes_is_recorded_as_its_creators(client, owner, avatar):
    from api import services
    from tests.api.conftest import ApiClient

    _token, text = services.create_token(
        workspace=owner.workspace, name="CRM", scopes=["render"], by=owner.user
    )
    response = ApiClient(client, text).post(
        "/renders", {"avatar_id": avatar.pk, "purpose": "internal", "text": "Hello."}
    )
    job = RenderJob.objects.get(pk=response.json()["id"])
    assert job.created_by == owner.user and job.script.created_by == owner.user
