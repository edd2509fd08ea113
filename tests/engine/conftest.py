"""Media fixtures made by the tests themselves: photos, speech, silence, garbage, a render."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from engine.audio import read_wav, write_wav


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def astronaut_png(media):
    """A public-domain photo with one face (scikit-image's astronaut)."""
    path = media / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


@pytest.fixture(scope="session")
def landmarks(astronaut_png):
    """The astronaut's face landmarks, as an avatar keeps them from enrollment."""
    from engine.face import inspect_portrait

    return inspect_portrait(astronaut_png).landmarks


@pytest.fixture(scope="session")
def two_people_png(media):
    path = media / "two.png"
    Image.fromarray(np.hstack([data.astronaut(), data.astronaut()])).save(path)
    return path


@pytest.fixture(scope="session")
def blank_png(media):
    path = media / "blank.png"
    Image.fromarray(np.full((320, 320, 3), 200, np.uint8)).save(path)
    return path


@pytest.fixture(scope="session")
def tiny_face_png(media):
    path = media / "tiny.png"
    Image.fromarray(data.astronaut()).resize((180, 180)).save(path)
    return path


@pytest.fixture(scope="session")
def garbage_file(media):
    path = media / "garbage.bin"
    path.write_bytes(b"\x00\x01definitely not a picture or a sound" * 10)
    return path


@pytest.fixture(scope="session")
def empty_file(media):
    path = media / "empty.png"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def speech(media):
    """Festival speech of two short sentences."""
    from engine.voice import get_voice_engine

    return get_voice_engine("festival").speak(
        "Good morning. The quick brown fox jumps over the lazy dog.", [], str(media / "speech.wav")
    )


@pytest.fixture(scope="session")
def silence_wav(media):
    path = media / "silence.wav"
    write_wav(path, np.zeros(16000 * 2, np.float32), 16000)
    return path


@pytest.fixture(scope="session")
def short_speech_wav(media, speech):
    samples, rate = read_wav(speech.wav_path)
    first_word_start = speech.words[0][1]
    start = round(first_word_start * rate)
    path = media / "short.wav"
    write_wav(path, samples[start : start + round(0.6 * rate)], rate)
    return path
