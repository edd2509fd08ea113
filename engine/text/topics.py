# The look-alike table below is made of the very characters RUF001 warns about.
# ruff: noqa: RUF001
"""Forbidden-topic matching that spelling tricks cannot dodge.

A subject forbids topics ("politics", "climate change", "#stopthesteal"); a script must not
mention them in any way a viewer reads or a listener hears. Both the text and the topics are
folded to one plain form first (``fold``): Unicode NFKC, invisible and format characters removed
(zero-width space, soft hyphen, word joiner, bidi controls, variation selectors ...), look-alike
letters mapped to ASCII (Cyrillic, Greek, small capitals, regional indicators), accents removed,
case folded. The folded text is then read three ways and a topic found in any of them counts:

- words split at anything that is not a letter or digit ("climate_change" → climate change);
- words joined across hyphens, underscores, dots, markup and similar joiners written inside a
  word ("poli[pause 0.1s]tics", "p.o.l.i.t.i.c.s", "climate-change" → politics, climatechange);
- runs of three or more single letters joined ("p o l i t i c s").

A topic matches whole words only ("vote" never matches "devoted"), with simple inflections of its
last word ("political" for "politics", "votes" and "voting" for "vote"); a multi-word topic matches
whatever separates its words, or none ("ClimateChange"). A topic that starts or ends with a
symbol ("#stopthesteal", "c++") matches with its symbols, and also as its words and as the
voice speaks it ("stopthesteal", "c plus plus"); a hashtag is a phrase written without spaces,
so it also matches its words written apart ("stop the steal"). A short core never matches
without its symbols ("c++" is not "c").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from engine.voice.spoken import speakable

# Letters that look like ASCII letters but are not (Unicode TR39 calls them confusables). NFKC
# already maps fullwidth, mathematical (bold, italic, script ...), circled and superscript letters.
_LOOK_ALIKES = {
    # Cyrillic
    "А": "a", "а": "a", "В": "b", "в": "b", "С": "c", "с": "c", "Ԁ": "d", "ԁ": "d",
    "Е": "e", "е": "e", "Ё": "e", "ё": "e", "Һ": "h", "һ": "h", "Н": "h", "н": "h",
    "І": "i", "і": "i", "Ї": "i", "ї": "i", "Ј": "j", "ј": "j", "К": "k", "к": "k",
    "Ӏ": "l", "ӏ": "l", "М": "m", "м": "m", "О": "o", "о": "o", "Р": "p", "р": "p",
    "Ԛ": "q", "ԛ": "q", "Ѕ": "s", "ѕ": "s", "Т": "t", "т": "t", "Ү": "y",
    "ү": "y", "У": "y", "у": "y", "Ԝ": "w", "ԝ": "w", "Х": "x", "х": "x", "Ѡ": "w",
    "ѡ": "w", "Ь": "b", "ь": "b", "Ꙇ": "l", "Ѵ": "v", "ѵ": "v",
    # Greek
    "Α": "a", "α": "a", "Β": "b", "β": "b", "Ε": "e", "ε": "e", "Ζ": "z", "Η": "h",
    "η": "n", "Ι": "i", "ι": "i", "Κ": "k", "κ": "k", "Μ": "m", "Ν": "n", "ν": "v",
    "Ο": "o", "ο": "o", "Ρ": "p", "ρ": "p", "Τ": "t", "τ": "t", "Υ": "y", "υ": "u",
    "Χ": "x", "χ": "x", "ω": "w", "γ": "y", "ϲ": "c", "Ϲ": "c", "ϳ": "j", "ς": "s",
    "μ": "u", "ϱ": "p",
    # Latin letters that fold to no ASCII letter of their own
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ɪ": "i", "ʏ": "y", "ʀ": "r",
    "ʙ": "b", "ʜ": "h", "ʟ": "l", "ɴ": "n", "ɢ": "g", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ᴊ": "j", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ꜰ": "f", "ꜱ": "s", "ǫ": "q", "ɾ": "r", "ſ": "s",
    "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h",
    "ŧ": "t", "Ŧ": "t", "ƀ": "b", "ɨ": "i", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
    "þ": "th", "Þ": "th", "ð": "d", "Ð": "d",
}  # fmt: skip
_LOOK_ALIKES |= {chr(0x1F1E6 + i): chr(ord("a") + i) for i in range(26)}  # regional indicators
_LOOK_ALIKE_TABLE = str.maketrans(_LOOK_ALIKES)

# Characters that show nothing and are spoken as nothing, beyond the format category (Cf):
# Hangul fillers and the blank Braille pattern render as empty space inside a word.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
# Markup as engine.voice.markup reads it; after NFKC, fullwidth brackets are brackets too.
_MARKUP = re.compile(r"\[[^\[\]\n]*\]")
# Written inside a word, these join its halves: dashes, connectors and underscores (all mapped to
# "-" by ``fold``), dots, apostrophes, slashes, asterisks, a hyphen that breaks a line.
_JOINER = re.compile(r"(?<=[^\W_])(?:[-.·•‧∙'*/|~]|-[ \t]*\n\s*)+(?=[^\W_])")
_WORD = re.compile(r"[^\W_]+")
_EDGE_SYMBOLS = re.compile(r"^([^\w\s]*)(.*?)([^\w\s]*)$", re.DOTALL)


def fold(text: str) -> str:
    """``text`` in the one plain form matching compares: NFKC, format and invisible characters
    removed, look-alike letters as ASCII, accents removed, case folded; every dash or connector
    punctuation is "-". Markup and other symbols are kept."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_visible(ch) for ch in text)
    text = text.translate(_LOOK_ALIKE_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me"))
    text = text.casefold().translate(_LOOK_ALIKE_TABLE)
    return unicodedata.normalize("NFKC", text)


def _visible(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf" or ch in _BLANK_LETTERS:
        return ""
    if category == "Cc" and not ch.isspace():
        return ""
    if category in ("Pd", "Pc"):
        return "-"
    return ch


def _views(folded: str) -> list[list[str]]:
    """The word sequences a folded text is read as (see the module's docstring)."""
    spaced = _WORD.findall(_MARKUP.sub(" ", folded))
    joined = _WORD.findall(_JOINER.sub("", _MARKUP.sub("", folded)))
    letters: list[str] = []
    run: list[str] = []
    for word in [*spaced, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        letters += ["".join(run)] if len(run) >= 3 else run
        run = []
        if word:
            letters.append(word)
    return [spaced, joined, letters]


def inflections(word: str) -> set[str]:
    """``word`` and its simple English inflections and derivations: plural, past, -ing, -er,
    -ic/-ics/-ical, -ism/-ist, -ion/-ious/-ional, -ing from its verb ("politics" → political,
    politically; "vote" → votes, voting; "religion" → religious; "gambling" → gamble)."""
    forms = {word}
    if len(word) < 3 or not word.isalpha():
        return forms
    stems = {word}
    if word.endswith("ies") and len(word) > 4:
        stems.add(word[:-3] + "y")
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        stems.add(word[:-1])
    for stem in list(stems):
        if stem.endswith("ical"):
            stems |= {stem[:-4] + "ic", stem[:-4] + "ics"}
        if stem.endswith("ism"):
            stems.add(stem[:-3] + "ist")
        if stem.endswith("ist"):
            stems.add(stem[:-3] + "ism")
        if stem.endswith("ing") and len(stem) > 5:  # "gambling" -> gamble, "voting" -> vote
            base = stem[:-3]
            stems |= {base, base + "e"}
    for stem in stems:
        forms |= {stem, stem + "s", stem + "'s"}
        if stem.endswith(("s", "x", "z", "ch", "sh")):
            forms.add(stem + "es")
        if stem.endswith("ics"):
            forms |= {stem[:-1] + "al", stem[:-1] + "ally"}
        if stem.endswith("ic"):
            forms |= {stem + "s", stem + "al", stem + "ally"}
        if stem.endswith("ion"):  # "religion" -> religious, "nation" -> national
            forms |= {stem[:-3] + "ious", stem + "al", stem + "ally"}
        if stem.endswith("e"):
            base = stem[:-1]
            forms |= {stem + "d", stem + "r", stem + "rs", base + "ing"}
        elif stem.endswith("y") and stem[-2:-1] not in "aeiou":
            forms |= {stem[:-1] + "ies", stem[:-1] + "ied", stem + "ing"}
        else:
            doubled = stem + stem[-1] if _short_closed(stem) else stem
            forms |= {
                stem + "ed",
                stem + "ing",
                stem + "er",
                stem + "ers",
                doubled + "ed",
                doubled + "ing",
                doubled + "er",
                doubled + "ers",
            }
    return {form.replace("'", "") for form in forms} | forms


def _short_closed(word: str) -> bool:
    """Ends consonant-vowel-consonant ("gun", "ban"): English doubles the last letter."""
    vowels = "aeiou"
    return (
        len(word) >= 3
        and word[-1] not in vowels + "wxy"
        and word[-2] in vowels
        and word[-3] not in vowels
    )


class _Topic:
    """A forbidden topic as the word sequences and symbol patterns that mention it."""

    def __init__(self, topic: str):
        self.topic = topic
        self.sequences: list[list[set[str]]] = []
        self.symbolic: list[re.Pattern] = []
        self.hashtag: set[str] = set()  # "#stopthesteal" is also "stop the steal"
        folded = fold(topic).strip()
        lead, core, trail = _EDGE_SYMBOLS.match(folded).groups()
        words = _WORD.findall(core)
        if lead or trail:
            before = "" if lead else r"(?<![^\W_])"
            after = "" if trail else r"(?![^\W_])"
            self.symbolic.append(re.compile(before + re.escape(folded) + after))
            # As the voice says it: "c++" is "c plus plus", "#tag" is "tag".
            spoken_words = _WORD.findall(fold(speakable(topic)))
            if spoken_words and spoken_words != words:
                self._add(spoken_words)
        if words and not (trail and len("".join(words)) < 3):
            # A short core needs its symbols ("c++" is not "c"); "#stopthesteal" is its word.
            self._add(words)
        if lead.startswith("#") and len(words) == 1:
            self.hashtag = inflections(words[0])

    def _add(self, words: list[str]) -> None:
        self.sequences.append([{w} for w in words[:-1]] + [inflections(words[-1])])
        if len(words) > 1:  # "climatechange", "#ClimateChange"
            self.sequences.append([inflections("".join(words))])

    def found_in(
        self, folded: str, views: Sequence[Sequence[str]], words: frozenset[str] | None = None
    ) -> bool:
        """``words``: every word of ``views``, when the caller has them: a sequence whose first
        word is none of them cannot be in any view (the screening asks thousands of phrases
        of one sentence, and most fail here)."""
        text = _MARKUP.sub("", folded)
        if any(pattern.search(text) for pattern in self.symbolic):
            return True
        sequences = self.sequences
        if words is not None:
            sequences = [s for s in sequences if not s[0].isdisjoint(words)]
        if any(_contains(view, sequence) for view in views for sequence in sequences):
            return True
        return bool(self.hashtag) and any(_spells(view, self.hashtag) for view in views)


def _contains(words: Sequence[str], sequence: Sequence[set[str]]) -> bool:
    n, first = len(sequence), sequence[0]
    return any(
        word in first and all(words[i + k] in sequence[k] for k in range(1, n))
        for i, word in enumerate(words[: len(words) - n + 1])
    )


def _spells(words: Sequence[str], forms: set[str], longest: int = 6) -> bool:
    """Whether a few words in a row spell one of ``forms`` when written together."""
    for i in range(len(words)):
        joined = ""
        for word in words[i : i + longest]:
            joined += word
            if joined in forms:
                return True
    return False


def find_topic(texts: Iterable[str], topics: Iterable[str]) -> str | None:
    """The first of ``topics`` (as the subject wrote it) that any of ``texts`` mentions, or None.

    Give every form a script takes: the text as written (with markup) and the text the voice
    speaks (``engine.voice.spoken.spoken_text``), so neither markup nor the lexicon hides a word.
    """
    read = [(folded, _views(folded)) for folded in (fold(text) for text in texts if text)]
    for topic in topics:
        if topic and topic.strip():
            matcher = _Topic(topic)
            if any(matcher.found_in(folded, views) for folded, views in read):
                return topic
    return None
