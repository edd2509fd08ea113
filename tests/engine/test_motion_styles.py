"""Motion settings of the photo engine: still, natural and lively move the head and open the
mouth more or less, and blink in every one. Measured on the rendered frames of the astronaut."""

import numpy as np
import pytest

from engine.audio import pad_with_silence, read_wav, write_wav
from engine.face import get_face_engine
from engine.face import topology as T
from engine.face.drive import blink_schedule, motion_style
from engine.face.framing import frame_portrait
from engine.spec import RenderSpec

SIZE, FPS = 256, 25


@pytest.fixture(scope="module")
def styles(tmp_path_factory, astronaut_png, landmarks, speech):
    samples, rate = read_wav(speech.wav_path)
    wav = tmp_path_factory.mktemp("motion") / "padded.wav"
    write_wav(wav, pad_with_silence(samples, rate, 3.0, 3.0), rate)  # long enough to blink
    engine = get_face_engine("warp")
    return {
        name: np.stack(
            list(
                engine.animate(
                    str(astronaut_png),
                    landmarks,
                    str(wav),
                    FPS,
                    (SIZE, SIZE),
                    phonemes=speech.phonemes,
                    motion=name,
                )
            )
        )
        for name in ("still", "natural", "lively")
    }


def _boxes(landmarks):
    framing = frame_portrait(landmarks, 512, 512, SIZE, SIZE)
    points = framing.map_points(np.array(landmarks))

    def box(indices, pad):
        (x0, y0), (x1, y1) = points[indices].min(0) - pad, points[indices].max(0) + pad
        return slice(int(y0), int(y1)), slice(int(x0), int(x1))

    lips = T.LIPS_UPPER_OUTER + T.LIPS_LOWER_OUTER
    eyes = T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER + T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER
    return box(lips, 4), box(eyes, 3), int(points[T.NOSE_TIP][1])


def test_still_keeps_the_head_where_the_photo_has_it_natural_and_lively_move_it(styles, landmarks):
    _, _, nose = _boxes(landmarks)
    moved = {}
    for name, frames in styles.items():
        # Rows above the eyes' region and the forehead: only head motion changes them.
        top = frames[:, : nose // 3].astype(np.int16)
        moved[name] = float(np.abs(top - top[0]).mean(axis=(1, 2, 3)).max())
    assert moved["still"] == 0.0
    assert moved["natural"] > 1.0
    assert moved["lively"] > 1.3 * moved["natural"]


def test_lively_opens_the_mouth_wider_than_still(styles, landmarks):
    mouth, _, _ = _boxes(landmarks)
    dark = {
        name: (frames[:, mouth[0], mouth[1]].astype(int).sum(axis=3) < 150).sum(axis=(1, 2))
        for name, frames in styles.items()
    }
    speaking = dark["natural"] > dark["natural"][0] + 5  # frames where the mouth is open
    assert speaking.sum() > 10
    mean = {name: counts[speaking].mean() for name, counts in dark.items()}
    assert mean["lively"] > mean["natural"] + 2 > mean["still"] + 4


def test_every_setting_blinks(styles, landmarks):
    _, eyes, _ = _boxes(landmarks)
    frames_count = len(styles["still"])
    shut = np.nonzero(blink_schedule(frames_count, FPS) > 0.9)[0]
    assert len(shut)
    for frames in styles.values():
        open_eyes = frames[0][eyes].astype(int)
        closed = frames[shut[0]][eyes].astype(int)
        assert np.abs(open_eyes - closed).mean() > 5


def test_a_motion_setting_is_checked_by_name():
    with pytest.raises(ValueError, match="still, natural, lively"):
        motion_style("wild")
    spec = RenderSpec(script_text="Hello.", portrait_path="p.png", motion="wild")
    with pytest.raises(ValueError, match="motion must be one of"):
        spec.validate()
