"""The poster is kept as its frame goes to the encoder: it must be the very frame a decode of the
finished file gives at the poster's time (``read_frame``, the fallback for copied chunks)."""

import numpy as np
import pytest

from engine.encode import VideoEncoder
from engine.poster import PosterFrame, poster_frame_index
from engine.probe import read_frame

FPS = 25


@pytest.fixture(scope="module")
def numbered(tmp_path_factory):
    """60 frames, each a flat grey of four times its index."""
    path = tmp_path_factory.mktemp("poster") / "numbered.mp4"
    encoder = VideoEncoder(path, 64, 64, FPS, None, {})
    for index in range(60):
        encoder.write(np.full((64, 64, 3), index * 4, np.uint8))
    encoder.end_input()
    encoder.finish()
    return path


@pytest.mark.parametrize("seconds", [0.0, 0.5, 0.9, 0.92, 0.9201, 0.93, 1.0, 1.234, 2.3])
def test_the_kept_frame_is_the_one_a_decode_gives_at_that_time(numbered, seconds):
    decoded = read_frame(numbered, seconds, 64, 64)
    assert round(float(decoded.mean()) / 4) == poster_frame_index(seconds, FPS)


def test_the_poster_keeps_only_its_frame_and_passes_every_frame_on(tmp_path):
    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(30)]
    poster = PosterFrame(0.5, FPS)
    passed = list(poster.passing(frames))
    assert [int(f[0, 0, 0]) for f in passed] == list(range(30))
    assert int(poster.frame[0, 0, 0]) == 13 and poster.frame is not frames[13]
    frames[13][:] = 200  # changed after it passed (the encoder owns it now): the poster is not
    assert int(poster.frame[0, 0, 0]) == 13
    assert poster.write(tmp_path / "v.mp4", 8, 8) == tmp_path / "v.jpg"
