"""The words a script is spoken as: one path for every voice engine, the captions, the consent
policy and the subject's per-script approval, so the words checked are the words spoken.

A script goes: markup parsed (``engine.voice.markup``) → each spoken run gets the pronunciation
lexicon's respellings → numbers, dates and amounts in words (``engine.voice.normalize``) → the
safe alphabet festival's Scheme takes (``sanitize_script``). ``spoken_pieces`` keeps the pieces
with their rate, emphasis and pauses for the engines; ``spoken_text`` is the same words as one
string, for people and for hashing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from engine.voice.markup import Pause, apply_lexicon, parse_script
from engine.voice.normalize import normalize_text

_SAFE = re.compile(r"[^A-Za-z0-9 .,!?'\-:]")
_REPLACEMENTS = {
    "&": " and ",
    "%": " percent ",
    "+": " plus ",
    "@": " at ",
    "=": " equals ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": " ",
    "\u201d": " ",
    "\u2013": ", ",
    "\u2014": ", ",
    "(": ", ",
    ")": ", ",
    ";": ", ",
}
_WORD = re.compile(r"[A-Za-z0-9]+")
_TAG = re.compile(r"\[[^\[\]]*\]")  # in a script parse_script accepted, every [...] is markup


def sanitize_script(text: str) -> str:
    """The script reduced to letters, digits, spaces and . , ! ? ' - : (safe in a Scheme string)."""
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _SAFE.sub(" ", text)
    text = re.sub(r"\s*,[\s,]*", ", ", text)
    return " ".join(text.split()).strip(" ,")


def speakable(text: str, lexicon: Mapping[str, str] | None = None) -> str:
    """One run of script text (no markup) as the voice says it: the lexicon's respellings, then
    numbers, dates and amounts in words, then festival's safe alphabet."""
    return sanitize_script(normalize_text(apply_lexicon(text, lexicon)))


@dataclass(frozen=True)
class SpokenPiece:
    """A run of the script as the voice says it (``text``, already ``speakable``)."""

    text: str
    rate: float = 1.0
    emphasis: bool = False
    # Only markup stood between this piece and the previous one, inside a word ("poli[pause
    # 0.1s]tics"): a listener hears one word, so the spoken text joins them without a space.
    joins_previous: bool = False


def spoken_pieces(
    script: str, lexicon: Mapping[str, str] | None = None
) -> list[SpokenPiece | Pause]:
    """The script as spoken pieces and pauses, in order; raises MarkupError on invalid markup."""
    pieces: list[SpokenPiece | Pause] = []
    before = ""  # the raw text of the last spoken segment
    for segment in parse_script(script):
        if isinstance(segment, Pause):
            pieces.append(segment)
            continue
        touching = bool(before) and before[-1].isalnum() and segment.text[0].isalnum()
        pieces.append(
            SpokenPiece(speakable(segment.text, lexicon), segment.rate, segment.emphasis, touching)
        )
        before = segment.text
    return pieces


def spoken_text(script: str, lexicon: Mapping[str, str] | None = None) -> str:
    """Exactly the words the voice engine says for ``script`` with ``lexicon`` (word ->
    respelling), as one line; raises MarkupError on invalid markup. Pauses, rate and emphasis
    are not words and leave no trace, except that a word cut by markup stays one word."""
    text = ""
    for piece in spoken_pieces(script, lexicon):
        if isinstance(piece, SpokenPiece) and piece.text:
            text += ("" if piece.joins_previous or not text else " ") + piece.text
    return text


def written_text(script: str) -> str:
    """The script's own words as a reader sees them: markup removed (a ``[say X]word[/say]``
    shows "word"), nothing respelled, no number read out; raises MarkupError like the rest."""
    parse_script(script)
    return " ".join(_TAG.sub("", script).split())


def same_words(first: str, second: str) -> bool:
    """Whether two texts say the same words (letters and digits, any case or punctuation)."""
    return _WORD.findall(first.casefold()) == _WORD.findall(second.casefold())
