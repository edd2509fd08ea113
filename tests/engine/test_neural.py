"""The neural (MuseTalk 1.5) face engine, end to end on the CPU with a tiny random copy of the
released ``models/`` folder (tests/engine/tiny_musetalk.py): the same file names, formats and
parameter names as the download, loaded through the same code path."""

import json
import shutil

import numpy as np
import pytest

from engine.audio import write_wav
from engine.errors import FaceWeightsMissing
from engine.face import get_face_engine
from engine.face.neural import (
    CROP,
    WEIGHTS_SETTING,
    NeuralFaceEngine,
    _Paste,
    audio_features,
    build_unet,
    face_box,
    frame_audio_windows,
    generate,
    load_models,
    load_unet,
    reference_latents,
    weights_dir,
)
from engine.face.warp import FaceRig, WarpFaceEngine
from tests.engine.tiny_musetalk import OFFICIAL_UNET_CONFIG, TINY_WIDTH, write_tiny_release

SIZE, FPS, FRAMES = 128, 25, 10


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_tiny_release(tmp_path_factory.mktemp("musetalk") / "models")


@pytest.fixture(scope="module")
def release_without_parsing(tmp_path_factory, release):
    """The same weights without the optional face-parse-bisent/ folder."""
    folder = tmp_path_factory.mktemp("musetalk-no-parsing") / "models"
    shutil.copytree(release, folder, ignore=shutil.ignore_patterns("face-parse-bisent"))
    return folder


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    """0.4 s: silence, then a vowel-like buzz (the tiny models only need sound, not words)."""
    rate = 16000
    t = np.arange(int(0.4 * rate)) / rate
    buzz = 0.3 * np.sign(np.sin(2 * np.pi * 140 * t)) * (t > 0.15)
    path = tmp_path_factory.mktemp("neural-audio") / "buzz.wav"
    write_wav(path, buzz.astype(np.float32), rate)
    return path


@pytest.fixture(scope="module")
def rig(astronaut_png, landmarks):
    from engine.face.landmarks import load_rgb

    return FaceRig(load_rgb(astronaut_png), landmarks, (SIZE, SIZE))


# -- the weights folder ------------------------------------------------------------------------


def test_without_the_setting_the_error_names_it():
    with pytest.raises(FaceWeightsMissing, match=WEIGHTS_SETTING):
        weights_dir()


def test_the_engine_reads_its_weights_from_its_options_not_the_environment(monkeypatch, release):
    monkeypatch.setenv(WEIGHTS_SETTING, str(release))
    with pytest.raises(FaceWeightsMissing, match=WEIGHTS_SETTING):
        list(get_face_engine("neural").animate("p.png", [], "a.wav", 25, (64, 64)))


def test_a_folder_that_does_not_exist_is_a_clear_error(tmp_path):
    engine = get_face_engine("neural", weights_dir=str(tmp_path / "nowhere"))
    with pytest.raises(FaceWeightsMissing, match=f"{WEIGHTS_SETTING}=.*does not exist"):
        list(engine.animate("p.png", [], "a.wav", 25, (64, 64)))


def test_an_incomplete_download_names_the_setting_and_every_missing_file(tmp_path, release):
    folder = tmp_path / "models"
    shutil.copytree(release, folder)
    (folder / "musetalkV15" / "unet.pth").unlink()
    (folder / "whisper" / "preprocessor_config.json").unlink()
    with pytest.raises(FaceWeightsMissing) as error:
        weights_dir(folder)
    message = str(error.value)
    assert WEIGHTS_SETTING in message
    assert "lacks musetalkV15/unet.pth, whisper/preprocessor_config.json;" in message


def test_a_face_parsing_folder_without_its_network_is_an_incomplete_download(tmp_path, release):
    folder = tmp_path / "models"
    shutil.copytree(release, folder)
    (folder / "face-parse-bisent" / "79999_iter.pth").rename(
        folder / "face-parse-bisent" / "resnet18-5c106cde.pth"
    )
    with pytest.raises(FaceWeightsMissing, match=r"lacks face-parse-bisent/79999_iter\.pth"):
        weights_dir(folder)


