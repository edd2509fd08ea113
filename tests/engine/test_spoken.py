"""One spoken text: the words every voice engine says, the captions align and consent checks."""

import pytest

from engine.captions import spoken_forms
from engine.voice.festival import Chunk, script_chunks
from engine.voice.markup import MarkupError
from engine.voice.spoken import (
    SpokenPiece,
    same_words,
    sanitize_script,
    spoken_pieces,
    spoken_text,
    written_text,
)

LEXICON = {"SQL": "sequel", "Nguyen": "win"}


def test_the_spoken_text_applies_markup_the_lexicon_and_numbers():
    script = "Meet [say nee-SHAH]Nisha[/say] and Nguyen. [pause 1s][slow]SQL costs $5.[/slow]"
    assert spoken_text(script, LEXICON) == "Meet nee-SHAH and win. sequel costs five dollars."


def test_festival_speaks_exactly_the_spoken_text():
    script = "Welcome, Nguyen. [pause 1s] [slow]We use SQL[/slow] since 1999 (really); 50% off."
    chunks = script_chunks(script, LEXICON)
    assert " ".join(c.text for c in chunks if c.text) == spoken_text(script, LEXICON)
    assert Chunk(pause=1.0) in chunks


def test_a_word_cut_by_markup_is_one_spoken_word():
    assert spoken_text("Talk poli[pause 0.1s]tics now.") == "Talk politics now."
    assert spoken_text("Talk poli [pause 0.1s] tics now.") == "Talk poli tics now."
    assert spoken_text("Hello.[pause 1s]World.") == "Hello. World."
    pieces = spoken_pieces("poli[pause 0.1s]tics")
    assert [getattr(p, "joins_previous", None) for p in pieces] == [False, None, True]


def test_the_pieces_keep_their_rate_and_emphasis():
    pieces = spoken_pieces("Plain [emphasis]loud[/emphasis] [slow]slow[/slow]")
    spoken = [(p.text, p.rate, p.emphasis) for p in pieces if isinstance(p, SpokenPiece)]
    assert spoken == [("Plain", 1.0, False), ("loud", 1.0, True), ("slow", 0.8, False)]


def test_the_spoken_text_is_plain_ascii_festival_can_quote():
    """Accents folded, other scripts, emoji and unsafe symbols dropped, symbols said in words,
    runs of commas made one, no comma or space left at either end (and no letter taken)."""
    text = (
        "Caf\u00e9 na\u00efve #team \u65e5\u672c\U0001f44d A+B=C @ home & "
        "\u201cquoted\u201d it\u2019s 50%"
    )
    assert (
        sanitize_script(text)
        == "Cafe naive team A plus B equals C at home and quoted it's 50 percent"
    )
    assert sanitize_script(" ,, X-ray ,  , Xenon ,") == "X-ray, Xenon"


def test_the_captions_expect_the_words_the_engine_says():
    text = "Nguyen paid $1,250.50 on 2024-03-05."
    assert same_words(" ".join(spoken_forms(text, LEXICON)), spoken_text(text, LEXICON))


def test_the_lexicon_changes_the_spoken_text_and_nothing_else_does():
    script = "Thank you for watching our weather update."
    assert spoken_text(script) == script
    assert spoken_text(script, {"weather": "politics"}) != spoken_text(script)
    assert spoken_text(script, {"Nguyen": "win"}) == spoken_text(script)


def test_invalid_markup_raises():
    with pytest.raises(MarkupError):
        spoken_text("Hello [pase 1s] there")


def test_written_text_and_same_words():
    assert written_text("Hi [slow]there[/slow], [say win]Nguyen[/say]!") == "Hi there, Nguyen!"
    assert same_words("Hi there, Anna!", "hi THERE anna")
    assert not same_words("It costs $5.", "It costs five dollars.")
