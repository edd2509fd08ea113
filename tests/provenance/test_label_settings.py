"""Workspace disclosure settings: owners choose the label's corner and language, and the card."""

import pytest
from django.urls import reverse

from accounts.models import Role
from provenance.models import LabelSettings
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_an_owner_sets_the_label_corner_language_and_opening_card(member_client, member):
    url = reverse("provenance:label_settings")
    assert member_client.get(url).status_code == 200
    response = member_client.post(
        url, {"position": "bottom-left", "language": "de", "opening_card": "on"}
    )
    assert response.status_code == 302
    settings = LabelSettings.of(member.workspace)
    assert (settings.position, settings.label_text, settings.opening_card) == (
        "bottom-left",
        "KI-generiert",
        True,
    )


def test_a_workspace_that_never_chose_gets_the_english_top_right_label(member):
    fields = LabelSettings.of(member.workspace).spec_fields()
    assert fields["label_text"] == "AI-generated" and fields["label_position"] == "top-right"
    assert fields["disclosure_card_seconds"] == 0.0


def test_editors_cannot_change_the_disclosure(client):
    editor = MembershipFactory(role=Role.EDITOR)
    client.force_login(editor.user)
    response = client.post(reverse("provenance:label_settings"), {"position": "top-left"})
    assert response.status_code == 404
    assert not LabelSettings.objects.filter(workspace=editor.workspace).exists()
