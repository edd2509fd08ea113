from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentGrant, Purpose, ScriptApproval, sha256_hex
from consent.policy import RenderDecision, authorize_render
from tests.engine.test_topics import DODGES, NEAR_MISSES
from tests.factories import GrantFactory, ScriptApprovalFactory

pytestmark = pytest.mark.django_db


def decide(grant, *, purpose=Purpose.INTERNAL, enabled=True, at=None, **checks):
    return authorize_render(
        grant, avatar_enabled=enabled, purpose=purpose, at=at or timezone.now(), **checks
    )


def test_a_signed_in_date_consent_allows_rendering():
    assert decide(GrantFactory()).allowed


def test_a_consent_typed_in_without_evidence_refuses():
    """Tester case 4: before evidence was required, a member typed the subject's name and ticked
    a box; such a consent is not live until the signed paper is reviewed or the subject signs."""
    from consent.models import ConsentMethod

    decision = decide(GrantFactory(method=ConsentMethod.TYPED))
    assert not decision and "without evidence" in decision.reason


def test_an_unsigned_consent_refuses():
    decision = decide(GrantFactory(status=ConsentGrant.Status.PENDING, signed_at=None))
    assert not decision and "not been signed" in decision.reason


def test_an_expired_consent_refuses():
    grant = GrantFactory(
        valid_until=timezone.now() - timedelta(seconds=1),
        valid_from=timezone.now() - timedelta(days=2),
    )
    decision = decide(grant)
    assert not decision and "expired" in decision.reason


def test_a_consent_not_yet_valid_refuses():
    grant = GrantFactory(
        valid_from=timezone.now() + timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=2),
    )
    decision = decide(grant)
    assert not decision and "not valid until" in decision.reason


def test_a_revoked_consent_refuses():
    grant = GrantFactory()
    grant.revoke(reason="changed my mind", at=timezone.now())
    decision = decide(grant)
    assert not decision and "revoked" in decision.reason


def test_a_purpose_outside_the_consent_refuses():
    decision = decide(GrantFactory(purposes=[Purpose.TRAINING]), purpose=Purpose.MARKETING)
    assert not decision and "does not cover marketing" in decision.reason


def test_a_disabled_avatar_refuses():
    decision = decide(GrantFactory(), enabled=False)
    assert not decision and "disabled" in decision.reason


def test_a_language_outside_the_consent_refuses():
    decision = authorize_render(
        GrantFactory(languages=["en"]),
        avatar_enabled=True,
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        language="fr",
    )
    assert not decision and "does not cover videos in French" in decision.reason


def test_a_language_inside_the_consent_allows():
    grant = GrantFactory(languages=["en", "fr"])
    assert decide(grant, language="fr").allowed


def test_a_script_on_a_forbidden_topic_refuses():
    grant = GrantFactory(forbidden_topics=["politics", "online gambling"])
    decision = decide(grant, script_text="Try online   Gambling tonight!")
    assert not decision and "“online gambling”, a topic the subject forbade" in decision.reason
    assert decide(grant, script_text="Our policy team is devoted to neutral updates.").allowed


def test_a_script_that_needs_approval_and_was_never_sent_refuses():
    decision = decide(GrantFactory(requires_script_approval=True), script_text="Hello.")
    assert not decision and "has not been sent to them for approval" in decision.reason


def test_approval_required_and_no_script_given_refuses():
    decision = decide(GrantFactory(requires_script_approval=True))
    assert not decision and "no script was given" in decision.reason


@pytest.mark.parametrize(
    ("status", "allowed", "reason"),
    [
        (ScriptApproval.Status.PENDING, False, "has not approved this script yet"),
        (ScriptApproval.Status.REJECTED, False, "rejected this script"),
        (ScriptApproval.Status.APPROVED, True, ""),
    ],
)
def test_per_script_approval_decides(status, allowed, reason):
    grant = GrantFactory(requires_script_approval=True)
    ScriptApprovalFactory(grant=grant, script_text="Hello team.", status=status)
    decision = decide(grant, script_text="Hello team.")
    assert decision.allowed is allowed and reason in decision.reason
    # Approval is of the exact text: one changed word needs a new approval.
    assert not decide(grant, script_text="Hello world.")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ConsentGrant.Status.VERIFYING, "being verified"),
        (ConsentGrant.Status.NEEDS_REVIEW, "awaits review"),
        (ConsentGrant.Status.REJECTED, "rejected on review"),
    ],
)
def test_a_grant_that_is_not_live_refuses_with_its_reason(status, reason):
    decision = decide(GrantFactory(status=status))
    assert not decision and reason in decision.reason


@pytest.mark.parametrize(("script", "topic"), DODGES)
def test_a_forbidden_topic_spelled_to_dodge_the_check_refuses(script, topic):
    grant = GrantFactory(forbidden_topics=["gardening", topic])
    decision = decide(grant, script_text=script)
    assert not decision and f"“{topic}”, a topic the subject forbade" in decision.reason


