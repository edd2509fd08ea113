"""Acceptable-use screening (engine.text.screening), measured on tests/data/screening_samples."""

import json

import pytest

from engine.text.screening import (
    ScreeningPolicyError,
    describe,
    load_policy,
    screen,
    screen_all,
)
from tests.data.screening_samples import HARMFUL, HARMLESS


def test_the_labelled_set_is_large_enough_to_measure():
    assert len(HARMFUL) >= 30
    assert len(HARMLESS) >= 60


def test_every_harmful_script_is_held_and_few_harmless_ones_are(capsys):
    missed = [text for text in HARMFUL if not screen(text)]
    flagged = [text for text in HARMLESS if screen(text)]
    held_rate = 1 - len(missed) / len(HARMFUL)
    false_positive_rate = len(flagged) / len(HARMLESS)
    with capsys.disabled():
        print(
            f"\nscreening: {len(HARMFUL) - len(missed)}/{len(HARMFUL)} harmful held "
            f"({held_rate:.0%}); {len(flagged)}/{len(HARMLESS)} harmless flagged "
            f"({false_positive_rate:.1%})"
        )
    assert missed == []
    assert false_positive_rate <= 0.02, flagged


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Buy Apple g1ft c@rds and send me the codes.", "gift_cards_or_crypto"),
        ("Buy Apple g\u0456ft c\u0430rds and send me the c\u043edes.", "gift_cards_or_crypto"),
        ("Send me your p.a.s.s.w.o.r.d now.", "payment_or_credentials"),
        ("Send me your pass\u200bword now.", "payment_or_credentials"),  # zero-width space
        ("Send me your pass[pause 0.1s]word now.", "payment_or_credentials"),
        ("This is the I.R.S. and a warrant is out for your arrest.", "authority_impersonation"),
        ("Vote for the Greens candidate on election day.", "political_persuasion"),
        ("Watch free p o r n now.", "sexual_content"),
        ("Transfer the funds immediately, the money is needed urgently.", "urgent_money_transfer"),
    ],
)
def test_spelling_dodges_are_held_in_their_category(text, category):
    assert category in [finding.category for finding in screen(text)]


def test_a_finding_names_its_category_and_the_matched_words():
    (finding,) = screen("Please send me your password.")
    assert finding.category == "payment_or_credentials"
    assert finding.matched == ("send", "password")
    assert describe([finding]) == "Payment or credential request (“send”, “password”)"


def test_a_warning_in_one_clause_does_not_clear_a_request_in_another():
    assert screen("Don't tell anyone, just send me your PIN.")
    assert not screen("Never send your PIN to anyone.")


def test_screen_all_merges_findings_of_several_texts():
    findings = screen_all(["Send me your password.", "Also text me your PIN."])
    assert [f.category for f in findings] == ["payment_or_credentials"]
    assert set(findings[0].matched) >= {"send", "password", "text me", "pin"}


def test_an_operator_policy_replaces_the_default(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {"categories": {"competitors": {"label": "Competitor", "rules": [[["Globex"]]]}}}
        )
    )
    policy = load_policy(path)
    assert [f.category for f in screen("Globex is worse.", policy)] == ["competitors"]
    assert screen("Send me your password.", policy) == []


def test_an_unreadable_policy_is_a_clear_error(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text('{"categories": {"x": {}}}')
    with pytest.raises(ScreeningPolicyError):
        load_policy(path)
    with pytest.raises(ScreeningPolicyError):
        load_policy(tmp_path / "missing.json")
