"""Default voice engine: Debian festival with the CMU US SLT HTS voice (CPU, no downloads).

The script is cleaned to a safe alphabet before it goes into festival's Scheme: no double quote
or backslash survives, so hostile text cannot end the string literal and inject Scheme.
Long scripts are cut at sentence boundaries and synthesised as one utterance per chunk in one
festival process; word and phoneme end times come from ``utt.save.words`` / ``utt.save.segs``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.audio import read_wav, write_wav
from engine.errors import EmptyScript, EngineError, ToolMissing
from engine.tools import require_tool
from engine.voice import Speech, Timing

VOICE = "voice_cmu_us_slt_arctic_hts"
MAX_CHUNK_CHARS = 240
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


def sanitize_script(text: str) -> str:
    """The script reduced to letters, digits, spaces and . , ! ? ' - : (safe in a Scheme string)."""
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _SAFE.sub(" ", text)
    text = re.sub(r"\s*,[\s,]*", ", ", text)
    return " ".join(text.split()).strip(" ,")


def split_sentences(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Chunks of at most ``max_chars`` characters, cut after . ! ? where possible, else at words."""
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        sentence = sentence.strip()
        while len(sentence) > max_chars:
            cut = sentence.rfind(", ", 0, max_chars)
            if cut < max_chars // 3:
                cut = sentence.rfind(" ", 0, max_chars)
            if cut <= 0:
                cut = max_chars
            chunks.append(sentence[:cut].strip(" ,"))
            sentence = sentence[cut:].strip(" ,")
        if re.search(r"[A-Za-z0-9]", sentence):
            chunks.append(sentence)
    return [c for c in chunks if re.search(r"[A-Za-z0-9]", c)]


class FestivalVoice:
    """Festival text-to-speech. Voice samples are accepted but not used yet: no cloning."""

    name = "festival"

    def speak(self, text: str, voice_sample_paths: Sequence[str], out_wav: str) -> Speech:
        # Conversion toward the samples' voice is a later stage; the seam is this argument.
        del voice_sample_paths
        chunks = split_sentences(sanitize_script(text))
        if not chunks:
            raise EmptyScript()
        festival = require_tool("festival")
        with tempfile.TemporaryDirectory(prefix="likeness-festival-") as tmp:
            work = Path(tmp)
            script = work / "speak.scm"
            script.write_text(_scheme_script(chunks, work), encoding="ascii")
            proc = subprocess.run(
                [festival, "-b", str(script)],
                capture_output=True,
                text=True,
                timeout=60 + 10 * len(chunks),
                check=False,
            )
            if VOICE in proc.stderr + proc.stdout and "unbound" in proc.stderr + proc.stdout:
                raise ToolMissing("The festival voice cmu_us_slt_arctic_hts is not installed.")
            return _join_chunks(work, len(chunks), out_wav, proc.stderr)


def _scheme_script(chunks: list[str], work: Path) -> str:
    folder = str(work)
    if '"' in folder or "\\" in folder:
        raise EngineError("The temporary folder path cannot be passed to festival.")
    lines = [f"({VOICE})"]
    for i, chunk in enumerate(chunks):
        assert '"' not in chunk and "\\" not in chunk  # guaranteed by sanitize_script
        lines += [
            f'(set! utt{i} (utt.synth (Utterance Text "{chunk}")))',
            f'(utt.save.wave utt{i} "{folder}/{i}.wav" \'riff)',
            f'(utt.save.words utt{i} "{folder}/{i}.words")',
            f'(utt.save.segs utt{i} "{folder}/{i}.segs")',
        ]
    return "\n".join(lines) + "\n"


def _read_labels(path: Path) -> list[tuple[str, float]]:
    """(label, end seconds) from a festival xlabel file."""
    if not path.is_file():
        return []
    labels = []
    body = path.read_text(encoding="latin-1").split("#", 1)[-1]
    for line in body.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            labels.append((parts[2], float(parts[0])))
    return labels


def _timings(words: list[tuple[str, float]], segs: list[tuple[str, float]]) -> tuple[list, list]:
    phonemes: list[Timing] = []
    start = 0.0
    pauses: list[tuple[float, float]] = []
    for phone, end in segs:
        phonemes.append((phone, start, end))
        if phone == "pau":
            pauses.append((start, end))
        start = end
    timed_words: list[Timing] = []
    previous_end = 0.0
    for word, end in words:
        start = previous_end
        for pause_start, pause_end in pauses:  # a word starts after the pause that precedes it
            if pause_start >= previous_end - 1e-6 and pause_end <= end + 1e-6:
                start = pause_end
        timed_words.append((word, start, end))
        previous_end = end
    return timed_words, phonemes


def _join_chunks(work: Path, count: int, out_wav: str, festival_log: str) -> Speech:
    pieces: list[np.ndarray] = []
    words: list[Timing] = []
    phonemes: list[Timing] = []
    rate = 0
    offset = 0.0
    for i in range(count):
        wav = work / f"{i}.wav"
        if not wav.is_file():
            continue  # a chunk festival found nothing to say in
        samples, rate = read_wav(wav)
        seconds = len(samples) / rate
        chunk_words, chunk_phones = _timings(
            _read_labels(work / f"{i}.words"), _read_labels(work / f"{i}.segs")
        )
        words += [
            (w, offset + min(s, seconds), offset + min(e, seconds)) for w, s, e in chunk_words
        ]
        phonemes += [
            (p, offset + min(s, seconds), offset + min(e, seconds)) for p, s, e in chunk_phones
        ]
        pieces.append(samples)
        offset += seconds
    if not pieces:
        reason = (festival_log.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"Festival could not speak the script: {reason[:200]}")
    audio = np.concatenate(pieces)
    write_wav(out_wav, audio, rate)
    return Speech(
        wav_path=str(out_wav),
        seconds=len(audio) / rate,
        sample_rate=rate,
        words=[(w, round(s, 4), round(e, 4)) for w, s, e in words],
        phonemes=[(p, round(s, 4), round(e, 4)) for p, s, e in phonemes],
    )
