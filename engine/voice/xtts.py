"""Neural voice engine: Coqui XTTS-v2 (the maintained ``coqui-tts`` package, ``import TTS``),
cloning from the subject's samples. Meant for a GPU; runs on a CPU, slowly.

Weights are read only from a local directory, given as ``weights_dir`` (the site's setting
``XTTS_WEIGHTS_DIR``: ``config.json``, ``model.pth``, ``vocab.json``, as Coqui publishes XTTS-v2);
nothing is downloaded. XTTS-v2's weights are under the Coqui Public Model License
(non-commercial), so this engine is never the default. Scripts are parsed like every engine's
(markup, lexicon, numbers), spoken one sentence at a time, and joined with short fades so no
click marks a seam. XTTS gives no timings: word timings are spread over each sentence in
proportion to the words' lengths.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.audio import write_wav
from engine.errors import EmptyScript, EngineError, VoiceWeightsMissing
from engine.voice.base import Speech, Timing
from engine.voice.festival import EMPHASIS_GAIN, Chunk, emphasise, script_chunks

WEIGHTS_SETTING = "XTTS_WEIGHTS_DIR"  # the site's setting, named by the errors
WEIGHT_FILES = ("config.json", "model.pth", "vocab.json")
LANGUAGE = "en"
FADE_SECONDS = 0.01  # fade at each seam: no click where two sentences meet
SENTENCE_GAP_SECONDS = 0.12

_lock = threading.Lock()


class XttsWeightsMissing(VoiceWeightsMissing):
    pass


class XttsVoice:
    """XTTS-v2 speech cloned from the voice samples."""

    name = "xtts"

    def __init__(self, weights_dir: str | Path, *, device: str = "auto", sampling: bool = True):
        self.weights_dir = check_weights_dir(weights_dir)
        self.device = _device(device)
        self.sampling = sampling  # False: greedy decoding (reproducible, used by the tests)

    def speak(
        self,
        text: str,
        voice_sample_paths: Sequence[str],
        out_wav: str,
        *,
        voice_profile_path: str | None = None,
        lexicon: Mapping[str, str] | None = None,
    ) -> Speech:
        del voice_profile_path  # XTTS conditions on the recordings themselves
        if not voice_sample_paths:
            raise EngineError("The xtts voice engine needs the subject's voice samples.")
        chunks = script_chunks(text, lexicon)
        if not any(c.text for c in chunks):
            raise EmptyScript()
        model = load_model(str(self.weights_dir), self.device)
        with _lock:
            latent, embedding = model.get_conditioning_latents(
                audio_path=[str(p) for p in voice_sample_paths]
            )
        rate = int(model.config.audio.output_sample_rate)
        return sentences_to_speech(
            chunks, rate, lambda chunk: self._sentence(model, chunk, latent, embedding), out_wav
        )

    def _sentence(self, model, chunk: Chunk, latent, embedding) -> np.ndarray:
        options = {"do_sample": self.sampling, "speed": float(chunk.speed)}
        if not self.sampling:
            options.update(temperature=1.0, top_k=1, top_p=1.0, num_beams=1)
        with _lock:
            out = model.inference(chunk.text, LANGUAGE, latent, embedding, **options)
        audio = np.asarray(out["wav"], dtype=np.float32).reshape(-1)
        return np.nan_to_num(audio)


def check_weights_dir(weights_dir: str | Path) -> Path:
    """The weights directory, or XttsWeightsMissing naming the setting and what is missing."""
    if not str(weights_dir).strip():
        raise XttsWeightsMissing(
            f"The xtts voice engine needs {WEIGHTS_SETTING}: set it to a local directory holding "
            "XTTS-v2's config.json, model.pth and vocab.json (nothing is downloaded)."
        )
    folder = Path(weights_dir)
    if not folder.is_dir():
        raise XttsWeightsMissing(f"{WEIGHTS_SETTING}={folder} is not a directory.")
    missing = [name for name in WEIGHT_FILES if not (folder / name).is_file()]
    if missing:
        raise XttsWeightsMissing(
            f"{WEIGHTS_SETTING}={folder} lacks {', '.join(missing)}; copy XTTS-v2's files there."
        )
    return folder


def _device(device: str) -> str:
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.lru_cache(maxsize=2)
def load_model(weights_dir: str, device: str):
    """XTTS from a weights directory, once per process (real or test weights, one code path)."""
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts

    folder = Path(weights_dir)
    config = XttsConfig()
    config.load_json(str(folder / "config.json"))
    model = Xtts(config)
    model.load_checkpoint(config, checkpoint_dir=str(folder), eval=True)
    return model.to(device)


def _faded(audio: np.ndarray, rate: int) -> np.ndarray:
    fade = min(len(audio) // 2, round(FADE_SECONDS * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        audio = audio.copy()
        audio[:fade] *= ramp
        audio[-fade:] *= ramp[::-1]
    return audio


def _spread_words(text: str, start: float, seconds: float) -> list[Timing]:
    words = [w for w in text.replace("-", " ").split() if any(ch.isalnum() for ch in w)]
    weights = np.array([len(w.strip(".,!?:'")) + 1 for w in words], dtype=np.float64)
    if not len(words):
        return []
    edges = start + seconds * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return [(w.strip(".,!?:"), float(edges[i]), float(edges[i + 1])) for i, w in enumerate(words)]


def sentences_to_speech(chunks, rate: int, speak, out_wav: str) -> Speech:
    """A neural engine's speech from the script's chunks: each sentence spoken by
    ``speak(chunk)`` (samples at ``rate``), faded in and out, the pauses and sentence gaps as
    silence, emphasis raised, the peak kept under full scale; words spread over each sentence
    (these engines give no word timings)."""
    pieces, words, emphasis = [], [], []
    offset = 0.0
    for chunk in chunks:
        if not chunk.text:
            silence = np.zeros(round(chunk.pause * rate), dtype=np.float32)
        else:
            audio = speak(chunk)
            chunk_words = _spread_words(chunk.text, offset, len(audio) / rate)
            words += chunk_words
            if chunk.emphasis and chunk_words:
                emphasis.append((chunk_words[0][1], chunk_words[-1][2]))
            silence = np.zeros(round(SENTENCE_GAP_SECONDS * rate), dtype=np.float32)
            pieces.append(_faded(audio, rate))
            offset += len(audio) / rate
        pieces.append(silence)
        offset += len(silence) / rate
    samples = np.concatenate(pieces)
    if emphasis:
        samples = emphasise(samples, rate, emphasis, EMPHASIS_GAIN)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > 0.97:
        samples = samples * (0.97 / peak)
    write_wav(out_wav, samples, rate)
    return Speech(
        wav_path=str(out_wav),
        seconds=len(samples) / rate,
        sample_rate=rate,
        words=[(w, round(s, 4), round(e, 4)) for w, s, e in words],
        emphasis=[(round(s, 4), round(e, 4)) for s, e in emphasis],
    )
