"""A tiny, randomly initialised copy of MuseTalk 1.5's released ``models/`` folder, written with
the release's file names, formats and parameter names, so the tests (and ``bench.face_neural
--tiny``) load it through the engine's own code path, as a real download loads.

- ``musetalkV15/musetalk.json``: the official configuration (OFFICIAL_UNET_CONFIG, verbatim from
  the release) with only widths, heads and groups scaled down: same blocks, same depth, so the
  parameter names are exactly the release's; ``unet.pth`` is a plain ``torch.save`` of the state
  dict.
- ``sd-vae/``: sd-vae-ft-mse's layout (config.json + diffusion_pytorch_model.bin), narrower, with
  the attention parameters under their 2022 names (``query``/``key``/``value``/``proj_attn``) as
  in that file.
- ``whisper/``: whisper-tiny's layout (config.json, pytorch_model.bin of
  WhisperForConditionalGeneration, preprocessor_config.json), one layer of 64.
- ``face-parse-bisent/79999_iter.pth``: a random full-size BiSeNet state dict (its architecture
  is fixed; 13 M parameters).
"""

from __future__ import annotations

import json
from pathlib import Path

# musetalkV15/musetalk.json as TMElyralab/MuseTalk publishes it (diffusers 0.6.0.dev0 config).
OFFICIAL_UNET_CONFIG = {
    "_class_name": "UNet2DConditionModel",
    "_diffusers_version": "0.6.0.dev0",
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 384,
    "down_block_types": [
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 8,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": [
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ],
}
TINY_WIDTH = 64  # Whisper's d_model and so the UNet's cross-attention width
# Narrower, one attention head (self-attention over 32 x 32 latents is most of a tiny UNet's
# time), groups of 8: none of these changes a parameter's name.
TINY_UNET_CONFIG = {
    **OFFICIAL_UNET_CONFIG,
    "attention_head_dim": 1,
    "block_out_channels": [8, 16, 24, 24],
    "cross_attention_dim": TINY_WIDTH,
    "norm_num_groups": 8,
}
# stabilityai/sd-vae-ft-mse's config.json, narrowed (the release: 128, 256, 512, 512; groups 32).
TINY_VAE_CONFIG = {
    "_class_name": "AutoencoderKL",
    "_diffusers_version": "0.4.2",
    "act_fn": "silu",
    "block_out_channels": [4, 8, 8, 8],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 4,
    "out_channels": 3,
    "sample_size": 256,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}
_OLD_ATTENTION_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def write_tiny_release(folder: Path, *, parsing: bool = True) -> Path:
    """Write the tiny release into ``folder`` (MuseTalk's ``models/``) and return it."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    from engine.face.parsing import build_bisenet

    torch.manual_seed(0)
    unet_dir = folder / "musetalkV15"
    unet_dir.mkdir(parents=True, exist_ok=True)
    (unet_dir / "musetalk.json").write_text(json.dumps(TINY_UNET_CONFIG, indent=2))
    unet = UNet2DConditionModel.from_config(TINY_UNET_CONFIG)
    torch.save(unet.state_dict(), unet_dir / "unet.pth")

    vae_dir = folder / "sd-vae"
    vae_dir.mkdir(exist_ok=True)
    (vae_dir / "config.json").write_text(json.dumps(TINY_VAE_CONFIG, indent=2))
    state = AutoencoderKL.from_config(TINY_VAE_CONFIG).state_dict()
    for key in list(state):
        if ".mid_block.attentions." in key:
            renamed = key
            for new, old in _OLD_ATTENTION_NAMES.items():
                renamed = renamed.replace(f".{new}.", f".{old}.")
            state[renamed] = state.pop(key)
    torch.save(state, vae_dir / "diffusion_pytorch_model.bin")

    whisper_dir = folder / "whisper"
    config = WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=TINY_WIDTH,
        encoder_layers=1,
        encoder_attention_heads=2,
        decoder_layers=1,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        suppress_tokens=[],
        begin_suppress_tokens=[],
        architectures=["WhisperForConditionalGeneration"],
    )
    config.save_pretrained(whisper_dir)
    state = WhisperForConditionalGeneration(config).state_dict()
    del state["proj_out.weight"]  # tied to the token embedding; save_pretrained leaves it out
    torch.save(state, whisper_dir / "pytorch_model.bin")
    WhisperFeatureExtractor(feature_size=80).save_pretrained(whisper_dir)

    if parsing:
        (folder / "face-parse-bisent").mkdir(exist_ok=True)
        torch.save(build_bisenet().state_dict(), folder / "face-parse-bisent" / "79999_iter.pth")
    return folder
