"""Every URL that takes an id answers 404 for another workspace's ids, whatever the method."""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation, Role
from api.models import ApiToken, WebhookEndpoint
from api.webhooks import send_test_event
from campaigns import services as campaign_services
from lessons.models import Lesson, LessonScene
from studio.models import PronunciationEntry
from tests.factories import MembershipFactory, SubjectFactory, finished_video

pytestmark = pytest.mark.django_db

POST_ONLY_AT_LEAST = 9  # actions and forms: cancel, retry, revoke, review, delete...


def _named_patterns(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def id_taking_urls():
    for name, pattern in _named_patterns(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue  # staff-only; Django's admin has its own permission checks
        if name.startswith("api-v1:"):
            continue  # tokens, not sessions: tests/api/test_isolation.py walks the API's schema
        converters = getattr(pattern.pattern, "converters", {})
        if "token" in converters:
            continue  # capability links (subject's link, share pages): tests/consent covers them
        if converters:
            yield name, sorted(converters)


def test_every_id_taking_url_is_covered():
    names = {name for name, _ in id_taking_urls()}
    assert {"consent:grant_detail", "avatars:avatar_portrait", "rendering:job_video"} <= names


def test_every_url_with_another_workspaces_id_is_404(client, make_avatar):
    me = MembershipFactory()
    theirs = MembershipFactory()
    their_avatar = make_avatar(grant__subject=SubjectFactory(workspace=theirs.workspace))
    their_job = finished_video(their_avatar, extras=True).job
    their_grant = their_avatar.grant
    their_grant.signed_document.save("signed.pdf", ContentFile(b"%PDF-1.4 scan"), save=True)
    their_avatar.footage.save("footage.mp4", ContentFile(b"footage of the subject"), save=True)
    their_campaign = campaign_services.create_campaign(
        workspace=theirs.workspace,
        user=theirs.user,
        name="Spring visit",
        script=their_job.script,
        avatar=their_avatar,
        purpose="marketing",
    )
    their_lesson = Lesson.objects.create(workspace=theirs.workspace, title="Fire safety")
    their_scene = LessonScene.objects.create(lesson=their_lesson, position=1, script="Hello.")
    their_endpoint = WebhookEndpoint.objects.create(
        workspace=theirs.workspace, url="https://hooks.example.com/x", events=["render.failed"]
    )
    foreign_ids = {
        "subject_id": their_avatar.grant.subject_id,
        "grant_id": their_avatar.grant_id,
        "avatar_id": their_avatar.pk,
        "script_id": their_job.script_id,
        "job_id": their_job.pk,
        "workspace_id": theirs.workspace_id,
        "campaign_id": their_campaign.pk,
        "lesson_id": their_lesson.pk,
        "scene_id": their_scene.pk,
        "action": "duplicate",  # a scene's actions: up, down, duplicate, delete, preview
        "version": "2004",  # a lesson's SCORM package
        "kind": "signed-document",  # evidence files of a consent (the scan exists: see above)
        "endpoint_id": their_endpoint.pk,
        "delivery_id": send_test_event(their_endpoint).pk,
        "webhook_action": "test",
        "api_token_id": ApiToken.issue(
            workspace=theirs.workspace, name="Their CRM", scopes=["read"]
        )[0].pk,
        "pronunciation_id": PronunciationEntry.objects.create(
            workspace=theirs.workspace, word="SQL", respelling="sequel"
        ).pk,
        # An invitation of their workspace, addressed to them: neither mine to revoke nor to answer.
        "invitation_id": Invitation.objects.create(
            workspace=theirs.workspace,
            recipient=theirs.user.username,
            role=Role.EDITOR,
            expires_at=Invitation.default_expiry(),
        ).pk,
    }
    urls = []
    for name, kwargs in id_taking_urls():
        missing = set(kwargs) - set(foreign_ids)
        assert not missing, f"{name} takes {missing}: add a foreign object for it to this test"
        urls.append(reverse(name, kwargs={k: foreign_ids[k] for k in kwargs}))
    client.force_login(me.user)
    checked = 0
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (404, 405), (
                f"{method.__name__.upper()} {url} → {response.status_code}"
            )
            if response.status_code == 405:
                continue
            checked += 1
    assert checked >= 10
    # Their own workspace reaches every one with the method it accepts (after the checks above,
    # so that a POST that acts cannot hide anything from them), so each 404 above is the
    # workspace boundary's doing, not a URL that answers 404 to everyone.
    client.force_login(theirs.user)
    posted = 0
    for url in urls:
        response = client.get(url)
        if response.status_code == 405:  # POST-only: an action or a form
            response, posted = client.post(url), posted + 1
            assert response.status_code != 405, f"{url} accepts neither GET nor POST"
        assert response.status_code != 404, f"{url} is 404 even for its owner"
    assert posted >= POST_ONLY_AT_LEAST, posted


def billing_urls():
    """The billing pages (none takes an id: each shows the current workspace's account)."""
    for name, _pattern in _named_patterns(get_resolver().url_patterns):
        if name.startswith("billing:") and name != "billing:webhook":
            yield name, reverse(name)


def test_billing_pages_show_only_the_current_workspaces_credits_and_payments(client, settings):
    from billing.models import BillingAccount, CreditPack
    from billing.services import adjust
    from tests.billing.stripe_fake import STATE

    settings.STRIPE_SECRET_KEY = "sk_test_isolation"
    settings.STRIPE_HTTP_CLIENT = "tests.billing.stripe_fake.http_client"
    STATE.reset()
    me, theirs = MembershipFactory(), MembershipFactory()
    adjust(theirs.workspace, milliseconds=7_654_321, user=theirs.user, reason="Their goodwill")
    BillingAccount.objects.filter(workspace=theirs.workspace).update(
        stripe_customer_id="cus_their_customer"
    )
    their_invoice = STATE.invoice(customer="cus_their_customer", subscription="sub_x", price="p")
    pack = CreditPack.objects.create(
        name="P", stripe_price_id="price_p", price_label="$1", seconds=9
    )
    client.force_login(theirs.user)
    client.post(reverse("billing:checkout"), {"pack": pack.pk})  # their Checkout, then paid
    (their_session,) = STATE.sessions
    STATE.pay(their_session)
    names = {name for name, _ in billing_urls()}
    assert {"billing:overview", "billing:plans", "billing:checkout_success"} <= names
    client.force_login(me.user)
    for name, url in billing_urls():
        response = client.get(url, {"session_id": their_session}, follow=True)
        if response.status_code == 405:  # checkout, portal: their forms refuse what I send
            response = client.post(url, {"session_id": their_session}, follow=True)
        assert response.status_code in (200, 404), f"{name} → {response.status_code}"
        body = response.content.decode()
        for secret in ("7654.321", "Their goodwill", "cus_their_customer", their_invoice["number"]):
            assert secret not in body, f"{name} shows another workspace's {secret}"
    # Their paid session, opened by me, credits no one (their own return or webhook will).
    assert BillingAccount.objects.get(workspace=theirs.workspace).balance_ms() == 7_654_321
    assert BillingAccount.objects.get(workspace=me.workspace).balance_ms() == 0
