"""Script markup, the pronunciation lexicon and numbers read as words."""

import pytest

from engine.voice.markup import MarkupError, Pause, Spoken, apply_lexicon, parse_script
from engine.voice.normalize import normalize_text, ordinal_words, year_words


def test_pauses_rates_and_emphasis_become_segments():
    segments = parse_script(
        "Hello. [pause 1.5s] [slow]Take it [emphasis]easy[/emphasis].[/slow] [pause 300ms]Bye."
    )
    assert segments == [
        Spoken("Hello. "),
        Pause(1.5),
        Spoken("Take it ", rate=0.8),
        Spoken("easy", rate=0.8, emphasis=True),
        Spoken(". ", rate=0.8),
        Pause(0.3),
        Spoken("Bye."),
    ]


def test_nested_rates_multiply():
    assert parse_script("[rate 0.5][fast]x[/fast][/rate]") == [Spoken("x", rate=0.6)]


def test_say_replaces_the_word_with_its_respelling():
    assert parse_script("Meet [say nee-SHAH]Nisha[/say] today.") == [Spoken("Meet nee-SHAH today.")]


@pytest.mark.parametrize(
    ("script", "line", "column", "message"),
    [
        ("Hello [pase 1s] there", 1, 7, "Unknown tag [pase]"),
        ("Fine.\nThen [slow]slowly", 2, 6, "[slow] is never closed"),
        ("One [/fast] two", 1, 5, "[/fast] closes nothing"),
        ("[slow][emphasis]x[/slow][/emphasis]", 1, 18, "close [/emphasis] first"),
        ("Wait [pause long]", 1, 6, "is not a length"),
        ("Wait [pause 30s]", 1, 6, "at most 10 s"),
        ("Go [rate 5]now[/rate]", 1, 4, "from 0.5 to 2.0"),
        ("A lone ] here", 1, 8, "A lone ']'"),
        ("[say]x[/say]", 1, 1, "needs a respelling"),
    ],
)
def test_invalid_markup_points_at_the_spot(script, line, column, message):
    with pytest.raises(MarkupError) as caught:
        parse_script(script)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"Line {line}, column {column}: ")
    assert message in str(caught.value)


def test_the_lexicon_replaces_whole_words_in_any_case():
    lexicon = {"Nguyen": "win", "SQL": "sequel"}
    assert apply_lexicon("nguyen writes SQL; Nguyens and SQLite stay.", lexicon) == (
        "win writes sequel; Nguyens and SQLite stay."
    )


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("It costs $1,250.50.", "It costs one thousand two hundred fifty dollars and fifty cents."),
        ("Only $0.99 or €5", "Only ninety-nine cents or five euros"),
        ("£3.20 and 12 USD", "three pounds and twenty pence and twelve dollars"),
        ("We raised $2.5M.", "We raised two point five million dollars."),
        ("Up 4.5% in 2026.", "Up four point five percent in twenty twenty-six."),
        (
            "On 2026-03-14 at 3:05 pm.",
            "On March fourteenth, twenty twenty-six at three oh five P M.",
        ),
        ("Born March 3rd, 1999.", "Born March third, nineteen ninety-nine."),
        ("Due 21 July 2001.", "Due the twenty-first of July, two thousand one."),
        ("The 2nd of 101 tries", "The second of one hundred one tries"),
        ("1,000,000 users, -3 degrees", "one million users, minus three degrees"),
    ],
)
def test_numbers_dates_and_currencies_are_read_as_words(text, spoken):
    assert normalize_text(text) == spoken


def test_years_and_ordinals_are_said_the_usual_way():
    assert year_words(1905) == "nineteen oh five"
    assert year_words(1900) == "nineteen hundred"
    assert year_words(2000) == "two thousand"
    assert ordinal_words(12) == "twelfth" and ordinal_words(40) == "fortieth"
