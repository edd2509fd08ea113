"""Merge fields: ``{{first_name}}``, or ``{{first_name|there}}`` with a fallback, in a script, the
text on screen, a share page's title and message, and a call-to-action URL.

``parse_template`` finds the fields and refuses, naming line and column: an unknown field, a
brace that opens or closes nothing, a field inside markup (in a tag's brackets, or between
``[say ...]`` and ``[/say]``, where the respelling would replace the value). ``merge`` puts a
recipient's values in. ``check_value`` says whether a value is of the kind its field takes
(a subject approves a template for given names, not for any text at all).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from core.errors import UserError
from engine.voice.markup import line_and_column

FIELD_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,39}"
# Words of letters joined by single spaces, hyphens or apostrophes: a given name, a respelling.
LETTER_WORDS = re.compile(r"[^\W\d_]+(?:[ '\u2019-][^\W\d_]+)*")
MAX_RESPELLING = 60
_FIELD = re.compile(r"\{\{\s*(" + FIELD_NAME + r")\s*(?:\|([^{}|\[\]\n]{0,80}))?\}\}")
_TAG = re.compile(r"\[(/?)([A-Za-z]+)([^\[\]]*)\]")
# A sentence ends at . ! ? or … (then perhaps a closing quote) and a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"\u201d\u2019)])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=\u2014)")


class TemplateError(UserError):
    """A template that cannot be merged; ``line`` and ``column`` (1-based) point at the problem."""

    code = "template_invalid"

    def __init__(self, message: str, *, text: str, offset: int):
        self.line, self.column = line_and_column(text, offset)
        super().__init__(f"Line {self.line}, column {self.column}: {message}")


@dataclass(frozen=True)
class Placeholder:
    name: str
    fallback: str | None  # None: the field must have a value
    start: int
    end: int


@dataclass(frozen=True)
class FieldKind:
    """What a field's values may be: a pattern over the whole value and a length limit."""

    label: str
    pattern: re.Pattern
    max_length: int
    example: str


FIELD_KINDS = {
    "given_name": FieldKind(
        "a given name: letters, spaces, hyphens and apostrophes",
        LETTER_WORDS,
        40,
        "Anne-Marie",
    ),
    "company": FieldKind(
        "a company: letters, digits, spaces and & . , ' -",
        re.compile(r"[\w&.,'\u2019 -]+"),
        80,
        "Smith & Sons Ltd.",
    ),
    "number": FieldKind(
        "a number", re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?"), 15, "1,250"
    ),
    "text": FieldKind("short text", re.compile(r"[^{}\[\]]+"), 120, "your spring order"),
}


def parse_template(text: str, fields: Mapping[str, object] | None = None) -> list[Placeholder]:
    """The template's fields in order; raises TemplateError. ``fields``: the known field names
    (any name is accepted when None)."""
    placeholders: list[Placeholder] = []
    position = 0
    while True:
        brace = _next_brace(text, position)
        if brace < 0:
            break
        match = _FIELD.match(text, brace)
        if match is None:
            raise TemplateError(_brace_problem(text, brace), text=text, offset=brace)
        name = match.group(1)
        if fields is not None and name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise TemplateError(
                f"Unknown field {{{{{name}}}}}; the fields are: {known}.", text=text, offset=brace
            )
        fallback = match.group(2)
        placeholders.append(
            Placeholder(
                name, fallback.strip() if fallback is not None else None, brace, match.end()
            )
        )
        position = match.end()
    _check_outside_markup(text, placeholders)
    return placeholders


def merge(
    text: str,
    values: Mapping[str, str],
    *,
    fields: Mapping | None = None,
    url: bool = False,
    say: Mapping[str, str] | None = None,
) -> str:
    """``text`` with each field replaced by its value (its fallback when the value is empty).
    ``url``: values are percent-encoded (a call-to-action link). ``say``: field -> how to say
    its value; the value is written ``[say respelling]value[/say]`` (the script markup), so
    captions show the name and the voice says the respelling. Raises TemplateError for a field
    with neither value nor fallback."""
    say = say or {}
    out, position = [], 0
    for placeholder in parse_template(text, fields):
        value = " ".join(str(values.get(placeholder.name) or "").split())
        if not value:
            if placeholder.fallback is None:
                raise TemplateError(
                    f"{{{{{placeholder.name}}}}} has no value and no fallback; give one as "
                    f"{{{{{placeholder.name}|...}}}}.",
                    text=text,
                    offset=placeholder.start,
                )
            value = placeholder.fallback
        respelling = " ".join(str(say.get(placeholder.name) or "").split())
        if url:
            value = quote(value, safe="")
        elif respelling and value != placeholder.fallback:
            value = f"[say {respelling}]{value}[/say]"
        out += [text[position : placeholder.start], value]
        position = placeholder.end
    out.append(text[position:])
    return "".join(out)


