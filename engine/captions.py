"""Captions (WebVTT and SRT) of a render, timed by the voice stage's word timings.

Viewers read the script as it was written (markup removed, a ``[say ...]`` word shown as the word,
"$5" as "$5"), while the voice engine reports the words it actually spoke, after the lexicon,
numbers and its own tokenizer ("five dollars"). So each script word is expanded the way the voice
stage expands it, the expansion is aligned to the spoken words, and the script word takes the times
of the spoken words it became.

Cues are cut at sentence ends, explicit ``[pause]`` markup and silences, hold at most
``MAX_LINES`` lines of ``MAX_LINE_CHARS`` characters and last at most ``MAX_CUE_SECONDS``; when a
cue is full it is cut after the last clause punctuation where possible. The first cue of every file
says the video is AI-generated, in the workspace's label language (``engine.label``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.label import LABEL_TEXTS, with_disclosure_cue
from engine.voice.spoken import speakable

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 6.0
MIN_CUE_SECONDS = 1.0  # a short cue stays up this long when silence follows it
PAUSE_BREAK_SECONDS = 0.5  # a silence at least this long between two words starts a new cue
DISCLOSURE_SECONDS = 3.0  # the disclosure cue when there is no opening card to match
SENTENCE_END = ".!?…"
CLAUSE_END = ",;:\u2013\u2014"  # en and em dashes too
_CLOSERS = "\"')]\u00bb\u201d\u2019"  # closing quotes and brackets after the mark
# Script markup as engine.voice.markup reads it: [pause 1s], [slow]...[/slow], [say X]w[/say].
_TAG = re.compile(r"\[(/?)([A-Za-z]+)([^\[\]]*)\]")
_SPOKEN_WORD = re.compile(r"[A-Za-z0-9']+")
# A full stop that ends these does not end a sentence: "U.S.A.", "e.g.", "Dr."
_ABBREVIATION = re.compile(r"^(?:[A-Za-z]\.){2,}$|^(?:mr|mrs|ms|dr|prof|st|vs)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class ScriptWord:
    """A word of the script as the viewer reads it, and the text the voice stage speaks for it."""

    text: str
    spoken: str
    pause_before: bool = False  # an explicit [pause] precedes it


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float  # seconds
    end: float
    pause_before: bool = False


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Captions:
    """One render's captions, both formats, each opening with the disclosure cue."""

    vtt: str
    srt: str


def script_words(script_text: str) -> list[ScriptWord]:
    """The script's words without markup; a ``[say X]`` span is spoken as X by its first word."""
    words: list[ScriptWord] = []
    say: str | None = None
    say_spoken = False
    pause = False
    touching = False  # the text before the last tag ended inside a word ("un[slow]til")
    position = 0
    for match in [*_TAG.finditer(script_text), None]:
        chunk = script_text[position : match.start() if match else len(script_text)]
        for i, token in enumerate(chunk.split()):
            spoken = token
            if say is not None:
                spoken, say_spoken = ("" if say_spoken else say), True
            if i == 0 and touching and not chunk[0].isspace() and words and not pause:
                last = words[-1]
                joined = f"{last.spoken} {spoken}".strip()
                words[-1] = ScriptWord(last.text + token, joined, last.pause_before)
                continue
            words.append(ScriptWord(token, spoken, pause))
            pause = False
        if chunk:
            touching = not chunk[-1].isspace()
        if match is None:
            break
        position = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name == "pause":
            pause, touching = True, False
        elif name == "say":
            say, say_spoken = (None if closing else match.group(3).strip()), False
    return words


def spoken_forms(text: str, lexicon: Mapping[str, str] | None = None) -> list[str]:
    """The words a voice engine says for ``text``: the engines' own path (``speakable``)."""
    return _SPOKEN_WORD.findall(speakable(text, lexicon))


