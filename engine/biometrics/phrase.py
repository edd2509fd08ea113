"""Did the subject say the challenge sentence? Speech recognition (pocketsphinx, en-us model inside
the package, BSD) and a word error rate against the sentence shown.

A JSGF grammar alone accepts wrong sentences (FINDINGS.md), so the recording is transcribed freely
and compared. The comparison forgives words before and after the sentence (a subject who says
"okay" first, a recording that runs on), but not words missing or changed inside it.
"""

from __future__ import annotations

import re
import secrets
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import threading
from pathlib import Path

from engine.errors import CorruptAudio
from engine.numbers import number_words
from engine.tools import require_tool

MAX_WORD_ERROR_RATE = 0.35  # clear synthetic speech scored 0.08-0.21 here (FINDINGS.md)
RATE = 16000

# Words pocketsphinx's en-us model heard reliably in festival speech here (measured: "eight",
# "four", "two", "ten" and "six" were misheard as homophones; "ladder" became "letter", "frozen"
# "friends and", "visits" "it is"). Two clauses of these give about 700,000 sentences of 12 words.
_ADJECTIVES = ["purple", "yellow", "orange", "green", "silver", "careful"]
_NOUNS = ["window", "lantern", "blanket", "harbor"]
_VERBS = ["carries", "follows"]
_NUMBERS = ["three", "five", "seven", "nine"]
_PLACES = ["clouds", "farms", "bridges", "trains", "roads"]


def challenge_sentence() -> str:
    """A random sentence a subject reads aloud in their consent clip."""

    def pick(words):
        return words[secrets.randbelow(len(words))]

    return (
        f"The {pick(_ADJECTIVES)} {pick(_NOUNS)} {pick(_VERBS)} "
        f"{pick(_NUMBERS)} {pick(_ADJECTIVES)} {pick(_PLACES)} "
        f"and {pick(_NUMBERS)} {pick(_ADJECTIVES)} {pick(_PLACES)}."
    )


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower case; a number written in digits counts as its words (a
    recogniser writes "nine" as 9 as often as not, and the subject did say it)."""
    words = []
    for token in re.findall(r"[a-z']+|\d+", text.casefold()):
        words += re.findall(r"[a-z']+", number_words(int(token))) if token.isdigit() else [token]
    return words


def sentence_error_rate(expected: str, heard: str) -> float:
    """Word error rate of `expected` against the best-matching stretch of `heard`.

    Edit distance over words where words heard before or after the sentence cost nothing
    (semi-global alignment), divided by the number of expected words. 0 is perfect.
    """
    ref, hyp = words_of(expected), words_of(heard)
    if not ref:
        raise ValueError("The expected sentence has no words.")
    # row[j]: cost of aligning ref[:i] so that it ends at hyp[:j]; free start anywhere in hyp.
    row = [0] * (len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        new = [i] + [0] * len(hyp)
        for j in range(1, len(hyp) + 1):
            new[j] = min(
                row[j - 1] + (ref[i - 1] != hyp[j - 1]),  # match or substitution
                row[j] + 1,  # expected word missing
                new[j - 1] + 1,  # extra word inside the sentence
            )
        row = new
    return min(row) / len(ref)  # free end anywhere in hyp


_lock = threading.Lock()


def pcm16_mono(path: str | Path, max_seconds: float | None = None) -> bytes:
    """Any audio or video file's sound as 16 kHz mono 16-bit PCM (decoded by ffmpeg), at most
    ``max_seconds`` of it when given (a header can understate a file's length)."""
    limit = ["-t", f"{max_seconds:.3f}"] if max_seconds else []
    result = subprocess.run(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
        [
            require_tool("ffmpeg"),
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            *limit,
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
    )
    if result.returncode != 0:
        raise CorruptAudio(f"The sound of {Path(path).name} cannot be decoded.")
    return result.stdout


def transcribe(path: str | Path, *, audio: bytes | None = None) -> str:
    """What pocketsphinx hears in a file's sound (lower case, may be empty); ``audio``: its
    16 kHz PCM when already decoded."""
    from pocketsphinx import Decoder

    if audio is None:
        audio = pcm16_mono(path)
    with _lock:  # one decoder at a time: it is large and not documented as thread-safe
        decoder = Decoder(logfn="/dev/null")
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""
