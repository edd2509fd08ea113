"""Script markup a presenter needs, parsed into segments a voice engine speaks in order.

Markup (square-bracket tags; anything else is text to speak):
- ``[pause 1.5s]`` / ``[pause 300ms]``: silence of that length (up to 10 s);
- ``[slow]...[/slow]``, ``[fast]...[/fast]``, ``[rate 0.8]...[/rate]``: speaking rate (0.5-2.0,
  1 is normal, higher is faster);
- ``[emphasis]...[/emphasis]``: stressed words (higher pitch, louder);
- ``[say respelling]word[/say]``: a pronunciation just here (the lexicon does it everywhere).

Invalid markup raises ``MarkupError`` whose message names the line and column of the problem.
Pronunciation lexicon and numbers, dates and currencies are applied by ``normalize`` after parsing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import EngineError

MAX_PAUSE_SECONDS = 10.0
MIN_RATE, MAX_RATE = 0.5, 2.0
RATE_WORDS = {"slow": 0.8, "fast": 1.2}

_TAG = re.compile(r"\[(/?)([A-Za-z]+)([^\[\]]*)\]")
_PAUSE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|ms|sec|secs|seconds?)?\s*$")


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """Where ``offset`` is in ``text``, as a person counts: line and column from 1."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


class MarkupError(EngineError):
    """Invalid script markup; ``line`` and ``column`` (1-based) point at the problem."""

    def __init__(self, message: str, *, text: str, offset: int):
        self.offset = offset
        self.line, self.column = line_and_column(text, offset)
        super().__init__(f"Line {self.line}, column {self.column}: {message}")


@dataclass(frozen=True)
class Spoken:
    """Text to speak at ``rate`` (1: normal), emphasised or not."""

    text: str
    rate: float = 1.0
    emphasis: bool = False


@dataclass(frozen=True)
class Pause:
    seconds: float


Segment = Spoken | Pause


def parse_script(text: str) -> list[Segment]:
    """The script as spoken segments and pauses; raises MarkupError on invalid markup."""
    segments: list[Segment] = []
    stack: list[tuple[str, int, float | str | None]] = []  # (tag, offset, value)
    position = 0

    def rate_now() -> float:
        rate = 1.0
        for tag, _, value in stack:
            if tag == "rate" or tag in RATE_WORDS:
                rate *= float(value)
        return rate

    def add_text(chunk: str) -> None:
        say = next((v for t, _, v in reversed(stack) if t == "say"), None)
        if say is not None:
            chunk = str(say) if chunk.strip() else ""
        if not chunk.strip():
            if chunk and segments and isinstance(segments[-1], Spoken):
                last = segments[-1]
                segments[-1] = Spoken(last.text + " ", last.rate, last.emphasis)
            return
        emphasis = any(t == "emphasis" for t, _, _ in stack)
        rate = round(rate_now(), 3)
        last = segments[-1] if segments else None
        if isinstance(last, Spoken) and last.rate == rate and last.emphasis == emphasis:
            segments[-1] = Spoken(last.text + chunk, rate, emphasis)
        else:
            segments.append(Spoken(chunk, rate, emphasis))

    for match in _TAG.finditer(text):
        _check_stray_brackets(text, position, match.start())
        add_text(text[position : match.start()])
        position = match.end()
        closing, name, argument = match.group(1), match.group(2).lower(), match.group(3).strip()
        if closing:
            _close(text, match, name, stack)
        elif name == "pause":
            segments.append(Pause(_pause_seconds(text, match, argument)))
        elif name in RATE_WORDS or name == "rate":
            if name in RATE_WORDS and argument:
                raise MarkupError(f"[{name}] takes no value.", text=text, offset=match.start())
            rate = RATE_WORDS.get(name) or _rate_value(text, match, argument)
            stack.append((name, match.start(), rate))
        elif name == "emphasis":
            if argument:
                raise MarkupError("[emphasis] takes no value.", text=text, offset=match.start())
            stack.append(("emphasis", match.start(), None))
        elif name == "say":
            if not re.search(r"[A-Za-z]", argument):
                raise MarkupError(
                    "[say ...] needs a respelling, as in [say nee-SHAH]Nisha[/say].",
                    text=text,
                    offset=match.start(),
                )
            stack.append(("say", match.start(), argument))
        else:
            raise MarkupError(
                f"Unknown tag [{match.group(2)}]; use [pause 1s], [slow], [fast], [rate 0.9], "
                "[emphasis] or [say respelling].",
                text=text,
                offset=match.start(),
            )
    _check_stray_brackets(text, position, len(text))
    add_text(text[position:])
    if stack:
        tag, offset, _ = stack[-1]
        raise MarkupError(f"[{tag}] is never closed; add [/{tag}].", text=text, offset=offset)
    return [s for s in segments if isinstance(s, Pause) or s.text.strip()]


def _close(text: str, match: re.Match, name: str, stack: list) -> None:
    wanted = name
    if name not in RATE_WORDS and name not in ("rate", "emphasis", "say"):
        raise MarkupError(f"Unknown closing tag [/{name}].", text=text, offset=match.start())
    if not stack:
        raise MarkupError(
            f"[/{name}] closes nothing; there is no [{name}] open before it.",
            text=text,
            offset=match.start(),
        )
    open_tag = stack[-1][0]
    if open_tag != wanted:
        raise MarkupError(
            f"[/{name}] closes [{wanted}] but [{open_tag}] is still open; close [/{open_tag}] "
            "first.",
            text=text,
            offset=match.start(),
        )
    stack.pop()


def _pause_seconds(text: str, match: re.Match, argument: str) -> float:
    found = _PAUSE.match(argument)
    if not found:
        raise MarkupError(
            f"[pause {argument}] is not a length; write [pause 1.5s] or [pause 300ms].",
            text=text,
            offset=match.start(),
        )
    value = float(found.group(1))
    seconds = value / 1000.0 if found.group(2) == "ms" else value
    if not 0 < seconds <= MAX_PAUSE_SECONDS:
        raise MarkupError(
            f"A pause must last more than 0 s and at most {MAX_PAUSE_SECONDS:g} s.",
            text=text,
            offset=match.start(),
        )
    return seconds


def _rate_value(text: str, match: re.Match, argument: str) -> float:
    try:
        rate = float(argument)
    except ValueError:
        rate = 0.0
    if not MIN_RATE <= rate <= MAX_RATE:
        raise MarkupError(
            f"[rate {argument}] needs a number from {MIN_RATE} to {MAX_RATE} (1 is normal speed).",
            text=text,
            offset=match.start(),
        )
    return rate


def _check_stray_brackets(text: str, start: int, end: int) -> None:
    for i in range(start, end):
        if text[i] in "[]":
            raise MarkupError(
                f"A lone '{text[i]}' is not markup; tags look like [pause 1s].",
                text=text,
                offset=i,
            )


def plain_text(segments: list[Segment]) -> str:
    """The words of the segments, without markup (for word counts and recognition)."""
    return " ".join(s.text.strip() for s in segments if isinstance(s, Spoken))


def apply_lexicon(text: str, lexicon: Mapping[str, str] | None) -> str:
    """Replace whole words found in ``lexicon`` (case-insensitive) by their respellings."""
    if not lexicon:
        return text
    table = {word.lower(): spelling for word, spelling in lexicon.items() if word.strip()}
    if not table:
        return text
    words = sorted(table, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w'])(" + "|".join(re.escape(w) for w in words) + r")(?![\w'])", re.IGNORECASE
    )
    return pattern.sub(lambda m: table[m.group(1).lower()], text)
