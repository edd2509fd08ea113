"""A tiny, randomly initialised XTTS of XTTS-v2's architecture, saved like the real weights
(config.json, model.pth, vocab.json), so the tests load it through the engine's own code path."""

from __future__ import annotations

from pathlib import Path


def write_tiny_xtts(folder: Path) -> Path:
    import torch
    from tokenizers import Tokenizer
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.layers.xtts import tokenizer as xtts_tokenizer
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts, XttsArgs, XttsAudioConfig

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    # Coqui ships tortoise's BPE vocabulary; XTTS also needs [START] and a language token.
    tortoise = Path(xtts_tokenizer.__file__).parents[2] / "utils/assets/tortoise/tokenizer.json"
    tokenizer = Tokenizer.from_file(str(tortoise))
    tokenizer.add_special_tokens(["[START]", "[en]"])
    tokenizer.save(str(folder / "vocab.json"))

    args = XttsArgs(
        gpt_layers=1,
        gpt_n_model_channels=64,
        gpt_n_heads=2,
        gpt_max_audio_tokens=60,
        gpt_max_text_tokens=100,
        gpt_max_prompt_tokens=30,
        gpt_num_audio_tokens=1026,
        gpt_start_audio_token=1024,
        gpt_stop_audio_token=1025,
        gpt_use_perceiver_resampler=True,
        gpt_code_stride_len=1024,
        input_sample_rate=22050,
        output_sample_rate=24000,
        output_hop_length=256,
        decoder_input_dim=64,
        d_vector_dim=512,
        cond_d_vector_in_each_upsampling_layer=True,
    )
    config = XttsConfig(model_args=args, audio=XttsAudioConfig(), languages=["en"])
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder
