"""A campaign reserves for all its videos at launch or is refused with the shortfall named; a
lesson likewise; the API answers a render the credits do not cover with 402 quota_exceeded."""

import json

import pytest

from api import services as api_services
from billing import services
from billing.models import CreditEntry
from campaigns import services as campaigns
from lessons import services as lessons
from lessons.models import Lesson, LessonScene
from rendering.models import RenderJob
from tests.api.conftest import ApiClient
from tests.billing.conftest import give

pytestmark = pytest.mark.django_db

TEMPLATE = "Hi {{first_name}}, thanks for your visit."


@pytest.fixture
def campaign(studio):
    owner, avatar, script = studio
    made = campaigns.create_campaign(
        workspace=owner.workspace,
        user=owner.user,
        name="Spring visit",
        script=script,
        avatar=avatar,
        purpose="marketing",
    )
    campaigns.update_campaign(made, template_text=TEMPLATE)
    made.refresh_from_db()
    rows = "first_name\nAnn\nBo\nCy"
    campaigns.replace_recipients(made, campaigns.read_list(made, text=rows))
    return owner, made


def costs(campaign) -> list[int]:
    return [
        services.estimated_ms(campaigns.variant_timeline(campaign, r))
        for r in campaign.recipients.order_by("line")
    ]


def test_a_campaign_is_refused_as_a_whole_with_the_shortfall_of_all_its_videos(campaign):
    owner, made = campaign
    needed = sum(costs(made))
    give(owner.workspace, needed / 1000 - 1)  # one second short of all three
    with pytest.raises(campaigns.UserError) as refusal:
        campaigns.launch(made, user=owner.user)
    assert str(refusal.value).startswith(
        "This campaign's 3 videos: about "
    ) and "(1 s short)" in str(refusal.value)
    made.refresh_from_db()
    assert made.is_draft and not RenderJob.objects.exists()
    assert CreditEntry.balance_of(owner.workspace.pk) == needed - 1000


def test_a_launched_campaign_reserves_every_video_and_gives_back_what_it_did_not_need(campaign):
    owner, made = campaign
    give(owner.workspace, 60)
    counts = campaigns.launch(made, user=owner.user)
    assert counts == {"submitted": 3, "refused": 0}
    jobs = list(RenderJob.objects.filter(part_of=made.part_of).order_by("pk"))
    assert [CreditEntry.held_by(f"job:{job.pk}") for job in jobs] == costs(made)
    assert CreditEntry.held_by(made.part_of) == 0  # all moved to the videos
    assert CreditEntry.balance_of(owner.workspace.pk) == 60_000 - sum(costs(made))


def test_a_cancelled_campaign_gives_back_everything_not_yet_rendered(campaign):
    owner, made = campaign
    give(owner.workspace, 60)
    campaigns.launch(made, user=owner.user)
    campaigns.cancel(made)
    assert CreditEntry.balance_of(owner.workspace.pk) == 60_000


def test_a_lesson_without_enough_credits_is_refused_with_its_shortfall(studio):
    owner, avatar, _ = studio
    lesson = Lesson.objects.create(
        workspace=owner.workspace, title="Fire safety", avatar=avatar, created_by=owner.user
    )
    LessonScene.objects.create(lesson=lesson, position=1, script="Keep the exits clear.")
    give(owner.workspace, 1)
    with pytest.raises(lessons.UserError, match=r"This lesson's video: about .* \(.* short\)"):
        lessons.submit_lesson(lesson, user=owner.user)
    assert not RenderJob.objects.exists()


def test_the_api_answers_a_render_without_credits_402_quota_exceeded(studio, client):
    owner, avatar, _ = studio
    give(owner.workspace, 1.5)
    _token, text = api_services.create_token(
        workspace=owner.workspace, name="CRM", scopes=["read", "render"]
    )
    response = ApiClient(client, text).post(
        "/renders",
        {
            "avatar_id": avatar.pk,
            "text": "Hello there. This is a short test.",
            "purpose": "internal",
        },
    )
    assert response.status_code == 402
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["code"] == "quota_exceeded"
    assert (problem["cost_seconds"], problem["balance_seconds"]) == (3.429, 1.5)
    assert problem["shortfall_seconds"] == pytest.approx(1.929)
    assert not RenderJob.objects.exists()


def test_a_quota_refusal_is_not_replayed_for_its_idempotency_key_once_credits_are_bought(
    studio, client
):
    owner, avatar, _ = studio
    _token, text = api_services.create_token(
        workspace=owner.workspace, name="CRM", scopes=["read", "render"]
    )
    api = ApiClient(client, text)
    body = {
        "avatar_id": avatar.pk,
        "text": "Hello there. This is a short test.",
        "purpose": "internal",
    }
    key = {"Idempotency-Key": "order-1234"}
    assert api.post("/renders", body, headers=key).status_code == 402
    give(owner.workspace, 10)
    assert api.post("/renders", body, headers=key).status_code == 201
    assert api.post("/renders", body, headers=key).status_code == 201  # now replayed
    assert RenderJob.objects.count() == 1


def test_the_api_refuses_a_campaign_launch_the_credits_do_not_cover_with_402(campaign, client):
    owner, made = campaign
    give(owner.workspace, 5)
    _token, text = api_services.create_token(
        workspace=owner.workspace, name="CRM", scopes=["read", "render"]
    )
    response = ApiClient(client, text).post(f"/campaigns/{made.pk}/launch")
    assert response.status_code == 402
    problem = json.loads(response.content)
    assert problem["code"] == "quota_exceeded"
    assert problem["cost_seconds"] == sum(costs(made)) / 1000
    assert problem["shortfall_seconds"] == pytest.approx(sum(costs(made)) / 1000 - 5)
    made.refresh_from_db()
    assert made.is_draft
