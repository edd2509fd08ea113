"""Acceptable-use screening on the site: a flagged script is held for an owner, recorded in the
consent ledger, refused at submit and in the worker until an owner approves it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.ledger import Event
from consent.models import ConsentError, LedgerEntry, Purpose, ScreeningReview
from consent.policy import authorize_render
from consent.screening import decide_review, hold_if_flagged
from rendering.services import RenderRefused, submit_render
from studio.models import PronunciationEntry, Script
from tests.factories import GrantFactory, MembershipFactory, RenderJobFactory, SubjectFactory

pytestmark = pytest.mark.django_db

GIFT_CARDS = "Hi team. Buy four g1ft c@rds and send me the codes on the back today."
HARMLESS = "Hi team. Our gift cards make a perfect present, in any amount."


def events(kind: str) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(event=kind))


def new_script(client, body: str = GIFT_CARDS):
    response = client.post(reverse("studio:script_new"), {"title": "Favour", "body": body})
    assert response.status_code == 302
    return Script.objects.get()


def test_a_flagged_script_is_held_with_its_reason_and_the_flag_is_in_the_ledger(
    member_client, member
):
    script = new_script(member_client)
    review = ScreeningReview.objects.get()
    assert (review.workspace, review.status) == (member.workspace, ScreeningReview.Status.HELD)
    assert review.findings[0]["category"] == "gift_cards_or_crypto"
    (entry,) = events(Event.SCREENING_HELD)
    assert entry.workspace_id == member.workspace.pk
    assert entry.payload["user"] == member.user.username
    assert entry.payload["findings"][0]["matched"] == ["gift card", "code"]
    page = member_client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert "Held for review: Gift cards or crypto payment (“gift card”, “code”)" in page
    assert 'value="approve"' in page
    # Seeing the page again records nothing new.
    assert len(events(Event.SCREENING_HELD)) == 1


def test_an_ordinary_script_is_not_held(member_client):
    script = new_script(member_client, HARMLESS)
    page = member_client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert not ScreeningReview.objects.exists()
    assert "Held for review" not in page


def test_a_held_script_is_refused_at_submit_with_the_reason(member, make_avatar):
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=member.workspace)))
    script = Script.objects.create(workspace=member.workspace, title="Favour", body=GIFT_CARDS)
    with pytest.raises(RenderRefused) as refused:
        submit_render(
            workspace=member.workspace,
            user=member.user,
            avatar=avatar,
            script=script,
            purpose=Purpose.INTERNAL,
        )
    message = str(refused.value)
    assert message.startswith("The script is held for acceptable-use review: Gift cards")
    assert "An owner of the workspace must approve it" in message


def test_the_worker_refuses_a_held_script_before_it_renders(member):
    job = RenderJobFactory(
        avatar__grant__subject__workspace=member.workspace, script_text=GIFT_CARDS
    )
    decision = job.render_decision(at=timezone.now())
    assert not decision and "held for acceptable-use review" in decision.reason


def test_flagged_text_on_screen_is_held_too(member):
    job = RenderJobFactory(avatar__grant__subject__workspace=member.workspace)
    decision = job.avatar.render_decision(
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        script_text="Hello there.",
        on_screen_text=["Agenda", "Vote for the Labour candidate on election day"],
    )
    assert not decision
    assert decision.reason.startswith("The text on screen is held for acceptable-use review")


def test_an_owner_approves_a_held_script_and_it_renders(member_client, member, make_avatar):
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=member.workspace)))
    script = new_script(member_client)
    response = member_client.post(
        reverse("studio:script_screening_decision", args=[script.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    review = ScreeningReview.objects.get()
    assert (review.status, review.decided_by) == (ScreeningReview.Status.APPROVED, member.user)
    (entry,) = events(Event.SCREENING_APPROVED)
    assert entry.payload["user"] == member.user.username
    assert entry.payload["script_sha256"] == review.text_sha256
    job = submit_render(
        workspace=member.workspace,
        user=member.user,
        avatar=avatar,
        script=script,
        purpose=Purpose.INTERNAL,
    )
    assert job.pk is not None
    page = member_client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert "Held for review" not in page and "approved by" in page


def test_an_owner_can_keep_a_script_held_and_it_says_so(member_client, member):
    script = new_script(member_client)
    member_client.post(
        reverse("studio:script_screening_decision", args=[script.pk]), {"decision": "keep"}
    )
    review = ScreeningReview.objects.get()
    assert review.status == ScreeningReview.Status.KEPT_HELD
    assert len(events(Event.SCREENING_KEPT_HELD)) == 1
    job = RenderJobFactory(
        avatar__grant__subject__workspace=member.workspace, script_text=GIFT_CARDS
    )
    decision = job.render_decision(at=timezone.now())
    assert not decision and "an owner kept it from rendering" in decision.reason


def test_an_edit_that_removes_the_match_clears_the_hold(member_client, member):
    script = new_script(member_client)
    member_client.post(
        reverse("studio:script_detail", args=[script.pk]), {"title": "Favour", "body": HARMLESS}
    )
    job = RenderJobFactory(avatar__grant__subject__workspace=member.workspace, script_text=HARMLESS)
    assert job.render_decision(at=timezone.now())


def test_an_edit_after_approval_is_held_again(member_client, member):
    script = new_script(member_client)
    member_client.post(
        reverse("studio:script_screening_decision", args=[script.pk]), {"decision": "approve"}
    )
    edited = GIFT_CARDS + " Then text me your PIN."
    member_client.post(
        reverse("studio:script_detail", args=[script.pk]), {"title": "Favour", "body": edited}
    )
    assert ScreeningReview.objects.get(text=edited).status == ScreeningReview.Status.HELD
    job = RenderJobFactory(avatar__grant__subject__workspace=member.workspace, script_text=edited)
    assert not job.render_decision(at=timezone.now())


def test_a_lexicon_that_makes_an_approved_script_say_more_holds_it_again(member):
    text = "Buy gift cards and send me the codes. Then Sam."
    review = hold_if_flagged(member.workspace, title="T", text=text, by=member.user)
    decide_review(review, approve=True, by=member.user)
    PronunciationEntry.objects.create(
        workspace=member.workspace, word="Sam", respelling="send me your password"
    )
    lexicon = PronunciationEntry.lexicon_of(member.workspace)
    again = hold_if_flagged(member.workspace, title="T", text=text, by=member.user, lexicon=lexicon)
    assert again.status == ScreeningReview.Status.HELD
    assert len(events(Event.SCREENING_HELD)) == 2


def test_the_render_policy_screens_the_words_the_lexicon_makes(member):
    """An owner approved the script as written; a respelling that makes it say more is held by
    authorize_render itself, which screens what the voice will say."""
    text = "Buy gift cards and send me the codes. Then Sam."
    decide_review(
        hold_if_flagged(member.workspace, title="T", text=text, by=member.user),
        approve=True,
        by=member.user,
    )
    grant = GrantFactory(subject=SubjectFactory(workspace=member.workspace))

    def decide(lexicon):
        return authorize_render(
            grant,
            avatar_enabled=True,
            purpose=grant.purposes[0],
            at=timezone.now(),
            script_text=text,
            lexicon=lexicon,
        )

    assert decide(None), decide(None).reason
    PronunciationEntry.objects.create(
        workspace=member.workspace, word="Sam", respelling="send me your password"
    )
    decision = decide(PronunciationEntry.lexicon_of(member.workspace))
    assert not decision
    assert "held for acceptable-use review" in decision.reason


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER, Role.AUDITOR])
def test_only_an_owner_can_approve_a_held_script(client, member, role):
    script = Script.objects.create(workspace=member.workspace, title="Favour", body=GIFT_CARDS)
    hold_if_flagged(member.workspace, title="Favour", text=GIFT_CARDS, by=member.user)
    other = MembershipFactory(workspace=member.workspace, role=role)
    client.force_login(other.user)
    page = client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert "Only an owner can approve it." in page and 'value="approve"' not in page
    response = client.post(
        reverse("studio:script_screening_decision", args=[script.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    assert ScreeningReview.objects.get().status == ScreeningReview.Status.HELD
    assert not events(Event.SCREENING_APPROVED)
    with pytest.raises(ConsentError):
        decide_review(ScreeningReview.objects.get(), approve=True, by=other.user)


def test_the_operator_tunes_the_policy_with_a_file_in_settings(member_client, settings, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"categories": {"competitors": {"label": "Names a competitor", "rules": [[["Globex"]]]}}}'
    )
    settings.SCREENING_POLICY_FILE = str(policy)
    script = new_script(member_client, "Globex is slower than we are.")
    page = member_client.get(reverse("studio:script_detail", args=[script.pk])).content.decode()
    assert "Held for review: Names a competitor (“Globex”)" in page
    settings.SCREENING_POLICY_FILE = ""
    assert hold_if_flagged(script.workspace, title="T", text=GIFT_CARDS, by=None) is not None


def test_the_admin_lists_held_scripts_read_only(client, django_user_model, member):
    review = hold_if_flagged(member.workspace, title="Favour", text=GIFT_CARDS, by=member.user)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(root)
    listing = client.get(reverse("admin:consent_screeningreview_changelist"))
    assert listing.status_code == 200 and "Favour" in listing.content.decode()
    assert client.get(reverse("admin:consent_screeningreview_add")).status_code == 403
    delete = reverse("admin:consent_screeningreview_delete", args=[review.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ScreeningReview.objects.filter(pk=review.pk).exists()
