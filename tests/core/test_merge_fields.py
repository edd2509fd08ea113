"""Merge fields: what a template may hold, what a recipient's values may be, and the merge."""

import pytest

from core.merge_fields import TemplateError, check_value, merge, parse_template

FIELDS = {"first_name": "given_name", "company": "company", "orders": "number"}


def test_fields_are_found_in_order_with_their_fallbacks():
    found = parse_template("Hi {{first_name|there}}, thanks from {{ company }}.", FIELDS)
    assert [(p.name, p.fallback) for p in found] == [("first_name", "there"), ("company", None)]


def test_values_are_merged_and_an_empty_value_takes_the_fallback():
    text = "Hi {{first_name|there}}, welcome to {{company}}."
    assert merge(text, {"first_name": "Ana", "company": "Acme"}) == "Hi Ana, welcome to Acme."
    assert merge(text, {"first_name": "  ", "company": "Acme"}) == "Hi there, welcome to Acme."


def test_a_field_without_a_value_or_fallback_is_an_error_naming_it():
    with pytest.raises(TemplateError, match=r"Line 2, column 6: \{\{company\}\} has no value"):
        merge("Hello.\nFrom {{company}}.", {"company": ""})


def test_a_url_gets_its_values_percent_encoded():
    url = "https://example.com/offer?name={{first_name}}&co={{company}}"
    merged = merge(url, {"first_name": "Zoë", "company": "A&B /x"}, url=True)
    assert merged == "https://example.com/offer?name=Zo%C3%AB&co=A%26B%20%2Fx"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("Hi {{last_name}}.", (1, 4), "Unknown field {{last_name}}; the fields are: company,"),
        ("Hi {{first_name.", (1, 4), "never closed"),
        ("Hi\n  first_name}} there", (2, 13), "closes nothing"),
        ("Hi {first_name}", (1, 4), "single brace"),
        ("Hi {{first name}}", (1, 4), "is not a field"),
        ("Hi {{first_name|a{b}}", (1, 4), "fallback cannot hold"),
        ("[say {{first_name}}]Anna[/say]", (1, 6), "inside the markup tag"),
        ("Hi [say AH-na]{{first_name}}[/say].", (1, 15), "between [say ...] and [/say]"),
        ("[pause {{orders}}s] go", (1, 8), "inside the markup tag"),
    ],
)
def test_a_bad_template_is_refused_naming_line_and_column(text, where, words):
    with pytest.raises(TemplateError) as refused:
        parse_template(text, FIELDS)
    assert (refused.value.line, refused.value.column) == where
    assert words in str(refused.value)
    assert refused.value.code == "template_invalid"


def test_markup_outside_fields_is_left_alone():
    text = "[slow]Hello {{first_name|there}}[/slow] [pause 1s] [say AK-mee]Acme[/say]."
    assert merge(text, {"first_name": "Bo"}, fields=FIELDS) == (
        "[slow]Hello Bo[/slow] [pause 1s] [say AK-mee]Acme[/say]."
    )


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("given_name", "Anne-Marie", None),
        ("given_name", "O'Brien", None),
        ("given_name", "José Luis", None),
        ("given_name", "Zoë", None),
        ("given_name", "R2D2", "is not a given name"),
        ("given_name", "Ann  ", "is not a given name"),
        ("given_name", "A" * 41, "is 41 characters; a given name"),
        ("given_name", "Ann\x07", "control character"),
        ("given_name", "Ann\u202e", "control character"),  # a right-to-left override
        ("given_name", "{{company}}", "brace"),
        ("given_name", "[pause 9s]", "square bracket"),
        ("company", "Smith & Sons Ltd.", None),
        ("company", "Wire $500 now!", "is not a company"),
        ("number", "1,250", None),
        ("number", "3.5", None),
        ("number", "12a", "is not a number"),
        ("text", "your spring order", None),
        ("text", "x" * 121, "is 121 characters"),
    ],
)
def test_a_value_is_checked_against_its_fields_kind(kind, value, problem):
    found = check_value(kind, value)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