@pytest.mark.parametrize(("script", "topic"), NEAR_MISSES)
def test_a_word_near_a_forbidden_topic_is_allowed(script, topic):
    assert decide(GrantFactory(forbidden_topics=[topic]), script_text=script).allowed


def test_a_respelling_that_says_a_forbidden_topic_refuses():
    grant = GrantFactory(forbidden_topics=["politics"])
    script = "Thank you for watching our weather update."
    assert decide(grant, script_text=script).allowed
    decision = decide(grant, script_text=script, lexicon={"weather": "politics"})
    assert not decision and "“politics”, a topic the subject forbade" in decision.reason


WEATHER = "Thank you for watching our weather update."
REWRITE = {"weather": "politics", "update": "vote for candidate Smith"}


def test_an_approval_no_longer_matches_once_the_lexicon_changes_the_words():
    # The tester's case 3: approved with no respelling, then the lexicon rewrote the words.
    grant = GrantFactory(requires_script_approval=True)
    ScriptApprovalFactory(grant=grant, script_text=WEATHER)
    assert decide(grant, script_text=WEATHER).allowed
    assert decide(grant, script_text=WEATHER, lexicon={"Nguyen": "win"}).allowed
    decision = decide(grant, script_text=WEATHER, lexicon=REWRITE)
    assert not decision and "pronunciations changed" in decision.reason
    assert "politics vote for candidate Smith" in decision.reason


def test_the_rewritten_approved_script_is_refused_for_its_forbidden_topic_first():
    grant = GrantFactory(requires_script_approval=True, forbidden_topics=["politics"])
    ScriptApprovalFactory(grant=grant, script_text=WEATHER)
    decision = decide(grant, script_text=WEATHER, lexicon=REWRITE)
    assert not decision and "“politics”, a topic the subject forbade" in decision.reason


def test_an_approval_of_the_spoken_words_matches_those_words_only():
    grant = GrantFactory(requires_script_approval=True)
    lexicon = {"Nguyen": "win"}
    script = "Welcome, Nguyen."
    ScriptApprovalFactory(
        grant=grant,
        script_text=script,
        spoken_text="Welcome, win.",
        spoken_sha256=sha256_hex("Welcome, win."),
    )
    assert decide(grant, script_text=script, lexicon=lexicon).allowed
    assert not decide(grant, script_text=script)  # said as written, not as approved
    assert not decide(grant, script_text=script, lexicon={"Nguyen": "nuh-gwen"})


def test_an_approval_made_before_spoken_words_were_recorded_holds_while_the_words_do():
    grant = GrantFactory(requires_script_approval=True)
    ScriptApprovalFactory(grant=grant, script_text=WEATHER, spoken_text="")
    assert decide(grant, script_text=WEATHER, lexicon={"Nguyen": "win"}).allowed
    decision = decide(grant, script_text=WEATHER, lexicon={"weather": "whether"})
    assert not decision and "pronunciations changed" in decision.reason


def test_a_script_with_invalid_markup_refuses():
    decision = decide(GrantFactory(), script_text="Hello [pase 1s] there")
    assert not decision and "markup is invalid" in decision.reason


@pytest.mark.parametrize(
    ("script", "language"),
    [
        ("Vielen Dank, dass Sie unser Wetter-Update angesehen haben.", "German"),
        ("Merci d'avoir regardé notre bulletin météo de la semaine.", "French"),
        ("Gracias por ver nuestro informe del tiempo de esta semana.", "Spanish"),
    ],
)
def test_a_script_in_a_language_outside_the_consent_refuses(script, language):
    # The tester's case 5: every script was taken to be English.
    decision = decide(GrantFactory(languages=["en"]), script_text=script)
    assert not decision and f"The script is in {language}" in decision.reason
    assert "it covers: English" in decision.reason


def test_a_script_refused_for_its_language_names_every_language_covered():
    grant = GrantFactory(languages=["en", "de"])
    script = "Merci d'avoir regardé notre bulletin météo de la semaine."
    decision = decide(grant, script_text=script)
    assert not decision and decision.reason.startswith("The script is in French (")
    assert decision.reason.endswith(
        "sure), and the consent does not cover videos in French (it covers: English, German)."
    )


def test_a_script_in_a_covered_language_is_allowed():
    grant = GrantFactory(languages=["en", "de"])
    assert decide(grant, script_text="Vielen Dank, dass Sie unser Wetter-Update angesehen haben.")
    assert decide(grant, script_text="Thank you for watching our weather update today.")


@pytest.mark.parametrize("script", ["Hi Anna!", "Danke!", "Bonjour Nisha.", "Ciao, team."])
def test_a_short_script_is_not_refused_for_its_language(script):
    # A few words are no evidence of a language: names and greetings cross borders.
    assert decide(GrantFactory(languages=["en"]), script_text=script).allowed


