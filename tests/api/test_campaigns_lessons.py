"""Campaigns (recipients as JSON, progress, export, completion event) and lessons (scenes,
render, SCORM) through the API."""

import io
import json
import zipfile

import pytest

from api import events
from api.models import WebhookMessage
from campaigns.models import Campaign
from lessons.models import Lesson
from rendering.models import RenderJob
from tests.factories import ScriptFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def avatar(make_avatar, workspace):
    return make_avatar(grant__subject=SubjectFactory(workspace=workspace))


@pytest.fixture
def template(workspace):
    return ScriptFactory(workspace=workspace, body="Hello {{first_name}}, welcome to the team.")


def _campaign(api, avatar, template, recipients, launch=False):
    return api.post(
        "/campaigns",
        {
            "name": "Welcome",
            "script_id": template.pk,
            "avatar_id": avatar.pk,
            "purpose": "marketing",
            "recipients": recipients,
            "launch": launch,
        },
    )


def test_a_campaign_is_created_and_launched_with_recipients_as_json(api, avatar, template):
    response = _campaign(
        api, avatar, template, [{"first_name": "Ada"}, {"first_name": "Lin"}], True
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "launched" and body["fields"] == ["first_name"]
    assert body["counts"]["total"] == 2 and body["counts"]["queued"] == 2
    texts = sorted(RenderJob.objects.values_list("script_text", flat=True))
    assert texts == ["Hello Ada, welcome to the team.", "Hello Lin, welcome to the team."]


def test_a_bad_recipient_list_keeps_nothing(api, avatar, template):
    response = _campaign(api, avatar, template, [{"first_name": "Ada"}, {"surname": "X"}])
    assert response.status_code == 422
    assert not Campaign.objects.exists()


def test_a_list_of_empty_rows_is_refused_as_the_page_refuses_it(api, avatar, template):
    response = _campaign(api, avatar, template, [{"first_name": ""}])
    assert response.status_code == 422
    assert response.json()["code"] == "recipients_invalid"
    assert not Campaign.objects.exists()


def test_a_campaign_refused_by_consent_is_not_kept(api, make_avatar, workspace, template):
    avatar = make_avatar(
        grant__subject=SubjectFactory(workspace=workspace), grant__purposes=["training"]
    )
    response = _campaign(api, avatar, template, [{"first_name": "Ada"}], launch=True)
    assert response.status_code == 422
    assert "marketing" in response.json()["detail"].lower()
    assert not Campaign.objects.exists()


def test_progress_export_and_the_completion_event(api, avatar, template, receiver):
    api.post("/webhook-endpoints", {"url": receiver.url, "events": ["campaign.completed"]})
    campaign_id = _campaign(api, avatar, template, [{"first_name": "Ada"}], True).json()["id"]
    events.campaign_maybe_completed(campaign_id)
    assert not WebhookMessage.objects.filter(event="campaign.completed").exists()
    RenderJob.objects.update(status=RenderJob.Status.SUCCEEDED, progress=1.0)
    events.campaign_maybe_completed(campaign_id)
    events.campaign_maybe_completed(campaign_id)  # once only
    message = WebhookMessage.objects.get(event="campaign.completed")
    assert message.payload["campaign"]["counts"]["done"] == 1
    body = api.get(f"/campaigns/{campaign_id}").json()
    assert body["finished"] and body["percent"] == 100
    export = api.get(f"/campaigns/{campaign_id}/export")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "Ada" in export.content.decode()


def test_a_lesson_is_created_rendered_and_packaged(api, avatar, client):
    response = api.post(
        "/lessons",
        {
            "title": "Fire safety",
            "avatar_id": avatar.pk,
            "scenes": [{"script": "Where the exits are.", "title": "Exits"}, {"script": "Alarms."}],
        },
    )
    assert response.status_code == 201, response.json()
    lesson_id = response.json()["id"]
    assert [s["title"] for s in response.json()["scenes"]] == ["Exits", ""]
    assert api.get(f"/lessons/{lesson_id}/scorm").json()["code"] == "not_ready"
    rendered = api.post(f"/lessons/{lesson_id}/render")
    assert rendered.status_code == 201, rendered.json()
    job = RenderJob.objects.get(pk=rendered.json()["id"])
    assert job.purpose == "training" and job.part_of == Lesson.objects.get().part_of
    # The worker's part, done here: the job's video published.
    job.delete()
    video = finished_video(avatar, extras=True)
    RenderJob.objects.filter(pk=video.job_id).update(
        part_of=Lesson.objects.get().part_of, purpose="training"
    )
    links = api.get(f"/lessons/{lesson_id}/scorm").json()
    package = client.get(links["scorm_2004"])
    assert package.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(package.streaming_content))).namelist()
    assert "imsmanifest.xml" in names


def test_a_lesson_without_words_is_refused(api, avatar):
    lesson_id = api.post(
        "/lessons", {"title": "Quiet", "avatar_id": avatar.pk, "scenes": [{"script": " "}]}
    ).json()["id"]
    response = api.post(f"/lessons/{lesson_id}/render")
    assert response.status_code == 422
    assert json.loads(response.content)["code"] == "lesson_refused"