# -- loading strictly, as a real download loads -------------------------------------------------


def test_the_release_layout_loads_every_part(release):
    models = load_models(str(weights_dir(release)))
    assert models.unet.config.cross_attention_dim == TINY_WIDTH == models.whisper.config.d_model
    assert models.unet.config.in_channels == 8 and models.parser is not None
    assert models.latent_scale == pytest.approx(0.18215)  # sd-vae-ft-mse's config has none
    assert not any(p.is_meta for p in models.unet.parameters())


def test_the_vae_file_keeps_its_2022_attention_names_and_still_loads_them(release):
    import torch

    stored = torch.load(release / "sd-vae" / "diffusion_pytorch_model.bin", weights_only=True)
    assert "encoder.mid_block.attentions.0.query.weight" in stored
    vae = load_models(str(release)).vae
    loaded = vae.state_dict()["encoder.mid_block.attentions.0.to_q.weight"]
    assert torch.equal(loaded, stored["encoder.mid_block.attentions.0.query.weight"])


def test_a_unet_file_missing_a_parameter_is_refused_naming_it(tmp_path, release):
    import torch

    folder = tmp_path / "models"
    shutil.copytree(release, folder)
    path = folder / "musetalkV15" / "unet.pth"
    state = torch.load(path, weights_only=True)
    del state["conv_out.bias"]
    torch.save(state, path)
    with pytest.raises(FaceWeightsMissing, match=r"unet.pth does not match .*conv_out.bias"):
        load_unet(folder)


def test_the_official_configuration_has_exactly_the_parameter_names_of_the_tiny_release(
    release,
):
    """The full MuseTalk 1.5 UNet, built on the meta device (no memory), expects the very names
    the tiny release's unet.pth holds: only widths differ, so a real unet.pth loads the same
    way. Its shapes are MuseTalk's: 8 latent channels in, Whisper-tiny's 384-d features."""
    import torch

    official = build_unet(OFFICIAL_UNET_CONFIG).state_dict()
    tiny = torch.load(release / "musetalkV15" / "unet.pth", weights_only=True)
    assert set(official) == set(tiny) and len(official) == 686
    assert official["conv_in.weight"].shape == (320, 8, 3, 3)
    assert official["conv_out.weight"].shape == (4, 320, 3, 3)
    cross = official["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"]
    assert cross.shape == (320, 384)
    assert sum(t.numel() for t in official.values()) == 849_947_844  # 3.4 GB in fp32


