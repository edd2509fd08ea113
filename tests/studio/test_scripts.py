import pytest
from django.urls import reverse

from studio.models import Script

pytestmark = pytest.mark.django_db


def test_a_script_is_saved_in_the_current_workspace(member_client, member):
    response = member_client.post(
        reverse("studio:script_new"), {"title": "Intro", "body": "Hello world."}
    )
    assert response.status_code == 302
    assert Script.objects.get().workspace == member.workspace


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("word " * 1200, "the limit is 5,000"),
        ("   ...  !!! ", "no words to speak"),
        ("[pause 2s]", "markup alone, such as [pause 2s], is silence"),
        ("[slow] ... [/slow] [pause 1s]", "markup alone"),
        ("", "This field is required"),
        ("Hello\x00world", "Null characters are not allowed"),
    ],
)
def test_a_bad_script_gets_a_specific_message_and_nothing_is_saved(member_client, body, message):
    response = member_client.post(reverse("studio:script_new"), {"title": "Bad", "body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Script.objects.exists()


def test_a_render_without_a_chosen_purpose_is_refused_and_nothing_is_queued(member_client, member):
    """The render form has no default purpose: the user picks the one the video is for."""
    from avatars.models import Avatar
    from rendering.models import RenderJob
    from tests.factories import AvatarFactory, GrantFactory

    grant = GrantFactory(workspace=member.workspace)
    avatar = AvatarFactory(grant=grant, status=Avatar.Status.ACTIVE)
    script = Script.objects.create(workspace=member.workspace, title="T", body="Hello there.")
    page = member_client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert '<option value="" selected disabled>Choose the purpose</option>' in page
    response = member_client.post(
        reverse("rendering:submit"),
        {"script": script.pk, "avatar": avatar.pk, "purpose": ""},
        follow=True,
    )
    assert "Choose the purpose of the video" in response.content.decode()
    assert not RenderJob.objects.exists()
