"""Acceptable-use screening: what a cloned voice and face may not be made to say or show.

A policy is a few categories (payment or credential requests, urgent money transfers, gift cards
and crypto, impersonation of an authority, political persuasion, sexual content), each a list of
rules. A rule is a list of phrase groups: it matches a sentence or clause holding a phrase of
every group ("send" + "password", "gift card" + "code") and none of the category's ``unless``
phrases (a training script that warns "never share your password" or "scammers pose as the
police" names the thing it warns against). Phrases match as forbidden topics do
(``engine.text.topics``): every spelling trick that module defeats (look-alike letters, invisible
characters, "p.a.s.s.w.o.r.d", markup inside a word) is defeated here too, plus digits and symbols
written for letters ("g1ft c@rds", "p4ssw0rd").

The shipped policy is ``screening_policy.json`` beside this module; an operator tunes a copy and
loads it with ``load_policy``. ``screen`` is pure: text in, findings out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# The matcher of forbidden topics, reused so both checks read a text the same way.
from engine.text.topics import _Topic, _views, fold

DEFAULT_POLICY_FILE = Path(__file__).with_name("screening_policy.json")

# Clause and sentence ends; a dot after a single letter ("p. a. s. s") spells, it ends nothing.
_CLAUSE_END = re.compile(r"(?<=[^\W_]{2})[.!?;:,]+(?=\s|$)|\n+|\s[-\u2013\u2014]+\s")
_SENTENCE_END = re.compile(r"(?<=[^\W_]{2})[.!?]+(?=\s|$)|\n\s*\n")
# Digits and symbols written for letters, inside a word that has letters too.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LEET_WORD = re.compile(r"[a-z0-9@$]*[a-z][a-z0-9@$]*")


class ScreeningPolicyError(ValueError):
    """A policy file that cannot be read as category -> label, unless, rules."""


@dataclass(frozen=True)
class Finding:
    """One reason to hold a text: its category, the category's label and the phrases matched."""

    category: str
    label: str
    matched: tuple[str, ...]

    @property
    def reason(self) -> str:
        return f"{self.label} ({', '.join(f'“{m}”' for m in self.matched)})"

    def as_dict(self) -> dict:
        return {"category": self.category, "label": self.label, "matched": list(self.matched)}


class _Phrase:
    def __init__(self, phrase: str):
        self.phrase = phrase
        self.matcher = _Topic(phrase)
        # The words one of its word sequences must start with; a phrase with symbols or a
        # hashtag is always read in full.
        self.anchors = frozenset().union(*(sequence[0] for sequence in self.matcher.sequences))
        self.always = bool(self.matcher.symbolic or self.matcher.hashtag)

    def found_in(self, unit: _Unit) -> bool:
        if not self.always and unit.words_all.isdisjoint(self.anchors):
            return False  # most phrases, most sentences: none of its first words is there
        return self.matcher.found_in(unit.folded, unit.views, unit.words) or self.matcher.found_in(
            unit.leet, unit.leet_views, unit.leet_words
        )


@dataclass(frozen=True)
class _Rule:
    groups: tuple[tuple[_Phrase, ...], ...]


@dataclass(frozen=True)
class _Category:
    name: str
    label: str
    unless: tuple[_Phrase, ...]
    rules: tuple[_Rule, ...]


class _Unit:
    """A sentence or clause, folded, read every way ``engine.text.topics`` reads a text."""

    def __init__(self, folded: str):
        self.folded = folded
        self.views = _views(folded)
        self.leet = _LEET_WORD.sub(lambda m: m.group().translate(_LEET), folded)
        self.leet_views = _views(self.leet) if self.leet != folded else self.views
        self.words = frozenset(word for view in self.views for word in view)
        self.leet_words = frozenset(word for view in self.leet_views for word in view)
        self.words_all = self.words | self.leet_words


class ScreeningPolicy:
    """A compiled policy: categories of rules, ready to screen texts."""

    def __init__(self, data: dict):
        try:
            categories = data["categories"]
            self.categories = tuple(
                _Category(
                    name=name,
                    label=str(spec["label"]),
                    unless=tuple(_Phrase(p) for p in spec.get("unless", ())),
                    rules=tuple(
                        _Rule(tuple(tuple(_Phrase(p) for p in group) for group in rule))
                        for rule in spec["rules"]
                    ),
                )
                for name, spec in categories.items()
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ScreeningPolicyError(f"Not a screening policy: {error!r}") from error

    def screen(self, text: str) -> list[Finding]:
        """What in ``text`` this policy holds for review: one Finding per category matched."""
        units = [_Unit(part) for part in _units(fold(text or ""))]
        findings = []
        for category in self.categories:
            matched: list[str] = []
            for unit in units:
                if any(phrase.found_in(unit) for phrase in category.unless):
                    continue
                for rule in category.rules:
                    words = _rule_match(rule, unit)
                    matched += [w for w in words if w not in matched]
            if matched:
                findings.append(Finding(category.name, category.label, tuple(matched)))
        return findings


def _units(folded: str) -> list[str]:
    """The clauses and the sentences of a folded text (a rule may need a whole sentence, and a
    negation in one clause must not clear another: "don't tell anyone, send me your PIN")."""
    sentences = [s for s in _SENTENCE_END.split(folded) if s.strip()]
    clauses = [c for s in sentences for c in _CLAUSE_END.split(s) if c.strip()]
    return list(dict.fromkeys([*clauses, *sentences]))


def _rule_match(rule: _Rule, unit: _Unit) -> list[str]:
    words = []
    for group in rule.groups:
        found = next((phrase.phrase for phrase in group if phrase.found_in(unit)), None)
        if found is None:
            return []
        words.append(found)
    return words


def load_policy(path: str | Path | None = None) -> ScreeningPolicy:
    """The policy in the JSON file at ``path`` (the shipped default when None)."""
    return _load(str(path or DEFAULT_POLICY_FILE))


@cache
def _load(path: str) -> ScreeningPolicy:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ScreeningPolicyError(f"Cannot read the screening policy {path}: {error}") from error
    return ScreeningPolicy(data)


def screen(text: str, policy: ScreeningPolicy | None = None) -> list[Finding]:
    """What in ``text`` the acceptable-use policy (the shipped default when None) holds for an
    owner's review: one Finding per category, with the phrases that matched; [] when none."""
    return (policy or load_policy()).screen(text)


def screen_all(texts: Iterable[str], policy: ScreeningPolicy | None = None) -> list[Finding]:
    """``screen`` over several texts (a script as written, as spoken, its on-screen text), one
    Finding per category with every phrase matched in any of them."""
    merged: dict[str, Finding] = {}
    for text in texts:
        for finding in screen(text, policy):
            known = merged.get(finding.category)
            if known is None:
                merged[finding.category] = finding
            else:
                extra = tuple(m for m in finding.matched if m not in known.matched)
                merged[finding.category] = Finding(
                    known.category, known.label, known.matched + extra
                )
    return list(merged.values())


def describe(findings: Sequence[Finding]) -> str:
    """The findings as one line for people: "Gift cards or crypto payment (“gift card”, ...)"."""
    return "; ".join(finding.reason for finding in findings)