def test_the_face_parser_loads_the_released_names_strictly(tmp_path, release):
    import torch

    from engine.face.parsing import FaceParser, build_bisenet

    state = build_bisenet().state_dict()
    assert len(state) == 191
    assert state["cp.resnet.layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert state["cp.arm32.conv_atten.weight"].shape == (128, 128, 1, 1)
    assert state["ffm.conv1.weight"].shape == (64, 256, 1, 1)
    assert state["conv_out.conv_out.weight"].shape == (19, 256, 1, 1)
    assert state["conv_out16.conv_out.weight"].shape == (19, 64, 1, 1)
    FaceParser(release / "face-parse-bisent" / "79999_iter.pth")  # strict

    del state["ffm.conv2.weight"]
    torch.save(state, tmp_path / "79999_iter.pth")
    with pytest.raises(FaceWeightsMissing, match=r"79999_iter.pth is not the face-parsing"):
        FaceParser(tmp_path / "79999_iter.pth")


# -- MuseTalk 1.5's preparation --------------------------------------------------------------


def test_each_frame_hears_ten_whisper_steps_from_four_before_it_zeros_beyond_the_audio():
    steps, layers, width = 30, 2, 3
    states = np.arange(1, steps + 1, dtype=np.float32)[:, None, None] * np.ones((1, layers, width))
    windows = frame_audio_windows(states, frames=15, fps=25)
    assert windows.shape == (15, 10 * layers, width)
    heard = windows[:, ::layers, 0]  # the step each token comes from (0: beyond the audio)
    assert heard[0].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert heard[5].tolist() == list(range(7, 17))
    assert heard[14].tolist() == [25, 26, 27, 28, 29, 30, 0, 0, 0, 0]
    # the layers of one step sit side by side, time-major (MuseTalk's "b (c h) w")
    assert np.array_equal(windows[5, 0], windows[5, 1])


def test_audio_becomes_states_of_every_layer_at_fifty_hertz(release):
    states = audio_features(load_models(str(release)), np.zeros(16000, np.float32), 16000)
    assert states.shape == (50, 2, TINY_WIDTH)  # embeddings + 1 layer


def test_the_face_box_runs_from_as_far_above_the_nose_bridge_as_the_chin_is_below(rig):
    import engine.face.topology as T

    x0, y0, x1, y1 = face_box(rig.points, rig.width, rig.height, margin=0)
    chin = rig.points[T.CHIN][1]
    bridge = (y0 + y1) / 2  # the middle of the box: the lower edge of the masked half
    assert rig.points[168][1] < bridge < rig.points[T.NOSE_TIP][1]
    assert y1 == pytest.approx(chin, abs=1.5)
    assert x0 <= rig.points[T.MOUTH_LEFT][0] < rig.points[T.MOUTH_RIGHT][0] <= x1
    assert face_box(rig.points, rig.width, rig.height, margin=10)[3] == min(y1 + 10, SIZE)


@pytest.mark.parametrize("portrait", ["neutral", "smiling", "smiling-wide", "caught-open"])
def test_the_face_box_is_the_one_musetalks_68_points_give_measured_with_dlib(portrait):
    """MuseTalk crops by 68-point landmarks; ours come from mediapipe's 478. dlib's 68 points
    (a detector other than the engine's) give the reference box."""
    from pathlib import Path

    import dlib
    import face_recognition_models

    from engine.face import inspect_portrait
    from engine.face.landmarks import load_rgb

    path = Path(__file__).parents[1] / "data" / "portraits" / f"{portrait}.jpg"
    image = load_rgb(path)
    points = np.asarray(inspect_portrait(path).landmarks, float)
    found = dlib.get_frontal_face_detector()(image, 1)[0]
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    d = np.array([[p.x, p.y] for p in predictor(image, found).parts()], float)
    chin = d[:, 1].max()
    reference = [d[:, 0].min(), max(0.0, 2 * d[29, 1] - chin), d[:, 0].max(), chin]
    eyes = np.linalg.norm(d[36:42].mean(0) - d[42:48].mean(0))
    box = face_box(points, image.shape[1], image.shape[0], margin=0)
    assert np.abs(np.subtract(box, reference)).max() / eyes < 0.12


def test_the_paste_changes_nothing_above_the_box_middle_nor_outside_the_box(
    release, release_without_parsing, rig
):
    models = load_models(str(release))
    assert load_models(str(release_without_parsing)).parser is None
    for parser in (models.parser, None):
        paste = _Paste(rig, parser)
        x0, y0, x1, y1 = paste.box
        alpha = paste.alpha[..., 0]
        inside = np.zeros_like(alpha, bool)
        inside[(y0 + y1) // 2 - 3 : y1 + 3, x0 - 3 : x1 + 3] = True  # the blur's reach
        assert alpha[~inside].max() == 0 and alpha.max() > 0.99
        assert paste.crop(rig.base).shape == (CROP, CROP, 3)
        assert paste.parsed == (parser is not None)


def test_the_face_parsing_mask_decides_the_paste_when_the_release_has_it(release, rig, monkeypatch):
    """The parser's labels go through MuseTalk's "jaw" rule: with every pixel labelled nose
    (never regenerated) nothing is pasted; with every pixel skin the lower box is."""
    models = load_models(str(release))
    nose = np.full((512, 512), 10, np.uint8)
    monkeypatch.setattr(models.parser, "labels", lambda rgb: nose)
    assert _Paste(rig, models.parser).alpha.max() == 0
    monkeypatch.setattr(models.parser, "labels", lambda rgb: np.ones_like(nose))
    skin = _Paste(rig, models.parser).alpha[..., 0]
    x0, _, x1, y1 = _Paste(rig, None).box
    assert skin[y1 - 3, (x0 + x1) // 2] > 0.9


def test_the_jaw_rule_keeps_lips_and_spreads_skin_but_never_the_nose():
    from engine.face.parsing import jaw_mask

    labels = np.zeros((512, 512), np.uint8)
    labels[100:400, 150:360] = 1  # skin
    labels[200:280, 230:280] = 10  # nose
    labels[320:350, 210:300] = 12  # upper lip
    mask = jaw_mask(labels) > 0
    assert mask[335, 255] and not mask[240, 255] and mask[380, 255]
    assert mask[90, 255]  # the skin spreads up to 16 pixels past its edge in the middle
    assert not mask[450, 255] and not mask[50, 50]


# -- rendering --------------------------------------------------------------------------------


def test_the_engine_renders_one_frame_per_frame_of_audio_and_keeps_the_upper_face(
    release, astronaut_png, landmarks, speech_wav, rig
):
    engine = get_face_engine("neural", weights_dir=str(release))
    assert isinstance(engine, NeuralFaceEngine)
    fractions = []
    args = (str(astronaut_png), landmarks, str(speech_wav), FPS, (SIZE, SIZE))
    frames = np.stack(list(engine.animate(*args, progress=fractions.append)))
    assert frames.shape == (FRAMES, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert fractions[-1] == 1.0
    # Same blinks and head motion as the warp engine: above the box's middle the frames are
    # identical; the regenerated mouth region differs (random weights paint noise there).
    warp = np.stack(list(WarpFaceEngine().animate(*args)))
    _, y0, _, y1 = face_box(rig.points, SIZE, SIZE)
    middle = (y0 + y1) // 2 - 6  # head motion moves the face a few pixels
    assert np.abs(frames[:, :middle].astype(int) - warp[:, :middle].astype(int)).max() <= 1
    mouth = rig.mouth_centre.astype(int)
    below = frames[:, mouth[1] : y1 - 4, mouth[0] - 5 : mouth[0] + 5].astype(int)
    assert np.abs(below - warp[:, mouth[1] : y1 - 4, mouth[0] - 5 : mouth[0] + 5]).mean() > 5


def test_batch_size_does_not_change_the_faces(release, rig):
    models = load_models(str(release))
    latent_in = reference_latents(models, _Paste(rig, None).crop(rig.base))
    windows = np.random.default_rng(0).normal(size=(4, 10 * 2, TINY_WIDTH)).astype(np.float32)
    together = generate(models, latent_in, windows)
    alone = np.concatenate([generate(models, latent_in, windows[i : i + 1]) for i in range(4)])
    assert together.shape == (4, CROP, CROP, 3)
    assert np.abs(together.astype(int) - alone.astype(int)).max() <= 2
    assert np.abs(together[0].astype(int) - together[3].astype(int)).mean() > 1  # audio matters


def test_animate_with_the_neural_engine_from_the_command_line(
    capsys, tmp_path, release, astronaut_png, speech_wav
):
    from engine.cli import main

    out = tmp_path / "neural.mp4"
    argv = ["animate", "--portrait", str(astronaut_png), "--audio", str(speech_wav)]
    argv += ["--out", str(out), "--engine", "neural", "--size", "96"]
    assert main([*argv, "--weights-dir", str(release)]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == FRAMES and out.is_file()


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


def test_the_speed_bench_reports_fps_per_batch_and_precision(release):
    from bench.face_neural import measure

    result = measure(release, "cpu", batches=(2,), precisions=("float32", "float16"), repeats=1)
    assert result["precisions"]["float16"] == "unsupported on this device"
    figures = result["precisions"]["float32"]
    assert figures["2"]["fps"] > 0 and figures["setup_seconds"] > 0
