"""Neural voice engine: Resemble AI's Chatterbox (MIT code and weights), through the
``chatterbox-light`` package (an MIT fork without the upstream's pinned torch and watermarker),
cloning from the subject's samples. Meant for a GPU; runs on a CPU, slowly.

Weights are read only from a local directory, given as ``weights_dir`` (the site's setting
``VOICE_CHATTERBOX_WEIGHTS_DIR``) in the layout Resemble AI releases: ``ve.safetensors``,
``t3_cfg.safetensors``, ``s3gen.safetensors``, ``tokenizer.json`` (``conds.pt``, the built-in
voice, is not used: every render clones the subject). Nothing is downloaded.

The text-to-token model (T3, a Llama) is built with the sizes its weights have (the release's is
Llama 520M), so a small model saved in the same layout loads through the same code: that is how
the tests run it on a CPU. Chatterbox gives no timings and has no speed setting: word timings
are spread over each sentence by the words' lengths, as for XTTS.
"""

from __future__ import annotations

import functools
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.audio import read_wav, resampled, write_wav
from engine.errors import EmptyScript, EngineError, VoiceWeightsMissing
from engine.voice.base import Speech
from engine.voice.festival import script_chunks
from engine.voice.xtts import sentences_to_speech

WEIGHTS_SETTING = "VOICE_CHATTERBOX_WEIGHTS_DIR"  # the site's setting, named by the errors
WEIGHT_FILES = ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json")
REFERENCE_SECONDS = 10.0  # of the subject's samples the model conditions on (its own limit)
# Speech tokens are 25 a second; a sentence may last twice festival's pace and a second more
# before its generation is cut (a model that never says "stop" must not run on for minutes).
TOKENS_PER_SECOND = 25
CHARACTERS_PER_SECOND = 14.0

_lock = threading.Lock()


class ChatterboxWeightsMissing(VoiceWeightsMissing):
    pass


class ChatterboxVoice:
    """Chatterbox speech cloned from the voice samples."""

    name = "chatterbox"

    def __init__(self, weights_dir: str | Path, *, device: str = "auto", seed: int | None = None):
        self.weights_dir = check_weights_dir(weights_dir)
        self.device = _device(device)
        self.seed = seed  # a fixed seed: the same speech for the same text (the tests use one)

    def speak(
        self,
        text: str,
        voice_sample_paths: Sequence[str],
        out_wav: str,
        *,
        voice_profile_path: str | None = None,
        lexicon: Mapping[str, str] | None = None,
    ) -> Speech:
        del voice_profile_path  # Chatterbox conditions on the recordings themselves
        if not voice_sample_paths:
            raise EngineError("The chatterbox voice engine needs the subject's voice samples.")
        chunks = script_chunks(text, lexicon)
        if not any(c.text for c in chunks):
            raise EmptyScript()
        model = load_model(str(self.weights_dir), self.device)
        import torch

        with _lock, tempfile.TemporaryDirectory(prefix="likeness-chatterbox-") as tmp:
            if self.seed is not None:
                torch.manual_seed(self.seed)
            reference = Path(tmp) / "reference.wav"
            _write_reference(voice_sample_paths, reference)
            model.prepare_conditionals(str(reference))
            rate = int(model.sr)
            return sentences_to_speech(
                chunks, rate, lambda chunk: _sentence(model, chunk.text), out_wav
            )


def _write_reference(voice_sample_paths: Sequence[str], out: Path) -> None:
    """The samples end to end, up to REFERENCE_SECONDS, as one mono WAV at 24 kHz."""
    pieces, rate, total = [], 24000, 0
    for path in voice_sample_paths:
        samples, sample_rate = read_wav(path)
        pieces.append(resampled(samples, sample_rate, rate).astype(np.float32))
        total += len(pieces[-1])
        if total >= REFERENCE_SECONDS * rate:
            break
    write_wav(out, np.concatenate(pieces)[: round(REFERENCE_SECONDS * rate)], rate)


def _sentence(model, text: str) -> np.ndarray:
    """One sentence through T3 (text to speech tokens) and S3Gen (tokens to 24 kHz sound), as
    ChatterboxTTS.generate does, with the tokens bounded by the sentence's length."""
    import torch
    import torch.nn.functional as F
    from chatterbox.models.s3tokenizer import drop_invalid_tokens
    from chatterbox.tts import punc_norm

    tokens = model.tokenizer.text_to_tokens(punc_norm(text)).to(model.device)
    tokens = torch.cat([tokens, tokens], dim=0)  # conditioned and unconditioned (CFG)
    tokens = F.pad(tokens, (1, 0), value=model.t3.hp.start_text_token)
    tokens = F.pad(tokens, (0, 1), value=model.t3.hp.stop_text_token)
    bound = round(TOKENS_PER_SECOND * (2.0 * len(text) / CHARACTERS_PER_SECOND + 1.0))
    with torch.inference_mode():
        speech = model.t3.inference(
            t3_cond=model.conds.t3,
            text_tokens=tokens,
            max_new_tokens=bound,
            temperature=0.8,
            cfg_weight=0.5,
            repetition_penalty=1.2,
            min_p=0.05,
            top_p=1.0,
        )[0]
        speech = drop_invalid_tokens(speech)
        speech = speech[speech < model.t3.hp.start_speech_token].to(model.device)
        if len(speech) == 0:
            return np.zeros(0, dtype=np.float32)
        wav, _ = model.s3gen.inference(speech_tokens=speech, ref_dict=model.conds.gen)
    return np.nan_to_num(wav.squeeze(0).detach().cpu().numpy().astype(np.float32))