def check_instance(
    template: str,
    merged: str,
    values: Mapping[str, str],
    kinds: Mapping[str, str],
    say: Mapping[str, str] | None = None,
) -> str | None:
    """Why ``merged`` is not ``template`` filled with values of the kinds ``kinds`` gives its
    fields (what a subject approved), or None when it is. Respellings must be words of letters."""
    try:
        fields = parse_template(template)
    except TemplateError as error:
        return f"the template is invalid: {error}"
    for placeholder in fields:
        kind = kinds.get(placeholder.name)
        if kind not in FIELD_KINDS:
            return f"{{{{{placeholder.name}}}}} takes no approved kind of value"
        value = " ".join(str(values.get(placeholder.name) or "").split())
        problem = check_value(kind, value)
        if problem:
            return f"the value of {{{{{placeholder.name}}}}} {problem}"
        respelling = " ".join(str((say or {}).get(placeholder.name) or "").split())
        if respelling and not (
            LETTER_WORDS.fullmatch(respelling) and len(respelling) <= MAX_RESPELLING
        ):
            return f"the way to say {{{{{placeholder.name}}}}} is not words of letters"
    try:
        filled = merge(template, values, say=say)
    except TemplateError as error:
        return str(error)
    # Whitespace is not meaning: a video's sentences are its segments, joined by blank lines.
    same = filled.split() == merged.split()
    return None if same else "the text is not the approved template filled in"


def check_value(kind: str, value: str) -> str | None:
    """Why ``value`` is not of ``kind`` (a FIELD_KINDS key), or None when it is."""
    field_kind = FIELD_KINDS[kind]
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        return "contains a control character"
    if any(c in value for c in "{}"):
        return "contains a brace: values cannot hold merge fields"
    if any(c in value for c in "[]"):
        return "contains a square bracket: values cannot hold script markup"
    if len(value) > field_kind.max_length:
        return f"is {len(value)} characters; {field_kind.label} has at most {field_kind.max_length}"
    if value and not field_kind.pattern.fullmatch(value):
        return f"is not {field_kind.label} (e.g. {field_kind.example})"
    return None


def _next_brace(text: str, start: int) -> int:
    found = [i for i in (text.find("{", start), text.find("}", start)) if i >= 0]
    return min(found, default=-1)


def _brace_problem(text: str, offset: int) -> str:
    if text.startswith("{{", offset):
        closing = text.find("}}", offset)
        if closing < 0:
            return "This field is never closed; end it with }}."
        inside = text[offset + 2 : closing]
        name = inside.split("|", 1)[0].strip()
        if not re.fullmatch(FIELD_NAME, name):
            return (
                f"{{{{{inside}}}}} is not a field: a name is letters, digits and _ "
                "(e.g. {{first_name}}), with an optional |fallback."
            )
        return "A fallback cannot hold braces, brackets, | or a line break, nor pass 80 characters."
    if text[offset] == "}":
        return "This brace closes nothing; a field is written {{name}}."
    return "A single brace opens nothing; a field is written {{name}}."


def _check_outside_markup(text: str, placeholders: list[Placeholder]) -> None:
    """No field inside a tag's brackets, nor in the words a ``[say ...]`` respells."""
    spans: list[tuple[int, int, str]] = []
    say_open: int | None = None
    for tag in _TAG.finditer(text):
        spans.append((tag.start(), tag.end(), "inside the markup tag"))
        closing, name = tag.group(1), tag.group(2).lower()
        if name == "say" and not closing:
            say_open = tag.end()
        elif name == "say" and closing and say_open is not None:
            spans.append((say_open, tag.start(), "between [say ...] and [/say]"))
            say_open = None
    for placeholder in placeholders:
        for start, end, where in spans:
            if start < placeholder.end and placeholder.start < end:
                raise TemplateError(
                    f"{{{{{placeholder.name}}}}} is {where}; a respelling or a tag cannot "
                    "depend on a recipient (respell a value with a NAME:say column instead).",
                    text=text,
                    offset=placeholder.start,
                )


def sentences(text: str) -> list[str]:
    """The template cut into a video's segments, never inside markup: its sentences, and a
    sentence with a field cut again at its commas (or ; : —), so that only the clause holding
    a recipient's value is rendered per recipient and the words around it render once."""
    pieces = []
    for sentence in _glued(_SENTENCE_END.split(text)):
        if _FIELD.search(sentence):
            pieces += _glued(_CLAUSE_END.split(sentence))
        else:
            pieces.append(sentence)
    return pieces


def _glued(parts: list[str]) -> list[str]:
    """Parts joined back where a cut fell inside a tag's brackets or a [say]…[/say]."""
    pieces, buffer = [], ""
    for part in parts:
        buffer = f"{buffer} {part}" if buffer else part
        lowered = buffer.lower()
        closed = buffer.count("[") == buffer.count("]")
        if closed and lowered.count("[say") == lowered.count("[/say") and buffer.strip():
            pieces.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        pieces.append(buffer.strip())
    return pieces
