"""Private media on an S3-compatible store: moto's server mode over real HTTP."""

import socket
import urllib.request
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from moto.server import ThreadedMotoServer

from consent.models import Purpose
from core.crypto import MAGIC
from rendering.models import RenderJob
from rendering.services import submit_render
from rendering.workers import drain_queue
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

BUCKET = "likeness-media"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 120,
                "file_overwrite": False,
                **CREDENTIALS,
            },
        },
    }
    return storages["default"]


def bucket_keys(storage) -> set[str]:
    return {item.key for item in storage.bucket.objects.all()}


def fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url) as response:  # noqa: S310 (our own local moto endpoint)
        return response.read(), dict(response.headers)


@pytest.mark.django_db(transaction=True)
def test_uploads_and_renders_live_in_the_bucket_and_are_served_by_expiring_signed_urls(
    s3_storage, client, make_avatar, media_root, settings
):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory()))
    workspace = avatar.workspace
    owner = MembershipFactory(workspace=workspace)
    assert avatar.portrait.name in bucket_keys(s3_storage)
    assert not any(media_root.rglob("*")), "nothing may land on the local disk"

    script = ScriptFactory(workspace=workspace, body="Stored far away, rendered here.")
    job = submit_render(
        workspace=workspace, user=owner.user, avatar=avatar, script=script, purpose=Purpose.INTERNAL
    )
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    assert {job.video.file.name, job.video.poster.name} <= bucket_keys(s3_storage)

    client.force_login(owner.user)
    response = client.get(reverse("rendering:job_video", args=[job.pk]) + "?download=1")
    assert response.status_code == 302
    signed = urlparse(response["Location"])
    query = parse_qs(signed.query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert query["response-content-disposition"][0].startswith("attachment;")
    body, headers = fetch(response["Location"])
    assert body[4:8] == b"ftyp" and len(body) == job.video.size_bytes
    assert headers["Content-Disposition"].startswith("attachment;")

    client.logout()  # the share page's poster is public, for email and chat previews
    poster = client.get(reverse("share_poster", args=[job.video.share_token]))
    assert poster.status_code == 302
    assert fetch(poster["Location"])[0][:3] == b"\xff\xd8\xff"  # a JPEG
    client.force_login(owner.user)

    # Likeness files are ciphertext in the bucket (no PNG or RIFF magic), so they never get a
    # signed URL: the site decrypts and streams them to members allowed to see them.
    for stored in (avatar.portrait, avatar.voice_sample):
        raw = s3_storage.bucket.Object(stored.name).get()["Body"].read()
        assert raw.startswith(MAGIC) and b"PNG" not in raw[:64] and b"RIFF" not in raw[:64]
    portrait = client.get(reverse("avatars:avatar_portrait", args=[avatar.pk]))
    assert portrait.status_code == 200
    assert b"".join(portrait.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
