"""Speaker identity: 256-d resemblyzer embeddings (GE2E, Apache-2.0, weights inside the package).

Cosine similarity: the same voice about 0.80-0.95, different voices 0.46-0.70 (FINDINGS.md).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine.audio import read_wav
from engine.errors import SilentAudio

MATCH_SIMILARITY = 0.75
EMBEDDING_RATE = 16000

_lock = threading.Lock()
_encoder = None


def _voice_encoder():
    global _encoder
    with _lock:
        if _encoder is None:
            from resemblyzer import VoiceEncoder

            _encoder = VoiceEncoder(device="cpu", verbose=False)
        return _encoder


def speaker_embedding_of_samples(samples: np.ndarray, rate: int) -> np.ndarray:
    """Embedding of mono float samples at any rate (resampled to 16 kHz, silences trimmed)."""
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(np.asarray(samples, dtype=np.float32), source_sr=rate)
    if len(wav) < EMBEDDING_RATE // 2:
        raise SilentAudio("Less than half a second of speech was found; a voice needs more.")
    encoder = _voice_encoder()
    with _lock:
        return encoder.embed_utterance(wav)


def speaker_embedding(path: str | Path) -> np.ndarray:
    samples, rate = read_wav(path)
    return speaker_embedding_of_samples(samples, rate)


def voice_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two speaker embeddings (resemblyzer's are unit length already)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