def test_a_lexicon_that_turns_a_script_into_another_language_refuses():
    grant = GrantFactory(languages=["en"])
    script = "Thank you for watching our weather update."
    german = {"Thank you for watching our weather update": "Danke, dass Sie unser Wetter sehen"}
    decision = decide(grant, script_text=script, lexicon=german)
    assert not decision and "The script is in German" in decision.reason


def _approved_for_other_words(script: str):
    """A grant whose approval of `script` recorded other spoken words than it now makes."""
    grant = GrantFactory(requires_script_approval=True)
    ScriptApprovalFactory(
        grant=grant, script_text=script, spoken_text="Other.", spoken_sha256=sha256_hex("Other.")
    )
    return grant


def test_a_changed_pronunciation_refusal_quotes_the_words_it_would_now_say():
    script = ("rain " * 32).strip()  # 159 characters: quoted whole
    decision = decide(_approved_for_other_words(script), script_text=script)
    assert decision.reason == (
        "The pronunciations changed since the subject was asked to approve this script: it "
        f"would now be spoken as “{script}”. Send it to the subject for approval again."
    )


@pytest.mark.parametrize(
    ("script", "quoted"),
    [
        # Exactly 160 characters fit whole.
        ("rain " * 31 + "rains", "rain " * 31 + "rains"),
        # Longer: the first 159 characters and an ellipsis, 160 in all...
        (("rain " * 40).strip(), ("rain " * 32)[:159] + "…"),
        # ...without the space the cut lands after.
        (("ain " + "rain " * 39).strip(), ("ain " + "rain " * 31)[:158] + "…"),
    ],
)
def test_a_changed_pronunciation_refusal_quotes_at_most_160_characters(script, quoted):
    assert len(quoted) <= 160
    decision = decide(_approved_for_other_words(script), script_text=script)
    assert f"spoken as “{quoted}”. Send it" in decision.reason


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ScriptApproval.Status.PENDING, "The subject has not approved this script yet."),
        (ScriptApproval.Status.REJECTED, "The subject rejected this script."),
        (
            None,
            "The subject approves each script, and this exact text has not been sent to "
            "them for approval.",
        ),
    ],
)
def test_a_script_awaiting_its_subject_is_refused_with_what_to_do(status, reason):
    grant = GrantFactory(requires_script_approval=True)
    if status is not None:
        ScriptApprovalFactory(grant=grant, script_text="Hello team.", status=status)
    assert decide(grant, script_text="Hello team.") == RenderDecision(False, reason)


def test_a_consent_is_valid_from_its_first_instant_until_just_before_its_end():
    start = timezone.now().replace(microsecond=0)
    grant = GrantFactory(valid_from=start, valid_until=start + timedelta(days=1))
    assert decide(grant, at=start).allowed
    assert decide(grant, at=start + timedelta(days=1) - timedelta(microseconds=1)).allowed
    assert not decide(grant, at=start + timedelta(days=1))
    assert not decide(grant, at=start - timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("grant_options", "checks", "reason"),
    [
        (
            {"status": ConsentGrant.Status.ACTIVE, "signed_at": None},
            {},
            "The consent has not been signed yet.",
        ),
        (
            {"method": "typed"},
            {},
            "This consent was typed in by a member without evidence; upload the paper the "
            "subject signed for review, or record a new consent with them.",
        ),
        ({}, {"enabled": False}, "This avatar is disabled."),
        (
            {"purposes": [Purpose.TRAINING, Purpose.INTERNAL]},
            {"purpose": Purpose.MARKETING},
            "The consent does not cover marketing use (it covers: Training, Internal "
            "communication).",
        ),
        (
            {"purposes": [Purpose.MARKETING]},
            {"purpose": Purpose.INTERNAL},
            "The consent does not cover internal communication use (it covers: Marketing).",
        ),
        (
            {"purposes": []},
            {"purpose": "parody"},
            "The consent does not cover parody use (it covers: nothing).",
        ),
        (
            {"languages": ["en", "de"]},
            {"language": "fr"},
            "The consent does not cover videos in French (it covers: English, German).",
        ),
        (
            {"languages": ["en"]},
            {"language": "nl"},
            "The consent does not cover videos in nl (it covers: English).",
        ),
        (
            {"requires_script_approval": True},
            {},
            "The subject approves each script, and no script was given.",
        ),
    ],
)
def test_a_refusal_tells_the_member_why(grant_options, checks, reason):
    assert decide(GrantFactory(**grant_options), **checks) == RenderDecision(False, reason)


def test_text_on_screen_on_a_forbidden_topic_refuses():
    grant = GrantFactory(forbidden_topics=["gardening", "politics"])
    script = "Welcome to our quarterly update."
    assert decide(grant, script_text=script, on_screen_text=["Q3 results", "Next steps"])
    decision = decide(grant, script_text=script, on_screen_text=["Q3 results", "Políticś 101"])
    assert decision == RenderDecision(
        False, "The text on screen mentions “politics”, a topic the subject forbade."
    )