def align(
    words: Sequence[ScriptWord],
    spoken: Sequence[tuple[str, float, float]],
    lexicon: Mapping[str, str] | None = None,
) -> list[TimedWord]:
    """Each script word with the start and end (seconds) of the spoken words it became.

    The expected spoken words are matched to the ones the engine reports (difflib on lowercase
    letters and digits); a stretch that differs (a date read another way) shares the time of the
    spoken stretch it faces, in proportion. A word that says nothing ("—") takes the time of the
    word before it.
    """
    expected: list[tuple[str, int]] = []  # (key, index of the script word)
    for index, word in enumerate(words):
        expected += [(_key(w), index) for w in spoken_forms(word.spoken, lexicon) if _key(w)]
    heard = [(_key(label), start, end) for label, start, end in spoken if _key(label)]
    times: list[tuple[float, float] | None] = [None] * len(expected)
    matcher = difflib.SequenceMatcher(
        None, [k for k, _ in expected], [k for k, _, _ in heard], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for offset in range(i2 - i1):
                times[i1 + offset] = heard[j1 + offset][1:]
        elif op == "replace":
            span_start, span_end = heard[j1][1], heard[j2 - 1][2]
            step = (span_end - span_start) / (i2 - i1)
            for offset in range(i2 - i1):
                times[i1 + offset] = (span_start + offset * step, span_start + (offset + 1) * step)
        elif op == "insert" and i1 > 0:  # spoken but not expected: the word before covers it
            start, _ = times[i1 - 1] or (heard[j1][1], 0.0)
            times[i1 - 1] = (start, heard[j2 - 1][2])
        elif op == "delete":  # expected but not heard: an instant where it would have been
            at = heard[j1 - 1][2] if j1 > 0 else (heard[0][1] if heard else 0.0)
            for offset in range(i2 - i1):
                times[i1 + offset] = (at, at)
    spans: dict[int, tuple[float, float]] = {}
    for (_, index), span in zip(expected, times, strict=True):
        if span is None:
            continue
        start, end = spans.get(index, span)
        spans[index] = (min(start, span[0]), max(end, span[1]))
    timed: list[TimedWord] = []
    previous_end = heard[0][1] if heard else 0.0
    for index, word in enumerate(words):
        start, end = spans.get(index, (previous_end, previous_end))
        start = max(start, timed[-1].start) if timed else start
        timed.append(
            TimedWord(word.text, round(start, 3), round(max(start, end), 3), word.pause_before)
        )
        previous_end = max(previous_end, end)
    return timed


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def break_lines(words: Sequence[str], max_chars: int = MAX_LINE_CHARS) -> list[str]:
    """The words as one line, or two lines that both fit, as even as possible and preferring a cut
    after punctuation; words that fit no two lines are wrapped greedily (maybe more lines)."""
    text = " ".join(words)
    if len(text) <= max_chars:
        return [text] if text else []
    best: tuple[float, list[str]] | None = None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) > max_chars or len(second) > max_chars:
            continue
        score = abs(len(first) - len(second)) - (
            10 if _ends_with(words[cut - 1], CLAUSE_END + SENTENCE_END) else 0
        )
        if best is None or score < best[0]:
            best = (score, [first, second])
    if best is not None:
        return best[1]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _ends_with(word: str, marks: str) -> bool:
    stripped = word.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in marks


def _fits(words: Sequence[TimedWord]) -> bool:
    lines = break_lines([w.text for w in words])
    readable = len(lines) <= MAX_LINES and all(len(line) <= MAX_LINE_CHARS for line in lines)
    return readable and words[-1].end - words[0].start <= MAX_CUE_SECONDS


def _cut(words: Sequence[TimedWord]) -> int:
    """Where to end a full cue: after its last clause punctuation if that keeps a fair share of
    the text in this cue, else after all of it."""
    total = len(" ".join(w.text for w in words))
    for cut in range(len(words) - 1, 0, -1):
        if _ends_with(words[cut - 1].text, CLAUSE_END):
            if len(" ".join(w.text for w in words[:cut])) >= 0.4 * total:
                return cut
            break
    return len(words)


def group_words(words: Sequence[TimedWord]) -> list[list[TimedWord]]:
    """Words grouped into cues: a new cue after a sentence, at a pause or a silence, and before a
    cue would need more than two lines or ``MAX_CUE_SECONDS``."""
    groups: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in words:
        if current and (word.pause_before or word.start - current[-1].end >= PAUSE_BREAK_SECONDS):
            groups.append(current)
            current = []
        while current and not _fits([*current, word]):
            cut = _cut(current)
            groups.append(current[:cut])
            current = current[cut:]
        current.append(word)
        if _ends_with(word.text, SENTENCE_END) and not _ABBREVIATION.match(word.text):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def make_cues(words: Sequence[TimedWord], video_seconds: float | None = None) -> list[Cue]:
    """Cues from timed words. A cue lasts from its first word's start to its last word's end,
    held to ``MIN_CUE_SECONDS`` when the next cue (and the video) leave room; cues never overlap."""
    groups = group_words(words)
    limit = video_seconds if video_seconds is not None else float("inf")
    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start = min(group[0].start, limit)
        next_start = groups[i + 1][0].start if i + 1 < len(groups) else limit
        end = max(group[-1].end, start + MIN_CUE_SECONDS)
        end = max(min(end, next_start, limit), start)
        lines = tuple(break_lines([w.text for w in group]))
        cues.append(Cue(round(start, 3), round(end, 3), lines))
    return cues


def webvtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file of ``cues`` (cue text escaped as WebVTT asks)."""
    blocks = ["WEBVTT"]
    for cue in cues:
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        blocks.append(f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}\n{text}")
    return "\n\n".join(blocks) + "\n"


def srt(cues: Sequence[Cue]) -> str:
    """An SRT file of ``cues``, numbered from 1."""
    blocks = [
        f"{n}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n" + "\n".join(cue.lines)
        for n, cue in enumerate(cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def caption_cues(
    script_text: str,
    spoken: Sequence[tuple[str, float, float]],
    *,
    lexicon: Mapping[str, str] | None = None,
    video_seconds: float | None = None,
) -> list[Cue]:
    """The cues of ``script_text`` timed by ``spoken`` (word, start s, end s): what the caption
    files say after their disclosure cue, and what a timeline's burned captions draw."""
    return make_cues(align(script_words(script_text), spoken, lexicon), video_seconds)


def build_captions(
    script_text: str,
    spoken: Sequence[tuple[str, float, float]],
    *,
    lexicon: Mapping[str, str] | None = None,
    language: str = "en",
    video_seconds: float | None = None,
    disclosure_seconds: float = DISCLOSURE_SECONDS,
) -> Captions:
    """WebVTT and SRT captions of ``script_text`` timed by ``spoken`` (word, start s, end s, on
    the video's clock), opening with the disclosure cue for ``disclosure_seconds``."""
    cues = caption_cues(script_text, spoken, lexicon=lexicon, video_seconds=video_seconds)
    seconds = (
        disclosure_seconds if video_seconds is None else min(disclosure_seconds, video_seconds)
    )
    return Captions(
        vtt=with_disclosure_cue(webvtt(cues), "vtt", language, seconds),
        srt=with_disclosure_cue(srt(cues), "srt", language, seconds),
    )


def language_of_label(label_text: str) -> str:
    """The language (ISO 639-1) whose label is ``label_text``; English for a custom label."""
    return next((code for code, text in LABEL_TEXTS.items() if text == label_text), "en")


def caption_paths(video_path: str | Path) -> tuple[Path, Path]:
    """Where a render's WebVTT and SRT captions lie: beside the video, same name."""
    video_path = Path(video_path)
    return video_path.with_suffix(".vtt"), video_path.with_suffix(".srt")


def write_captions(captions: Captions, video_path: str | Path) -> tuple[Path, Path]:
    vtt_path, srt_path = caption_paths(video_path)
    vtt_path.write_text(captions.vtt, encoding="utf-8")
    srt_path.write_text(captions.srt, encoding="utf-8")
    return vtt_path, srt_path


def chapters_path(video_path: str | Path) -> Path:
    """Where the WebVTT chapters of a video made of several scenes are written."""
    path = Path(video_path)
    return path.with_name(f"{path.stem}.chapters.vtt")


def chapter_spans(
    chapters: Sequence[tuple[float, str]], video_seconds: float
) -> list[tuple[float, float, str]]:
    """(start, end seconds, title) of each chapter of ``chapters`` (start seconds, title):
    scenes without a title are part of the chapter before, and a video with fewer than two
    chapters has none. The WebVTT chapters and the MP4's own say the same."""
    named = [(start, title.strip()) for start, title in chapters if title.strip()]
    if len(named) < 2:
        return []
    ends = [start for start, _ in named[1:]] + [video_seconds]
    return [(start, end, title) for (start, title), end in zip(named, ends, strict=True)]


def write_chapters(
    chapters: Sequence[tuple[float, str]], video_seconds: float, video_path: str | Path
) -> Path | None:
    """WebVTT chapters (start seconds, title) beside the video; scenes without a title take
    the one before's, and a video with fewer than two chapters gets none."""
    spans = chapter_spans(chapters, video_seconds)
    if not spans:
        return None
    lines = ["WEBVTT", ""]
    for number, (start, end, title) in enumerate(spans, 1):
        lines += [
            f"chapter-{number}",
            f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}",
            _vtt_escape(title),
            "",
        ]
    path = chapters_path(video_path)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
