"""Every response carries a Content-Security-Policy that allows scripts only from this site, and the
templates give it nothing to refuse: no inline script, no event handler attribute, no inline style
(the consent certificate, rendered to PDF and never served as a page, keeps its <style>)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentDocument, Purpose
from tests.factories import GrantFactory, SubjectFactory, finished_video

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered by WeasyPrint into the certificate PDF, never sent to a browser.
PDF_ONLY = {"consent/certificate.html"}


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_strict_policy(response, url: str) -> None:
    assert "Content-Security-Policy" in response, f"{url} answered without a CSP"
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"], url
    assert policy["default-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"], url
    assert policy["base-uri"] == ["'self'"], url
    assert policy["form-action"] == ["'self'"], url
    assert policy["frame-ancestors"] == ["'none'"], url
    assert not any("unsafe" in source for sources in policy.values() for source in sources), url


@pytest.fixture
def subject_token(member, portrait_png, speech_wav) -> str:
    """The token of a subject's consent link (the signing ceremony)."""
    now = timezone.now()
    _, token = services.invite_subject(
        subject=SubjectFactory(workspace=member.workspace),
        document=ConsentDocument.standard(),
        scope={
            "purposes": [Purpose.INTERNAL.value],
            "languages": ["en"],
            "channels": ["intranet"],
            "territory": "Worldwide",
            "valid_from": now - timedelta(minutes=1),
            "valid_until": now + timedelta(days=90),
            "forbidden_topics": [],
            "requires_script_approval": False,
            "compensation": "",
        },
        reference_portrait=SimpleUploadedFile("portrait.png", portrait_png),
        reference_voice=SimpleUploadedFile("voice.wav", speech_wav),
        invited_by=member.user,
        evidence=services.Evidence(ip="192.0.2.1", user_agent="pytest", user="owner"),
    )
    return token


@pytest.mark.django_db
def test_anonymous_pages_verify_share_and_the_subject_link_send_the_strict_policy(
    client, member, make_avatar, subject_token
):
    grant = GrantFactory(subject=SubjectFactory(workspace=member.workspace), channels=["website"])
    video = finished_video(make_avatar(grant=grant), extras=True)
    urls = [
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("provenance:verify"),
        reverse("share_page", args=[video.share_token]),
        reverse("share_video", args=[video.share_token]),
        reverse("consent:link_home", args=[subject_token]),
        "/admin/login/",
        "/no/such/page/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302, 404), url
        assert_strict_policy(response, url)
    assert client.get(urls[4]).status_code == 200  # the share page itself, not its 404


@pytest.mark.django_db
def test_a_members_pages_send_the_strict_policy(member_client, member, make_avatar):
    video = finished_video(
        make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=member.workspace)))
    )
    urls = [
        reverse("home"),
        reverse("consent:subject_list"),
        reverse("consent:audit_grants"),
        reverse("avatars:avatar_list"),
        reverse("studio:script_list"),
        reverse("rendering:job_list"),
        reverse("rendering:job_detail", args=[video.job_id]),
        reverse("rendering:job_status", args=[video.job_id]),
        reverse("accounts:members"),
        reverse("provenance:label_settings"),
        reverse("provenance:verify"),
    ]
    for url in urls:
        response = member_client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response, url)


@pytest.mark.django_db
def test_a_post_answer_and_an_api_answer_send_the_policy_too(client):
    response = client.post(reverse("provenance:verify_api"))
    assert response.status_code == 400
    assert_strict_policy(response, "verify/api")


def served_templates() -> list[Path]:
    paths = sorted(TEMPLATES.rglob("*.html"))
    assert len(paths) > 20  # the scan sees the site's templates
    return [p for p in paths if p.relative_to(TEMPLATES).as_posix() not in PDF_ONLY]


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[a-zA-Z][^>]*>")
HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "path", served_templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix()
)
def test_a_template_has_no_inline_script_handler_or_style(path):
    text = path.read_text()
    for attributes, body in SCRIPT.findall(text):
        assert "src=" in attributes, f"an inline <script> in {path.name}: move it to static/js/"
        assert not body.strip(), f"a <script src> with content in {path.name}"
    for tag in TAG.findall(text):
        assert not HANDLER.search(tag), f"an event handler attribute in {path.name}: {tag}"
        assert not re.search(r"\sstyle\s*=", tag), f"an inline style in {path.name}: {tag}"
    assert "<style" not in text.lower(), f"a <style> block in {path.name}: move it to static/css/"
    assert "javascript:" not in text.lower(), f"a javascript: URL in {path.name}"


def test_with_s3_storage_media_may_load_from_the_store_the_media_views_redirect_to(tmp_path):
    from tests.test_settings import _in_a_fresh_process

    code = "from django.conf import settings as s; print(s.SECURE_CSP['media-src'][1:])"
    store = {"STORAGE": "s3", "S3_BUCKET": "likeness"}
    minio = _in_a_fresh_process(code, tmp_path, **store, S3_ENDPOINT_URL="http://minio:9000/x")
    assert minio.stdout.strip() == "['blob:', 'http://minio:9000']", minio.stderr
    aws = _in_a_fresh_process(code, tmp_path, **store)
    assert aws.stdout.strip() == "['blob:', 'https://*.amazonaws.com']", aws.stderr
