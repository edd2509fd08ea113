"""The XTTS engine, run end to end on a tiny random XTTS saved and loaded like real weights."""

import numpy as np
import pytest

from engine.audio import frame_levels_db, read_wav
from engine.voice import get_voice_engine
from engine.voice.xtts import XttsVoice, XttsWeightsMissing
from tests.engine.tiny_xtts import write_tiny_xtts
from tests.voice_media import ENROLL_SENTENCES, sentences, wav


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_tiny_xtts(tmp_path_factory.mktemp("xtts") / "weights")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return wav(
        tmp_path_factory.mktemp("xtts-sample") / "s.wav", sentences("slt", ENROLL_SENTENCES[:3])
    )


def test_no_weights_directory_is_an_error_naming_the_setting():
    with pytest.raises(XttsWeightsMissing, match="needs XTTS_WEIGHTS_DIR"):
        get_voice_engine("xtts")


def test_the_engine_reads_its_weights_from_its_options_not_the_environment(weights, monkeypatch):
    monkeypatch.setenv("XTTS_WEIGHTS_DIR", str(weights))
    with pytest.raises(XttsWeightsMissing, match="needs XTTS_WEIGHTS_DIR"):
        get_voice_engine("xtts")
    engine = get_voice_engine("xtts", weights_dir=str(weights), device="cpu")
    assert engine.weights_dir == weights and engine.device == "cpu"


def test_a_missing_or_incomplete_directory_says_what_is_missing(tmp_path):
    with pytest.raises(XttsWeightsMissing, match=r"XTTS_WEIGHTS_DIR=.*nowhere is not a directory"):
        XttsVoice(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(XttsWeightsMissing, match=r"lacks model\.pth, vocab\.json"):
        XttsVoice(tmp_path)


def test_the_engine_speaks_each_sentence_and_joins_them_with_pauses_and_no_clicks(
    weights, sample, tmp_path
):
    engine = get_voice_engine("xtts", weights_dir=str(weights), device="cpu")
    assert engine.name == "xtts"
    engine.sampling = False  # greedy: the same audio every run
    speech = engine.speak(
        "Hello there. [pause 1s] It costs $5.", [str(sample)], str(tmp_path / "x.wav")
    )
    samples, rate = read_wav(speech.wav_path)
    assert rate == 24000 and speech.seconds == pytest.approx(len(samples) / rate)
    assert np.isfinite(samples).all() and np.max(np.abs(samples)) < 0.99
    assert [w for w, _, _ in speech.words] == ["Hello", "there", "It", "costs", "five", "dollars"]
    there_end, it_start = speech.words[1][2], speech.words[2][1]
    assert it_start - there_end >= 1.0
    gap = samples[round((there_end + 0.2) * rate) : round((there_end + 1.0) * rate)]
    assert frame_levels_db(gap, rate, 0.02).max() < -80
    # Every sentence fades in and out, so no seam starts or ends on a jump.
    sentence_edges = [speech.words[0][1], there_end, it_start, speech.words[-1][2]]
    for edge in sentence_edges:
        index = min(len(samples) - 1, round(edge * rate))
        assert np.max(np.abs(samples[max(0, index - 2) : index + 3])) < 0.01
    assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-3
