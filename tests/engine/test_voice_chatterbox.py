"""The Chatterbox voice engine: its weights folder, named by the setting when it is wrong, and its
text-to-token model built with the sizes of the weights it finds (a small random one here, saved
in the release's layout). S3Gen (264M parameters at any size) is left to bench.voice_neural."""

import pytest

from engine.voice import get_voice_engine
from engine.voice.chatterbox import (
    ChatterboxWeightsMissing,
    load_t3,
    t3_config_of,
    write_random_weights,
)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return write_random_weights(tmp_path_factory.mktemp("chatterbox"), layers=2, s3gen=False)


def test_without_weights_the_error_names_the_setting(tmp_path):
    with pytest.raises(ChatterboxWeightsMissing, match="needs VOICE_CHATTERBOX_WEIGHTS_DIR"):
        get_voice_engine("chatterbox", weights_dir="")
    with pytest.raises(ChatterboxWeightsMissing, match=r"=.*nowhere is not a directory"):
        get_voice_engine("chatterbox", weights_dir=str(tmp_path / "nowhere"))


def test_a_folder_lacking_a_file_of_the_release_says_which(tiny_weights):
    with pytest.raises(ChatterboxWeightsMissing, match=r"lacks s3gen\.safetensors;"):
        get_voice_engine("chatterbox", weights_dir=str(tiny_weights))


def test_the_releases_sizes_are_the_packages_own_llama_520m():
    import torch

    release = {
        "text_emb.weight": torch.empty(704, 1024, device="meta"),
        "tfmr.layers.0.mlp.gate_proj.weight": torch.empty(4096, 1024, device="meta"),
        "tfmr.layers.0.self_attn.k_proj.weight": torch.empty(1024, 1024, device="meta"),
        **{f"tfmr.layers.{n}.input_layernorm.weight": None for n in range(30)},
    }
    assert t3_config_of(release).llama_config_name == "Llama_520M"


def test_a_small_t3_loads_with_its_own_sizes_and_speaks_tokens(tiny_weights):
    import torch
    from chatterbox.models.t3.modules.cond_enc import T3Cond

    t3 = load_t3(tiny_weights).eval()
    assert (t3.cfg.num_hidden_layers, t3.cfg.intermediate_size) == (2, 256)
    hp = t3.hp
    condition = T3Cond(
        speaker_emb=torch.randn(1, hp.speaker_embed_size),
        cond_prompt_speech_tokens=torch.zeros(1, hp.speech_cond_prompt_len, dtype=torch.long),
        emotion_adv=0.5 * torch.ones(1, 1, 1),
    )
    text = torch.tensor([[hp.start_text_token, 30, 31, 3, 32, hp.stop_text_token]] * 2)
    torch.manual_seed(0)
    tokens = t3.inference(t3_cond=condition, text_tokens=text, max_new_tokens=6)
    assert 1 <= tokens.shape[1] <= 6
    assert int(tokens.max()) < hp.speech_tokens_dict_size
