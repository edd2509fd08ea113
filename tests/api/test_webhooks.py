"""Webhooks: signed per Standard Webhooks, retried on schedule, never sent inward."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from standardwebhooks.webhooks import Webhook

from api import events, webhooks
from api.models import WebhookDelivery, WebhookEndpoint
from tests.factories import SubjectFactory, finished_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def avatar(make_avatar, workspace):
    return make_avatar(grant__subject=SubjectFactory(workspace=workspace))


def _endpoint(api, url, events_=("render.succeeded", "render.failed")):
    response = api.post("/webhook-endpoints", {"url": url, "events": list(events_)})
    assert response.status_code == 201, response.json()
    return response.json()


def _run_queue():
    """Run every pending delivery once, as the task queue would."""
    for delivery in WebhookDelivery.objects.filter(status="pending", next_attempt_at__isnull=False):
        webhooks.attempt(delivery.pk)


def test_a_render_event_is_signed_per_standard_webhooks(api, avatar, receiver):
    created = _endpoint(api, receiver.url)
    assert created["secret"].startswith("whsec_")
    job = finished_video(avatar, extras=True).job
    events.render_finished(job.pk)
    _run_queue()
    [request] = receiver.requests
    payload = Webhook(created["secret"]).verify(request["body"], request["headers"])
    assert payload["type"] == "render.succeeded"
    assert payload["data"]["render"]["id"] == job.pk
    assert request["headers"]["webhook-id"].startswith("msg_")


def test_the_secret_is_shown_only_when_created(api, receiver):
    created = _endpoint(api, receiver.url)
    assert "secret" not in api.get(f"/webhook-endpoints/{created['id']}").json()


def test_a_receiver_that_fails_twice_gets_one_accepted_delivery(api, avatar, receiver):
    _endpoint(api, receiver.url)
    receiver.answers = [500, 503]
    job = finished_video(avatar).job
    events.render_finished(job.pk)
    events.render_finished(job.pk)  # the same event twice is still one event
    delivery = WebhookDelivery.objects.get()
    statuses = [webhooks.attempt(delivery.pk) for _ in range(3)]
    assert statuses == ["pending", "pending", "succeeded"]
    assert webhooks.attempt(delivery.pk) == "succeeded"  # a late copy of the task sends nothing
    assert len(receiver.requests) == 3
    assert len(receiver.accepted) == 1
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # every try is the same message, so a receiver can dedupe
    assert [a.status_code for a in delivery.log.order_by("at")] == [500, 503, 200]


def test_a_failed_try_is_scheduled_by_the_published_schedule(api, avatar, receiver):
    _endpoint(api, receiver.url)
    receiver.answers = [500]
    events.render_finished(finished_video(avatar).job.pk)
    delivery = WebhookDelivery.objects.get()
    webhooks.attempt(delivery.pk)
    delivery.refresh_from_db()
    delay = delivery.next_attempt_at - delivery.log.get().at
    assert timedelta(seconds=4) < delay < timedelta(seconds=6)


def test_the_schedule_lasts_about_three_days(api):
    total = sum(webhooks.RETRY_SCHEDULE, timedelta())
    assert timedelta(days=2, hours=12) < total < timedelta(days=3, hours=12)
    published = api.get("/webhook-events").json()["retry_schedule_seconds"]
    assert sum(published) == total.total_seconds()


def test_after_the_last_try_the_delivery_has_failed(api, avatar, receiver):
    _endpoint(api, receiver.url)
    receiver.answers = [500] * len(webhooks.RETRY_SCHEDULE)
    events.render_finished(finished_video(avatar).job.pk)
    delivery = WebhookDelivery.objects.get()
    for _ in webhooks.RETRY_SCHEDULE:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at="2000-01-01T00:00Z")
        status = webhooks.attempt(delivery.pk)
    assert status == "failed"
    assert len(receiver.requests) == len(webhooks.RETRY_SCHEDULE)


def test_a_410_disables_the_endpoint_and_tells_the_owners(api, avatar, receiver, owner):
    created = _endpoint(api, receiver.url)
    receiver.answers = [410]
    events.render_finished(finished_video(avatar).job.pk)
    mail.outbox.clear()
    _run_queue()
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == "failed"
    assert [m.to for m in mail.outbox] == [[owner.user.email]]
    events.render_finished(finished_video(avatar).job.pk)
    assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets nothing more


def test_redirects_are_not_followed(api, avatar, receiver):
    _endpoint(api, receiver.url)
    receiver.answers = [302]
    receiver.headers = {"Location": receiver.url + "/elsewhere"}
    events.render_finished(finished_video(avatar).job.pk)
    _run_queue()
    assert [r["path"] for r in receiver.requests] == ["/hooks"]
    assert WebhookDelivery.objects.get().last_status_code == 302


def test_a_receiver_that_does_not_answer_times_out(api, avatar, settings):
    import socket

    settings.WEBHOOK_ALLOW_PRIVATE, settings.WEBHOOK_TIMEOUT_SECONDS = True, 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        _endpoint(api, f"http://127.0.0.1:{silent.getsockname()[1]}/")
        events.render_finished(finished_video(avatar).job.pk)
        _run_queue()
    finally:
        silent.close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "timed out" in delivery.last_error.lower()


def test_delivery_refuses_a_private_address_when_it_connects(api, avatar, receiver, settings):
    _endpoint(api, receiver.url)  # allowed while saving (as a name that later resolves inward)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    events.render_finished(finished_video(avatar).job.pk)
    _run_queue()
    assert receiver.requests == []
    assert "not public" in WebhookDelivery.objects.get().last_error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104  (an address refused, not one bound)
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_inward_addresses_are_refused(address, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert not webhooks.address_allowed(address)


def test_a_public_address_is_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert webhooks.address_allowed("93.184.215.14")
    assert webhooks.address_allowed("2606:4700::1111")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8000/",
        "ftp://example.com/",
        "http://10.0.0.5/hook",
        "http://user:pw@example.com/",
    ],
)
def test_an_inward_or_odd_url_is_refused_when_saved(api, url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = api.post("/webhook-endpoints", {"url": url, "events": ["render.failed"]})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert not WebhookEndpoint.objects.exists()


def test_a_rotated_secret_overlaps_with_the_old_one(api, avatar, receiver):
    created = _endpoint(api, receiver.url)
    rotated = api.post(f"/webhook-endpoints/{created['id']}/rotate-secret").json()
    assert rotated["secret"] != created["secret"]
    events.render_finished(finished_video(avatar).job.pk)
    _run_queue()
    [request] = receiver.requests
    for secret in (created["secret"], rotated["secret"]):
        Webhook(secret).verify(request["body"], request["headers"])


def test_after_the_overlap_only_the_new_secret_signs(api, avatar, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    created = _endpoint(api, receiver.url)
    rotated = api.post(f"/webhook-endpoints/{created['id']}/rotate-secret").json()
    WebhookEndpoint.objects.update(previous_secret_until="2000-01-01T00:00Z")
    events.render_finished(finished_video(avatar).job.pk)
    _run_queue()
    [request] = receiver.requests
    Webhook(rotated["secret"]).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(request["body"], request["headers"])


def test_a_test_event_and_a_redelivery(api, receiver):
    created = _endpoint(api, receiver.url)
    sent = api.post(f"/webhook-endpoints/{created['id']}/test")
    assert sent.status_code == 202
    _run_queue()
    log = api.get(f"/webhook-endpoints/{created['id']}/deliveries").json()["items"]
    assert log[0]["status"] == "succeeded" and log[0]["log"][0]["status_code"] == 200
    again = api.post(f"/webhook-endpoints/{created['id']}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 202
    _run_queue()
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["webhook.test"] * 2
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1


def test_an_endpoint_gets_only_the_events_it_chose(api, avatar, receiver):
    _endpoint(api, receiver.url, events_=["render.failed"])
    events.render_finished(finished_video(avatar).job.pk)
    assert not WebhookDelivery.objects.exists()


def test_a_failed_render_is_an_event(api, avatar, receiver):
    from rendering.models import RenderJob
    from tests.factories import RenderJobFactory

    _endpoint(api, receiver.url)
    job = RenderJobFactory(avatar=avatar, status=RenderJob.Status.RUNNING, lease_owner="w1")
    with pytest.MonkeyPatch.context():
        pass
    assert job.fail("The engine could not find a face.")
    # the receiver runs on commit; inside the test's transaction, run it as commit would
    events.render_finished(job.pk)
    _run_queue()
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["type"] == "render.failed"
    assert payload["data"]["render"]["error"] == "The engine could not find a face."


def test_a_revoked_consent_is_an_event_listing_its_renders(api, avatar, receiver):
    from consent.models import ConsentGrant

    _endpoint(api, receiver.url, events_=["consent.revoked"])
    job = finished_video(avatar).job
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(status="revoked")
    events.consent_revoked(avatar.grant_id)
    _run_queue()
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["type"] == "consent.revoked"
    assert payload["data"]["render_ids"] == [job.pk]


def test_an_expiring_consent_is_announced_once(api, avatar, receiver):
    from django.utils import timezone

    from consent.models import ConsentGrant

    _endpoint(api, receiver.url, events_=["consent.expiring"])
    ConsentGrant.objects.filter(pk=avatar.grant_id).update(
        valid_until=timezone.now() + timedelta(days=3)
    )
    assert events.announce_expiring() == 1
    assert events.announce_expiring() == 0
    _run_queue()
    assert json.loads(receiver.requests[0]["body"])["data"]["days_left"] == 2


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(client, owner, receiver):
    client.force_login(owner.user)
    response = client.post(
        "/settings/api/webhooks/", {"url": receiver.url, "events": ["render.succeeded"]}
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    page = client.get(f"/settings/api/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in page


def test_an_owner_sends_a_test_event_and_redelivers_it(client, owner, receiver):
    endpoint = WebhookEndpoint.objects.create(
        workspace=owner.workspace, url=receiver.url, events=["render.succeeded"]
    )
    client.force_login(owner.user)
    client.post(f"/settings/api/webhooks/{endpoint.pk}/test/")
    _run_queue()
    delivery = WebhookDelivery.objects.get()
    page = client.get(f"/settings/api/webhooks/{endpoint.pk}/").content.decode()
    assert "webhook.test" in page and "200" in page
    client.post(f"/settings/api/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    _run_queue()
    assert len(receiver.accepted) == 2


def test_an_owner_rotates_the_secret(client, owner, receiver):
    endpoint = WebhookEndpoint.objects.create(
        workspace=owner.workspace, url=receiver.url, events=["render.succeeded"]
    )
    old = endpoint.secret
    client.force_login(owner.user)
    response = client.post(f"/settings/api/webhooks/{endpoint.pk}/rotate/", follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in response.content.decode()


def test_a_disabled_endpoint_is_enabled_again_by_its_owner(client, owner, receiver):
    endpoint = WebhookEndpoint.objects.create(
        workspace=owner.workspace, url=receiver.url, events=["render.succeeded"], enabled=False
    )
    client.force_login(owner.user)
    client.post(f"/settings/api/webhooks/{endpoint.pk}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled and not endpoint.disabled_reason


def test_a_delivery_whose_task_was_lost_is_queued_again(api, avatar, receiver):
    from django.utils import timezone

    _endpoint(api, receiver.url)
    events.render_finished(finished_video(avatar).job.pk)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.requeue_lost() == 0  # due now: its task is still on its way
    later = timezone.now() + timedelta(hours=1)
    assert webhooks.requeue_lost(now=later) == 1
    # A worker that took it and died (no next try, nothing heard since) is found too.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert webhooks.requeue_lost(now=later) == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    _run_queue()
    assert len(receiver.accepted) == 1
