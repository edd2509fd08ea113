"""The policy for a campaign's variant: a script made from a template the subject approved once,
for values of the kinds they were shown (consent/policy.py, `template=`)."""

import pytest
from django.utils import timezone

from consent.models import Purpose, ScriptApproval, sha256_hex
from consent.policy import TemplateUse, authorize_render
from core.merge_fields import merge
from engine.voice.spoken import spoken_text
from tests.factories import GrantFactory, ScriptApprovalFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "Hi {{first_name}}, we met at the fair. See you soon at {{company}}."
KINDS = {"first_name": "given_name", "company": "company"}
VALUES = {"first_name": "Ann", "company": "Acme"}
# Changes how a word of the template (not a value) is spoken.
LEXICON = {"fair": "fayre"}


def grant_with_approval(**approval):
    grant = GrantFactory(requires_script_approval=True)
    options = {"script_text": TEMPLATE, "field_kinds": KINDS, **approval}
    ScriptApprovalFactory(grant=grant, **options)
    return grant


def decide(grant, *, values=VALUES, kinds=KINDS, say=None, lexicon=None):
    return authorize_render(
        grant,
        avatar_enabled=True,
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        script_text=merge(TEMPLATE, values, say=say),
        lexicon=lexicon,
        template=TemplateUse(TEMPLATE, values, kinds, say),
    )


def test_an_approved_template_allows_its_fillings():
    grant = grant_with_approval()
    assert decide(grant)
    assert decide(grant, values={"first_name": "Bo", "company": "Bolt & Co"})


def test_a_field_the_subject_was_not_shown_is_not_approved():
    grant = grant_with_approval(field_kinds={"first_name": "given_name"})
    decision = decide(grant)
    assert not decision
    assert decision.reason == (
        "The subject approved {{company}} for no value, not for a company: letters, digits, "
        "spaces and & . , ' -."
    )


def test_a_value_of_another_kind_names_both_kinds():
    grant = grant_with_approval(field_kinds={**KINDS, "first_name": "company"})
    decision = decide(grant)
    assert not decision
    assert decision.reason == (
        "The subject approved {{first_name}} for a company: letters, digits, spaces and "
        "& . , ' -, not for a given name: letters, spaces, hyphens and apostrophes."
    )


def test_a_lexicon_that_changes_the_template_words_needs_a_new_approval():
    grant = grant_with_approval()  # approved as spoken without a lexicon
    decision = decide(grant, lexicon=LEXICON)
    assert not decision
    assert decision.reason == (
        "The pronunciations changed since the subject approved this template. Send it to the "
        "subject for approval again."
    )


def test_a_template_approved_with_the_lexicon_allows_renders_with_it():
    spoken = spoken_text(TEMPLATE, LEXICON)
    grant = grant_with_approval(spoken_text=spoken, spoken_sha256=sha256_hex(spoken))
    assert decide(grant, lexicon=LEXICON)
    assert not decide(grant)  # and not without it: the words would differ from those approved


@pytest.mark.parametrize(
    "status, reason",
    [
        (ScriptApproval.Status.PENDING, "The subject has not approved this script yet."),
        (ScriptApproval.Status.REJECTED, "The subject rejected this script."),
    ],
)
def test_a_template_not_approved_is_refused_with_its_answer(status, reason):
    # Sent with the workspace's lexicon: the words it speaks are those the subject was shown.
    spoken = spoken_text(TEMPLATE, LEXICON)
    grant = grant_with_approval(status=status, spoken_text=spoken, spoken_sha256=sha256_hex(spoken))
    decision = decide(grant, lexicon=LEXICON)
    assert not decision
    assert decision.reason == reason


def test_a_respelled_value_is_a_filling_of_the_template():
    """The worker checks the job's stored template (TemplateUse.from_dict) with the row's
    respellings: the script says the respelling, and it is still the approved template."""
    grant = grant_with_approval()
    stored = {"text": TEMPLATE, "values": VALUES, "kinds": KINDS, "say": {"first_name": "An"}}
    template = TemplateUse.from_dict(stored)
    assert template.say == {"first_name": "An"}
    decision = authorize_render(
        grant,
        avatar_enabled=True,
        purpose=Purpose.INTERNAL,
        at=timezone.now(),
        script_text=merge(TEMPLATE, VALUES, say={"first_name": "An"}),
        template=template,
    )
    assert decision, decision.reason
    assert TemplateUse.from_dict({**stored, "say": None}).say == {}
    assert TemplateUse.from_dict({"text": TEMPLATE, "values": VALUES, "kinds": KINDS}).say == {}
