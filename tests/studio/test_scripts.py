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
        ("", "This field is required"),
        ("Hello\x00world", "Null characters are not allowed"),
    ],
)
def test_a_bad_script_gets_a_specific_message_and_nothing_is_saved(member_client, body, message):
    response = member_client.post(reverse("studio:script_new"), {"title": "Bad", "body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Script.objects.exists()
