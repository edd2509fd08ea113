"""A per-script approval covers the words the voice will say, not only the text shown."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentGrant, LedgerEntry, Purpose, ScriptApproval, sha256_hex
from consent.policy import authorize_render
from studio.models import PronunciationEntry
from tests.factories import GrantFactory, ScriptApprovalFactory, ScriptFactory

pytestmark = pytest.mark.django_db

WEATHER = "Thank you for watching our weather update."
EVIDENCE = services.Evidence(ip="192.0.2.1", user_agent="pytest", user="subject")


def may_render(grant, lexicon):
    return authorize_render(
        grant,
        avatar_enabled=True,
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        script_text=WEATHER,
        lexicon=lexicon,
    )


def lexicon_of(grant):
    return PronunciationEntry.lexicon_of(grant.workspace)


def test_a_script_sent_for_approval_records_the_words_spoken_with_the_workspace_lexicon(member):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    PronunciationEntry.objects.create(
        workspace=grant.workspace, word="weather", respelling="WEH-ther"
    )
    approval = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    assert approval.spoken_text == "Thank you for watching our WEH-ther update."
    assert approval.spoken_sha256 == sha256_hex(approval.spoken_text)
    event = LedgerEntry.objects.filter(grant_id=grant.pk).latest("seq")
    assert event.payload["spoken_sha256"] == approval.spoken_sha256


def test_the_tester_case_a_lexicon_change_after_approval_needs_a_new_approval(member):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    approval = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    services.decide_script(approval, approve=True, reason="", evidence=EVIDENCE)
    assert may_render(grant, lexicon_of(grant)).allowed

    # An editor rewrites the approved words through the lexicon.
    PronunciationEntry.objects.create(
        workspace=grant.workspace, word="weather", respelling="politics"
    )
    PronunciationEntry.objects.create(
        workspace=grant.workspace, word="update", respelling="vote for candidate Smith"
    )
    decision = may_render(grant, lexicon_of(grant))
    assert not decision and "pronunciations changed" in decision.reason

    # Sent again, the subject is asked about the new words, and nothing renders until they answer.
    again = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    assert again.pk == approval.pk and again.status == ScriptApproval.Status.PENDING
    assert again.spoken_text == "Thank you for watching our politics vote for candidate Smith."
    decision = may_render(grant, lexicon_of(grant))
    assert not decision and "has not approved this script yet" in decision.reason
    services.decide_script(again, approve=False, reason="Not my words.", evidence=EVIDENCE)
    assert not may_render(grant, lexicon_of(grant))
    events = list(LedgerEntry.objects.filter(grant_id=grant.pk).values_list("event", flat=True))
    assert events[-4:] == [
        "script_requested",
        "script_approved",
        "script_requested",
        "script_rejected",
    ]


def test_sending_an_unchanged_script_again_keeps_the_answer(member):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    approval = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    services.decide_script(approval, approve=True, reason="", evidence=EVIDENCE)
    again = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    assert again.status == ScriptApproval.Status.APPROVED


def test_an_approval_from_before_spoken_words_keeps_its_answer_when_the_words_are_the_same(
    member,
):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    old = ScriptApprovalFactory(grant=grant, script_text=WEATHER, spoken_text="")
    PronunciationEntry.objects.create(workspace=grant.workspace, word="Nguyen", respelling="win")
    again = services.request_script_approval(grant, title="W", text=WEATHER, by=member.user)
    assert again.pk == old.pk and again.status == ScriptApproval.Status.APPROVED
    assert again.spoken_text == WEATHER


def test_the_subject_sees_the_spoken_words_when_they_differ(client, invite, member):
    grant, token = invite(requires_script_approval=True)
    ConsentGrant.objects.filter(pk=grant.pk).update(status=ConsentGrant.Status.ACTIVE)
    PronunciationEntry.objects.create(workspace=member.workspace, word="SQL", respelling="sequel")
    plain = ScriptFactory(workspace=member.workspace, body="Welcome to the safety course.")
    respelled = ScriptFactory(workspace=member.workspace, body="Our SQL course costs $5.")
    for script in (plain, respelled):
        services.request_script_approval(
            grant, title=script.title, text=script.body, by=member.user
        )
    page = client.get(reverse("consent:link_home", args=[token])).content.decode()
    assert "Our SQL course costs $5." in page
    assert "Our sequel course costs five dollars." in page
    assert page.count("The voice will say these words") == 1  # not for the plain script


def test_the_grant_page_shows_what_an_approval_is_spoken_as(member_client, member):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    PronunciationEntry.objects.create(workspace=member.workspace, word="SQL", respelling="sequel")
    services.request_script_approval(grant, title="SQL", text="Learn SQL today.", by=member.user)
    page = member_client.get(reverse("consent:grant_detail", args=[grant.pk])).content.decode()
    assert "Spoken as" in page and "Learn sequel today." in page


def test_a_script_with_invalid_markup_is_not_sent_and_the_page_says_why(member_client, member):
    grant = GrantFactory(subject__workspace=member.workspace, requires_script_approval=True)
    script = ScriptFactory(workspace=member.workspace, title="Broken", body="Hello [slow]there.")
    response = member_client.post(
        reverse("studio:script_send_for_approval", args=[script.pk]),
        {"grant": grant.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "“Broken” was not sent" in response.content.decode()
    assert "never closed" in response.content.decode()
    assert not grant.approvals.exists()
