"""Visible disclosure: label language and corner, robust detection, opening card, caption cue."""

import subprocess

import numpy as np
import pytest
from skimage import data

from engine.label import (
    CARD_TEXTS,
    LABEL_TEXTS,
    apply_card,
    apply_label,
    detect_label,
    make_badge,
    make_card,
    with_disclosure_cue,
)


def labeled_frame(text="AI-generated", corner="top-right", size=512):
    frame = np.ascontiguousarray(data.astronaut())
    if size != 512:
        import cv2

        frame = np.ascontiguousarray(cv2.resize(frame, (size, size)))
    return apply_label(frame, make_badge(text, size, size, corner))


def through_ffmpeg(frame, tmp_path, vf):
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    from PIL import Image

    Image.fromarray(frame).save(src)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-i", str(src), "-vf", vf, str(out)], check=True)
    return np.asarray(Image.open(out).convert("RGB"))


def test_a_label_in_another_language_is_found_when_any_language_is_allowed():
    frame = labeled_frame(LABEL_TEXTS["de"], "bottom-left")
    assert detect_label(frame, text=None)[0::2] == (True, "bottom-left")


@pytest.mark.parametrize("vf", ["scale=iw/2:ih/2", "scale=-2:360", "scale=iw*1.5:ih*1.5"])
def test_the_label_is_found_in_a_scaled_copy(tmp_path, vf):
    found, score, corner = detect_label(through_ffmpeg(labeled_frame(), tmp_path, vf))
    assert found and corner == "top-right", score


def test_the_label_is_found_after_cropping_then_scaling_back(tmp_path):
    frame = through_ffmpeg(
        labeled_frame(), tmp_path, "crop=iw*0.95:ih*0.95:iw*0.05:0,scale=512:512"
    )
    assert detect_label(frame)[0]


def test_the_opening_card_covers_the_first_seconds_then_fades_away():
    card = make_card(CARD_TEXTS["en"], 256, 256, 2.0)
    frame = np.full((256, 256, 3), 200, np.uint8)
    assert apply_card(frame.copy(), card, 0.5).mean() < 80  # dark card with white text
    assert np.array_equal(apply_card(frame.copy(), card, 2.0), frame)
    assert 80 < apply_card(frame.copy(), card, 1.8).mean() < 200  # fading


def test_webvtt_captions_open_with_a_disclosure_cue():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello there.\n"
    out = with_disclosure_cue(vtt, "vtt", "fr", seconds=3)
    assert out.startswith("WEBVTT\n\nNOTE Généré par IA")
    assert "disclosure\n00:00:00.000 --> 00:00:03.000\n[Généré par IA]" in out
    assert out.rstrip().endswith("Hello there.")


def test_srt_captions_get_a_first_cue_and_are_renumbered():
    srt = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\n00:00:02,000 --> 00:00:03,000\nBye.\n"
    blocks = with_disclosure_cue(srt, "srt", seconds=2.5).strip().split("\n\n")
    assert blocks[0].startswith("1\n00:00:00,000 --> 00:00:02,500\n[AI-generated]")
    assert [b.split("\n")[0] for b in blocks] == ["1", "2", "3"]
    assert blocks[2].endswith("Bye.")


def test_a_render_with_the_opening_card_and_a_french_bottom_left_label(tmp_path):
    from engine.demo import write_demo_assets
    from engine.pipeline import render
    from engine.probe import probe, read_frame
    from engine.spec import RenderSpec

    assets = write_demo_assets(tmp_path / "demo")
    spec = RenderSpec(
        script_text="Bonjour. Cette vidéo est synthétique.",
        portrait_path=assets.portrait_path,
        voice_engine="festival",
        voice_sample_paths=[assets.voice_sample_path],
        width=256,
        height=256,
        label_text=LABEL_TEXTS["fr"],
        label_position="bottom-left",
        disclosure_card_seconds=1.0,
        disclosure_card_text=CARD_TEXTS["fr"],
    )
    out = tmp_path / "video.mp4"
    result = render(spec, out)
    assert read_frame(out, 0.1, 256, 256).mean() < read_frame(out, 1.5, 256, 256).mean() - 40
    # Nothing is said under the card: the first word starts as it has faded.
    assert result.words[0][1] >= spec.disclosure_card_seconds
    label = probe(out)["visible_label"]
    assert label["corner"] == "bottom-left" and label["fraction"] >= 0.8
