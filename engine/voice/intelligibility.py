"""Speech recognition (pocketsphinx, BSD, en-us model inside the package) and word error rate,
to measure that converted speech still says its text."""

from __future__ import annotations

import re
import threading

import numpy as np

from engine.voice.profile import to_analysis_rate

_lock = threading.Lock()


def transcribe_samples(samples: np.ndarray, rate: int) -> str:
    """What pocketsphinx hears in mono float samples (lower case, may be empty).

    A fresh decoder each time: a reused one carries its cepstral mean over from the previous
    utterance, so the same audio would be heard differently depending on what came before."""
    from pocketsphinx import Decoder

    audio = to_analysis_rate(samples, rate)  # 16 kHz, the model's rate
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    with _lock:  # the decoder is large: one at a time
        decoder = Decoder(samprate=16000, loglevel="FATAL")
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.casefold())


def word_error_rate(reference: str, heard: str) -> float:
    """(substitutions + deletions + insertions) / reference words; 0 is perfect."""
    ref, hyp = words_of(reference), words_of(heard)
    if not ref:
        raise ValueError("The reference text has no words.")
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        new = [i] + [0] * len(hyp)
        for j in range(1, len(hyp) + 1):
            new[j] = min(row[j - 1] + (ref[i - 1] != hyp[j - 1]), row[j] + 1, new[j - 1] + 1)
        row = new
    return row[-1] / len(ref)
