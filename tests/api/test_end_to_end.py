"""The whole round trip a CRM makes: a render through the API, the signed webhook it receives
when the video is ready, and the MP4 downloaded from the link the API hands out."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from rendering.workers import drain_queue
from tests.factories import GrantFactory, SubjectFactory
from tests.media import ffprobe, stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_render_webhook_download(
    make_client, workspace, make_avatar, receiver, settings, client, tmp_path
):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 128
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=workspace)))
    api = make_client(["read", "render", "manage"])
    endpoint = api.post(
        "/webhook-endpoints", {"url": receiver.url, "events": ["render.succeeded"]}
    ).json()

    created = api.post(
        "/renders",
        {"avatar_id": avatar.pk, "purpose": "internal", "text": "Hello from the API."},
        headers={"Idempotency-Key": "crm-order-1"},
    )
    assert created.status_code == 201, created.json()
    render_id = created.json()["id"]

    drain_queue()  # the worker renders, publishes, and the webhook delivery task runs

    assert api.get(f"/renders/{render_id}").json()["status"] == "succeeded"
    [request] = receiver.requests
    event = Webhook(endpoint["secret"]).verify(request["body"], request["headers"])
    assert event["type"] == "render.succeeded"
    assert event["data"]["render"]["id"] == render_id
    assert json.loads(request["body"]) == event

    links = api.get(f"/renders/{render_id}/downloads").json()
    response = client.get(links["mp4"])
    assert response.status_code == 200
    path = tmp_path / "downloaded.mp4"
    path.write_bytes(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    info = ffprobe(path)
    assert stream(info, "video")["codec_name"] == "h264"
    assert stream(info, "audio")["codec_name"] == "aac"
    captions = client.get(links["captions_vtt"])
    assert captions.status_code == 200
