"""Default voice engine: Debian festival with the CMU US SLT HTS voice (CPU, no downloads).

The script is cleaned to a safe alphabet before it goes into festival's Scheme: no double quote
or backslash survives, so hostile text cannot end the string literal and inject Scheme.
Long scripts are cut at sentence boundaries and synthesised as one utterance per chunk in one
festival process; word and phoneme end times come from ``utt.save.words`` / ``utt.save.segs``.
Markup (pauses, rate, emphasis, respellings), the pronunciation lexicon and numbers are handled
before festival sees the text, by the one path the consent check also reads
(``engine.voice.spoken``).
"""

from __future__ import annotations

import re
import subprocess  # nosec B404: runs festival with argument lists, never through a shell
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import read_wav, write_wav
from engine.errors import EmptyScript, EngineError, ToolMissing
from engine.tools import require_tool
from engine.voice.base import Speech, Timing
from engine.voice.markup import Pause
from engine.voice.spoken import SpokenPiece, spoken_pieces
from engine.voice.spoken import sanitize_script as sanitize_script  # its home before spoken.py

VOICE = "voice_cmu_us_slt_arctic_hts"
MAX_CHUNK_CHARS = 240
EMPHASIS_GAIN = 1.4  # about +3 dB on emphasised words
# festival's Scheme heap in cells. Its default (10 million) costs about 0.17 s of page faults at
# every start, most of a sentence's synthesis time; 2 million holds the voice, the lexicon and
# scripts of many chunks (the output is byte for byte the same).
HEAP_CELLS = 2_000_000


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


@dataclass
class Chunk:
    """One festival utterance (``text``) or a silence (``pause`` seconds)."""

    text: str = ""
    speed: float = 1.0  # hts_engine speech speed: 0.8 is 20 % slower
    emphasis: bool = False
    pause: float = 0.0


def script_chunks(
    text: str, lexicon: Mapping[str, str] | None = None, *, speed: float = 1.0
) -> list[Chunk]:
    """The script as festival utterances and pauses: the pieces of ``spoken_pieces`` (markup
    parsed, MarkupError; lexicon, numbers, safe alphabet) cut at sentence boundaries. Every
    engine speaks these, so they say exactly ``engine.voice.spoken.spoken_text``."""
    chunks: list[Chunk] = []
    for piece in spoken_pieces(text, lexicon):
        if isinstance(piece, Pause):
            chunks.append(Chunk(pause=piece.seconds))
            continue
        if not isinstance(piece, SpokenPiece):  # not an assert: python -O would drop it
            raise TypeError(f"spoken_pieces gave {piece!r}, neither a pause nor speech")
        for sentence in split_sentences(piece.text):
            chunks.append(Chunk(sentence, round(speed * piece.rate, 3), emphasis=piece.emphasis))
    return chunks


class FestivalVoice:
    """Festival text-to-speech in its own voice (no cloning: see the ``world`` engine)."""

    name = "festival"

    def speak(
        self,
        text: str,
        voice_sample_paths: Sequence[str],
        out_wav: str,
        *,
        voice_profile_path: str | None = None,
        lexicon: Mapping[str, str] | None = None,
    ) -> Speech:
        del voice_sample_paths, voice_profile_path  # festival speaks in its own voice
        speech = synthesize(script_chunks(text, lexicon), out_wav)
        if speech.emphasis:
            samples, rate = read_wav(out_wav)
            write_wav(out_wav, emphasise(samples, rate, speech.emphasis), rate)
        return speech


def synthesize(chunks: list[Chunk], out_wav: str) -> Speech:
    """Speak the chunks with festival in one process; pauses become digital silence."""
    if not any(c.text for c in chunks):
        raise EmptyScript()
    festival = require_tool("festival")
    with tempfile.TemporaryDirectory(prefix="likeness-festival-") as tmp:
        work = Path(tmp)
        script = work / "speak.scm"
        script.write_text(_scheme_script(chunks, work), encoding="ascii")
        spoken = sum(1 for c in chunks if c.text)
        proc = subprocess.run(  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
            [festival, "--heap", str(HEAP_CELLS), "-b", str(script)],
            capture_output=True,
            text=True,
            timeout=60 + 10 * spoken,
            check=False,
        )
        if VOICE in proc.stderr + proc.stdout and "unbound" in proc.stderr + proc.stdout:
            raise ToolMissing("The festival voice cmu_us_slt_arctic_hts is not installed.")
        return _join_chunks(work, chunks, out_wav, proc.stderr)


def emphasise(
    samples: np.ndarray,
    rate: int,
    spans: Sequence[tuple[float, float]],
    gain: float = EMPHASIS_GAIN,
) -> np.ndarray:
    """Samples louder by ``gain`` inside the spans (seconds), with 20 ms ramps."""
    envelope = np.ones(len(samples), dtype=np.float32)
    for start, end in spans:
        envelope[round(start * rate) : round(end * rate)] = gain
    ramp = max(1, round(0.02 * rate))
    envelope = np.convolve(envelope, np.ones(ramp) / ramp, mode="same").astype(np.float32)
    out = samples * envelope
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    return out * (0.97 / peak) if peak > 0.97 else out


def _scheme_script(chunks: list[Chunk], work: Path) -> str:
    folder = str(work)
    if '"' in folder or "\\" in folder:
        raise EngineError("The temporary folder path cannot be passed to festival.")
    lines = [f"({VOICE})"]
    for i, chunk in enumerate(chunks):
        if not chunk.text:
            continue
        # sanitize_script keeps these out; checked again (not asserted, python -O would drop it)
        # because a quote or backslash would let the script write Scheme of its own.
        if '"' in chunk.text or "\\" in chunk.text:
            raise EngineError("A script sentence holds a quote or backslash festival cannot take.")
        lines += [
            "(set! hts_engine_params (append cmu_us_slt_arctic_hts::hts_engine_params "
            f'(list (list "-r" {float(chunk.speed):.3f}))))',
            f'(set! utt{i} (utt.synth (Utterance Text "{chunk.text}")))',
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


def _join_chunks(work: Path, chunks: list[Chunk], out_wav: str, festival_log: str) -> Speech:
    pieces: list[np.ndarray] = []
    words: list[Timing] = []
    phonemes: list[Timing] = []
    emphasis: list[tuple[float, float]] = []
    rate = 0
    offset = 0.0
    pending_pause = 0.0
    for i, chunk in enumerate(chunks):
        if not chunk.text:
            pending_pause += chunk.pause
            continue
        wav = work / f"{i}.wav"
        if not wav.is_file():
            continue  # a chunk festival found nothing to say in
        samples, rate = read_wav(wav)
        if pending_pause:
            pieces.append(np.zeros(round(pending_pause * rate), dtype=np.float32))
            offset += round(pending_pause * rate) / rate
            pending_pause = 0.0
        seconds = len(samples) / rate
        chunk_words, chunk_phones = _timings(
            _read_labels(work / f"{i}.words"), _read_labels(work / f"{i}.segs")
        )
        chunk_words = [
            (w, offset + min(s, seconds), offset + min(e, seconds)) for w, s, e in chunk_words
        ]
        words += chunk_words
        phonemes += [
            (p, offset + min(s, seconds), offset + min(e, seconds)) for p, s, e in chunk_phones
        ]
        if chunk.emphasis and chunk_words:
            emphasis.append((chunk_words[0][1], chunk_words[-1][2]))
        pieces.append(samples)
        offset += seconds
    if not pieces:
        reason = (festival_log.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"Festival could not speak the script: {reason[:200]}")
    if pending_pause:  # a pause at the very end of the script
        pieces.append(np.zeros(round(pending_pause * rate), dtype=np.float32))
    audio = np.concatenate(pieces)
    write_wav(out_wav, audio, rate)
    return Speech(
        wav_path=str(out_wav),
        seconds=len(audio) / rate,
        sample_rate=rate,
        words=[(w, round(s, 4), round(e, 4)) for w, s, e in words],
        phonemes=[(p, round(s, 4), round(e, 4)) for p, s, e in phonemes],
        emphasis=[(round(s, 4), round(e, 4)) for s, e in emphasis],
    )