def check_weights_dir(weights_dir: str | Path) -> Path:
    """The weights directory, or ChatterboxWeightsMissing naming the setting and what is
    missing."""
    if not str(weights_dir).strip():
        raise ChatterboxWeightsMissing(
            f"The chatterbox voice engine needs {WEIGHTS_SETTING}: set it to a local directory "
            f"holding Chatterbox's {', '.join(WEIGHT_FILES)} (nothing is downloaded)."
        )
    folder = Path(weights_dir)
    if not folder.is_dir():
        raise ChatterboxWeightsMissing(f"{WEIGHTS_SETTING}={folder} is not a directory.")
    missing = [name for name in WEIGHT_FILES if not (folder / name).is_file()]
    if missing:
        raise ChatterboxWeightsMissing(
            f"{WEIGHTS_SETTING}={folder} lacks {', '.join(missing)}; copy Chatterbox's files there."
        )
    return folder


def _device(device: str) -> str:
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def t3_config_of(state: Mapping[str, object]):
    """A T3Config whose Llama has the sizes of the T3 weights ``state`` (its layers, width and
    feed-forward size), registered under a name of those sizes when the release's is not it."""
    from chatterbox.models.t3.llama_configs import LLAMA_520M_CONFIG_DICT, LLAMA_CONFIGS
    from chatterbox.models.t3.modules.t3_config import T3Config

    hidden = int(state["text_emb.weight"].shape[1])
    layers = 1 + max(
        int(m.group(1)) for key in state if (m := re.match(r"tfmr\.layers\.(\d+)\.", key))
    )
    feed_forward = int(state["tfmr.layers.0.mlp.gate_proj.weight"].shape[0])
    head_dim = int(LLAMA_520M_CONFIG_DICT["head_dim"])
    key_heads = int(state["tfmr.layers.0.self_attn.k_proj.weight"].shape[0]) // head_dim
    sizes = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "intermediate_size": feed_forward,
        "num_attention_heads": hidden // head_dim,
        "num_key_value_heads": key_heads,
    }
    config = T3Config(text_tokens_dict_size=int(state["text_emb.weight"].shape[0]))
    if any(LLAMA_520M_CONFIG_DICT[k] != v for k, v in sizes.items()):
        name = "Llama_{hidden_size}x{num_hidden_layers}x{intermediate_size}".format(**sizes)
        LLAMA_CONFIGS.setdefault(name, {**LLAMA_520M_CONFIG_DICT, **sizes})
        config.llama_config_name = name
    return config


def load_t3(folder: Path):
    """T3 (text to speech tokens) from ``t3_cfg.safetensors``, built with its weights' sizes
    and loaded strictly: a file of another architecture is refused, not half loaded."""
    from chatterbox.models.t3 import T3
    from safetensors.torch import load_file

    state = load_file(folder / "t3_cfg.safetensors")
    t3 = T3(t3_config_of(state))
    t3.load_state_dict(state)
    return t3


@functools.lru_cache(maxsize=2)
def load_model(weights_dir: str, device: str):
    """Chatterbox from a weights directory, once per process (real or test weights, one code
    path)."""
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.tokenizers import EnTokenizer
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts import ChatterboxTTS
    from safetensors.torch import load_file

    folder = Path(weights_dir)
    voice_encoder = VoiceEncoder()
    voice_encoder.load_state_dict(load_file(folder / "ve.safetensors"))
    t3 = load_t3(folder)
    s3gen = S3Gen()
    # Not strict, as the package loads it: the tokenizer's mel filters and window are computed.
    s3gen.load_state_dict(load_file(folder / "s3gen.safetensors"), strict=False)
    tokenizer = EnTokenizer(str(folder / "tokenizer.json"))
    parts = [part.to(device).eval() for part in (t3, s3gen, voice_encoder)]
    return ChatterboxTTS(*parts, tokenizer, device)


def write_random_weights(
    folder: str | Path, *, layers: int = 1, feed_forward: int = 256, s3gen: bool = True
) -> Path:
    """Randomly initialised Chatterbox weights in the release's layout: T3 with ``layers``
    Llama layers of the release's width and a feed-forward of ``feed_forward``, the voice encoder
    and S3Gen at the release's sizes, and a character tokenizer. For the tests and
    ``bench.voice_neural --tiny``: what it says is noise, through the real loading code.
    ``s3gen``: False leaves S3Gen out (264M parameters at any size: a minute to write on a
    loaded CPU), for tests of T3 alone."""
    import torch
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.tokenizers.tokenizer import SPACE, SPECIAL_TOKENS, UNK
    from chatterbox.models.voice_encoder import VoiceEncoder
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, models

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    shapes = {
        "text_emb.weight": torch.zeros(704, 1024),
        "tfmr.layers.0.mlp.gate_proj.weight": torch.zeros(feed_forward, 1024),
        "tfmr.layers.0.self_attn.k_proj.weight": torch.zeros(1024, 1024),
        **{f"tfmr.layers.{n}.": None for n in range(layers)},
    }
    parts = [("t3_cfg", T3(t3_config_of(shapes))), ("ve", VoiceEncoder())]
    for name, part in parts + ([("s3gen", S3Gen())] if s3gen else []):
        state = {k: v.contiguous() for k, v in part.state_dict().items()}
        save_file(state, str(folder / f"{name}.safetensors"))
    letters = [*SPECIAL_TOKENS, *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?'-"]
    tokenizer = Tokenizer(models.BPE({t: i for i, t in enumerate(letters)}, [], unk_token=UNK))
    tokenizer.add_special_tokens([SPACE, *SPECIAL_TOKENS])
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder
