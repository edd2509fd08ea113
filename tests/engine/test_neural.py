"""The neural (MuseTalk-style) face engine, end to end on the CPU with tiny random models that the
test builds and saves; they load through the same code path as real weights."""

import numpy as np
import pytest

from engine.audio import write_wav
from engine.errors import FaceWeightsMissing
from engine.face import get_face_engine
from engine.face import topology as T
from engine.face.neural import (
    WEIGHTS_SETTING,
    NeuralFaceEngine,
    audio_features,
    frame_audio_windows,
    load_models,
    weights_dir,
)
from engine.face.warp import WarpFaceEngine

SIZE, FPS = 128, 25


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """UNet (8 in, 4 out, cross-attention 64), VAE (4 latent channels) and Whisper (d_model 64,
    one layer) with random weights, saved with save_pretrained."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    folder = tmp_path_factory.mktemp("neural-weights")
    torch.manual_seed(0)
    UNet2DConditionModel(
        sample_size=16,
        in_channels=8,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=32,
    ).save_pretrained(folder / "unet")
    AutoencoderKL(
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=32,
    ).save_pretrained(folder / "vae")
    config = WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=64,
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
    )
    WhisperModel(config).save_pretrained(folder / "whisper")
    WhisperFeatureExtractor(feature_size=80).save_pretrained(folder / "whisper")
    return folder


@pytest.fixture(scope="module")
def astronaut_landmarks(astronaut_png):
    from engine.face import inspect_portrait

    return inspect_portrait(astronaut_png).landmarks


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    """0.8 s: silence, then a vowel-like buzz (the tiny models only need sound, not words)."""
    rate = 16000
    t = np.arange(int(0.8 * rate)) / rate
    buzz = 0.3 * np.sign(np.sin(2 * np.pi * 140 * t)) * (t > 0.3)
    path = tmp_path_factory.mktemp("neural-audio") / "buzz.wav"
    write_wav(path, buzz.astype(np.float32), rate)
    return path


def test_without_the_setting_the_error_names_it():
    with pytest.raises(FaceWeightsMissing, match=WEIGHTS_SETTING):
        weights_dir()


def test_the_engine_reads_its_weights_from_its_options_not_the_environment(
    monkeypatch, tiny_weights
):
    monkeypatch.setenv(WEIGHTS_SETTING, str(tiny_weights))
    with pytest.raises(FaceWeightsMissing, match=WEIGHTS_SETTING):
        list(get_face_engine("neural").animate("p.png", [], "a.wav", 25, (64, 64)))


def test_a_directory_without_the_models_is_a_clear_error(tmp_path):
    (tmp_path / "unet").mkdir()
    with pytest.raises(FaceWeightsMissing, match=r"lacks unet, vae, whisper"):
        weights_dir(tmp_path)
    engine = get_face_engine("neural", weights_dir=str(tmp_path / "nowhere"))
    with pytest.raises(FaceWeightsMissing, match="does not exist"):
        list(engine.animate("p.png", [], "a.wav", 25, (64, 64)))


def test_audio_becomes_a_window_of_whisper_states_per_frame(tiny_weights):
    models = load_models(str(tiny_weights))
    samples = np.zeros(16000, np.float32)
    states = audio_features(models, samples, 16000)
    assert states.shape == (50, 2, 64)  # 50 Hz, embeddings + 1 layer, d_model
    windows = frame_audio_windows(states, 25, 25)
    assert windows.shape == (25, 10 * 2, 64)  # 10 Whisper steps around each frame


def test_the_engine_renders_one_frame_per_frame_of_audio_and_keeps_the_upper_face(
    tiny_weights, astronaut_png, astronaut_landmarks, speech_wav
):
    engine = get_face_engine("neural", weights_dir=str(tiny_weights))
    assert isinstance(engine, NeuralFaceEngine)
    fractions = []
    frames = np.stack(
        list(
            engine.animate(
                str(astronaut_png),
                astronaut_landmarks,
                str(speech_wav),
                FPS,
                (SIZE, SIZE),
                progress=fractions.append,
            )
        )
    )
    assert frames.shape == (20, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert fractions[-1] == 1.0
    # Same blinks and head motion as the warp engine: above the nose the frames are identical;
    # the regenerated lower face differs (random weights paint noise there).
    warp = np.stack(
        list(
            WarpFaceEngine().animate(
                str(astronaut_png), astronaut_landmarks, str(speech_wav), FPS, (SIZE, SIZE)
            )
        )
    )
    from engine.face.landmarks import load_rgb
    from engine.face.warp import FaceRig

    rig = FaceRig(load_rgb(astronaut_png), astronaut_landmarks, (SIZE, SIZE))
    nose = int(rig.points[T.NOSE_TIP][1]) - 6  # head motion moves the face a few pixels
    assert np.abs(frames[:, :nose].astype(int) - warp[:, :nose].astype(int)).max() <= 1
    chin = rig.points[T.CHIN].astype(int)
    mouth = rig.mouth_centre.astype(int)
    below = frames[:, mouth[1] : chin[1], mouth[0] - 5 : mouth[0] + 5].astype(int)
    assert np.abs(below - warp[:, mouth[1] : chin[1], mouth[0] - 5 : mouth[0] + 5]).mean() > 5


def test_batch_size_does_not_change_the_frames(
    tiny_weights, astronaut_png, astronaut_landmarks, speech_wav
):
    def run(batch):
        engine = NeuralFaceEngine(tiny_weights, batch_size=batch)
        args = (str(astronaut_png), astronaut_landmarks, str(speech_wav), FPS, (SIZE, SIZE))
        return np.stack(list(engine.animate(*args)))

    assert np.abs(run(1).astype(int) - run(8).astype(int)).max() <= 2


def test_animate_with_the_neural_engine_from_the_command_line(
    capsys, tmp_path, tiny_weights, astronaut_png, speech_wav
):
    import json

    from engine.cli import main

    out = tmp_path / "neural.mp4"
    argv = ["animate", "--portrait", str(astronaut_png), "--audio", str(speech_wav)]
    argv += ["--out", str(out), "--engine", "neural", "--size", "96"]
    assert main([*argv, "--weights-dir", str(tiny_weights)]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 20 and out.is_file()


def test_animate_with_missing_neural_weights_exits_with_one_line_naming_the_setting(
    capsys, tmp_path, astronaut_png, speech_wav
):
    from engine.cli import main

    argv = ["animate", "--portrait", str(astronaut_png), "--audio", str(speech_wav)]
    assert main([*argv, "--out", str(tmp_path / "x.mp4"), "--engine", "neural"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and WEIGHTS_SETTING in error
    assert "--weights-dir DIR" in error
    assert not (tmp_path / "x.mp4").exists()
