"""Speech recognition and word error rate, to measure that converted speech still says its text.

The recogniser is Moonshine base English (Moonshine AI, MIT). Its encoder and decoder (ONNX
runtime format) ship inside the ``moonshine-cpp`` wheel and its tokenizer inside
``useful-moonshine-onnx``: nothing is downloaded. They run on onnxruntime's Python package, whose
kernels pick the CPU's instructions at run time; the wheel's own ``libmoonshine.so`` was built for
CPUs with AVX-512 and stops on others with an illegal instruction (seen on an AMD EPYC with AVX2
only). On clean speech it heard plain festival with a word error rate of 0.07 where pocketsphinx's
en-us model heard 0.13, and flite's awb / rms / kal16 voices with 0.03 / 0.07 / 0.14 where
pocketsphinx heard 0.23 / 0.09 / 0.24 (8 Harvard sentences each), so its errors are mostly the
speech's, not its own.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from pathlib import Path

import numpy as np

from engine.audio import resampled

_lock = threading.Lock()

RATE = 16000  # Moonshine hears 16 kHz audio
# Moonshine's own bound on the words in an utterance: about 6.5 tokens a second of speech (a
# hallucinating decoder stops there instead of at 192 tokens).
TOKENS_PER_SECOND = 6.5


@functools.lru_cache(maxsize=1)
def _model():
    import moonshine_cpp
    from moonshine_onnx.model import MoonshineOnnxModel
    from moonshine_onnx.transcribe import load_tokenizer

    models = Path(moonshine_cpp.__file__).parent / "models" / "base-en"
    model = MoonshineOnnxModel(models_dir=str(models), model_name="base", model_format="ort")
    return model, load_tokenizer()


def transcribe_samples(samples: np.ndarray, rate: int) -> str:
    """What Moonshine hears in mono float samples (one utterance, up to about 30 s; may be "")."""
    audio = np.ascontiguousarray(resampled(samples, rate, RATE), dtype=np.float32)
    if len(audio) < RATE // 10:  # under 0.1 s: nothing Moonshine can hear
        return ""
    max_tokens = math.ceil(len(audio) / RATE * TOKENS_PER_SECOND) + 4
    with _lock:  # one transcription at a time on the shared model
        model, tokenizer = _model()
        tokens = model.generate(audio[None, :], max_len=max_tokens)
    return tokenizer.decode_batch(tokens)[0].strip()


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
