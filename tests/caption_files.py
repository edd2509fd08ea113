"""Reading caption files the way a player does, independently of the engine that wrote them."""

import re
from dataclasses import dataclass

TIMES = re.compile(r"^(\d+):(\d{2}):(\d{2})[.,](\d{3}) --> (\d+):(\d{2}):(\d{2})[.,](\d{3})")


@dataclass
class ParsedCue:
    start: float
    end: float
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _seconds(h, m, s, ms) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _cues(blocks: list[str]) -> list[ParsedCue]:
    cues = []
    for block in blocks:
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # NOTE, STYLE or REGION blocks
        match = TIMES.match(lines[timing])
        assert match, f"bad timing line {lines[timing]!r}"
        values = match.groups()
        cues.append(ParsedCue(_seconds(*values[:4]), _seconds(*values[4:]), lines[timing + 1 :]))
    return cues


def parse_vtt(text: str) -> list[ParsedCue]:
    assert text.startswith("WEBVTT"), text[:40]
    blocks = [b for b in text.replace("\r\n", "\n").strip().split("\n\n")[1:] if b.strip()]
    cues = _cues(blocks)
    for cue in cues:
        cue.lines = [
            line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            for line in cue.lines
        ]
    return cues


def parse_srt(text: str) -> list[ParsedCue]:
    blocks = [b for b in text.replace("\r\n", "\n").strip().split("\n\n") if b.strip()]
    numbers = [int(b.split("\n")[0]) for b in blocks]
    assert numbers == list(range(1, len(blocks) + 1)), numbers
    return _cues(blocks)


def script_words(body: str) -> list[str]:
    """The words a viewer should read: the script without its [markup] tags."""
    return re.sub(r"\[[^\[\]]*\]", " ", body).split()


def caption_words(cues: list[ParsedCue]) -> list[str]:
    return " ".join(cue.text for cue in cues).split()
