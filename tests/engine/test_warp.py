"""The default warp engine, measured on real frames of the astronaut and the drawn presenter."""

import os

import cv2
import numpy as np
import pytest
from skimage import data

from engine.audio import pad_with_silence, read_wav, write_wav
from engine.demo import draw_presenter, presenter_landmarks
from engine.face import get_face_engine
from engine.face import topology as T
from engine.face.drive import blink_schedule, head_motion, lip_spread
from engine.face.framing import frame_portrait, portrait_output_size
from engine.face.warp import FaceRig

SIZE, FPS = 256, 25


@pytest.fixture(scope="module")
def astronaut_landmarks(astronaut_png):
    from engine.face import inspect_portrait

    return inspect_portrait(astronaut_png).landmarks


@pytest.fixture(scope="module")
def rig(astronaut_landmarks):
    return FaceRig(data.astronaut(), astronaut_landmarks, (SIZE, SIZE))


def outline_mask(rig, grow=3):
    mask = np.zeros((rig.height, rig.width), np.uint8)
    cv2.fillPoly(mask, [np.round(rig.points[T.FACE_OVAL]).astype(np.int32)], 1)
    return cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(bool)


def mouth_box(rig, pad=4):
    lips = rig.points[T.LIPS_UPPER_OUTER + T.LIPS_LOWER_OUTER]
    (x0, y0), (x1, y1) = np.floor(lips.min(0) - pad).astype(int), np.ceil(lips.max(0) + pad)
    return slice(y0, int(y1) + 2 * pad), slice(x0, int(x1))


def test_pixels_outside_the_face_do_not_move_when_the_mouth_opens(rig):
    closed, wide = rig.render(0.0), rig.render(1.0, spread=1.0)
    changed = np.abs(closed.astype(int) - wide.astype(int)).max(axis=2) > 2
    assert changed.sum() > 100
    assert not changed[~outline_mask(rig)].any()  # hair, collar and background stay put


def test_nothing_above_the_mouth_moves_when_it_opens(rig):
    closed, wide = rig.render(0.0), rig.render(1.0)
    top = int(rig.points[T.NOSE_TIP][1])
    assert np.array_equal(closed[:top], wide[:top])


def test_the_open_mouth_shows_a_dark_cavity_that_grows_with_opening(rig):
    rows, cols = mouth_box(rig)
    dark = [(rig.render(o)[rows, cols].astype(int).sum(axis=2) < 150).sum() for o in (0, 0.5, 1.0)]
    assert dark[0] < dark[1] < dark[2] and dark[2] > 40


def test_teeth_the_portrait_already_shows_stay_visible_at_full_opening(rig):
    assert rig.shows_teeth  # the astronaut smiles with her upper teeth showing
    upper = rig.points[T.LIPS_UPPER_INNER]
    teeth = np.round(upper[3:8] + 1.5 * rig.down).astype(int)  # just under the upper lip
    closed, wide = rig.render(0.0), rig.render(1.0)
    before = closed[teeth[:, 1], teeth[:, 0]].astype(int).mean()
    after = wide[teeth[:, 1], teeth[:, 0]].astype(int).mean()
    assert before > 150 and abs(after - before) < 25


def test_a_closed_drawn_mouth_gets_a_hint_of_teeth_when_it_opens():
    rig = FaceRig(np.asarray(draw_presenter()), presenter_landmarks(), (SIZE, SIZE))
    assert not rig.shows_teeth
    rows, cols = mouth_box(rig)
    closed, wide = rig.render(0.0)[rows, cols], rig.render(1.0)[rows, cols]

    def teeth_like(rgb):  # bright and unsaturated: not skin, not lips
        rgb = rgb.astype(int)
        return ((rgb.mean(axis=2) > 150) & (np.ptp(rgb, axis=2) < 40)).sum()

    def dark(rgb):
        return (rgb.astype(int).mean(axis=2) < 60).sum()

    assert teeth_like(wide) > teeth_like(closed) + 10  # a hint of teeth in the gap
    assert dark(wide) > dark(closed) + 20  # and a dark cavity


def test_lips_spread_for_ee_and_round_for_oo():
    rig = FaceRig(np.asarray(draw_presenter()), presenter_landmarks(), (SIZE, SIZE))

    def lip_width(frame):
        r, g = frame[..., 0].astype(int), frame[..., 1].astype(int)
        rows, cols = mouth_box(rig)
        red = (r - g > 60)[rows, cols]
        columns = np.nonzero(red.any(axis=0))[0]
        return columns.max() - columns.min()

    spread, rounded = rig.render(0.3, spread=1.0), rig.render(0.3, spread=-1.0)
    assert lip_width(spread) > lip_width(rounded) + 2


def test_eyes_close_at_a_blink_and_nothing_below_them_moves(rig):
    open_, shut = rig.render(0.0), rig.render(0.0, blink=1.0)
    for eye in (T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER, T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER):
        pts = rig.points[eye]
        (x0, y0), (x1, y1) = pts.min(0).astype(int), pts.max(0).astype(int) + 1
        before = open_[y0:y1, x0:x1].astype(int).sum(axis=2)
        after = shut[y0:y1, x0:x1].astype(int).sum(axis=2)
        assert (before < 250).sum() > 2 * (after < 250).sum()  # iris and pupil covered by lids
    nose = int(rig.points[T.NOSE_TIP][1])
    assert np.array_equal(open_[nose:], shut[nose:])


def test_blinks_are_short_full_and_a_few_seconds_apart():
    closure = blink_schedule(25 * 60, 25)
    starts = np.nonzero((closure[1:] > 0.5) & (closure[:-1] <= 0.5))[0]
    assert 8 <= len(starts) <= 30
    assert (closure > 0.5).mean() < 0.08
    assert closure.max() == 1.0


def test_head_motion_is_small_and_continues_in_pauses():
    opening = np.zeros(250, np.float32)
    motion = head_motion(250, 25, opening)
    assert np.abs(motion[:, :2]).max() < 4 and np.abs(motion[:, 2]).max() < 2
    assert np.ptp(motion[:, 0]) > 0.5  # idle: the head never freezes


def test_lip_shape_follows_phonemes_when_given():
    samples = np.zeros(16000, np.float32)
    phonemes = [("uw", 0.0, 0.4), ("iy", 0.4, 0.8), ("pau", 0.8, 1.0)]
    spread = lip_spread(samples, 16000, 25, 25, phonemes)
    assert spread[4] < -0.5 and spread[15] > 0.5 and spread[-1] == 0.0


def test_lip_shape_follows_the_sound_without_phonemes():
    rate, t = 16000, np.arange(16000) / 16000
    low = 0.3 * np.sin(2 * np.pi * 300 * t)  # dark like "oo"
    hiss = 0.3 * np.random.default_rng(1).uniform(-1, 1, 16000)  # bright like "s"
    hiss = np.diff(hiss, prepend=0.0)
    spread = lip_spread(np.concatenate([low, hiss]).astype(np.float32), rate, 25, 50)
    assert spread[5:20].mean() < 0 < spread[30:45].mean()


def test_the_engine_gives_one_frame_per_frame_of_audio_and_the_mouth_follows_speech(
    tmp_path, astronaut_png, astronaut_landmarks, speech
):
    samples, rate = read_wav(speech.wav_path)
    wav = tmp_path / "padded.wav"
    write_wav(wav, pad_with_silence(samples, rate, 0.8, 0.8), rate)
    frames = np.stack(
        list(
            get_face_engine("warp").animate(
                str(astronaut_png), astronaut_landmarks, str(wav), FPS, (SIZE, SIZE)
            )
        )
    )
    assert frames.shape == (round(FPS * (len(samples) / rate + 1.6)), SIZE, SIZE, 3)
    framing = frame_portrait(astronaut_landmarks, 512, 512, SIZE, SIZE)
    lips = framing.map_points(
        np.array(astronaut_landmarks)[T.LIPS_LOWER_OUTER + T.LIPS_UPPER_OUTER]
    )
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 2, lips.max(0).astype(int) + 6
    dark = (frames[:, y0:y1, x0:x1].astype(int).sum(axis=3) < 150).mean(axis=(1, 2))
    silent = np.r_[dark[: round(0.6 * FPS)], dark[-round(0.6 * FPS) :]]
    assert silent.max() < 0.02  # the mouth rests closed in silence
    assert dark.max() > 0.08 and (dark > 0.04).sum() > 10  # and opens while speaking


def test_at_the_portraits_own_resolution_the_whole_photo_is_shown_untouched(astronaut_landmarks):
    assert portrait_output_size(512, 512) == (512, 512)
    assert portrait_output_size(3000, 4000) == (810, 1080)
    assert portrait_output_size(1921, 801) == (1920, 800)
    rig = FaceRig(data.astronaut(), astronaut_landmarks, (512, 512))
    still = rig.render(0.0)
    assert np.array_equal(still, data.astronaut())


def test_animate_without_a_size_renders_at_the_portraits_resolution(
    tmp_path, astronaut_png, short_speech_wav, capsys
):
    import json

    from engine.cli import main
    from tests.media import ffprobe, stream

    out = tmp_path / "talk.mp4"
    argv = ["animate", "--portrait", str(astronaut_png), "--audio", str(short_speech_wav)]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    video = stream(ffprobe(out), "video")
    assert (summary["width"], summary["height"]) == (video["width"], video["height"]) == (512, 512)


def test_a_portraits_rig_is_prepared_once_and_rebuilt_when_the_photo_changes(
    tmp_path, astronaut_landmarks
):
    from PIL import Image

    from engine.face.warp import prepared_rig

    path = tmp_path / "me.png"
    Image.fromarray(data.astronaut()).save(path)
    first = prepared_rig(str(path), astronaut_landmarks, (128, 128))
    assert prepared_rig(str(path), astronaut_landmarks, (128, 128)) is first
    assert prepared_rig(str(path), astronaut_landmarks, (96, 96)) is not first
    Image.fromarray(data.astronaut()[:, ::-1].copy()).save(path)
    os.utime(path, ns=(1, 1))
    assert prepared_rig(str(path), astronaut_landmarks, (128, 128)) is not first


def test_the_talking_face_keeps_the_portraits_identity(astronaut_png, astronaut_landmarks, speech):
    """dlib's embedding (not the engine's model) over a spoken clip: the same person scores about
    0.2, another about 0.8. A wide-open mouth or closed eyes alone move it about 0.28-0.30."""
    from engine.biometrics.face import face_distance, face_embedding

    engine = get_face_engine("warp")
    args = (str(astronaut_png), astronaut_landmarks, speech.wav_path, FPS, (512, 512))
    frames = list(engine.animate(*args, phonemes=speech.phonemes))
    portrait = face_embedding(data.astronaut()).vector
    distances = [
        face_distance(face_embedding(frame).vector, portrait)
        for frame in frames[:: max(1, len(frames) // 12)]
    ]
    assert np.mean(distances) < 0.3 and max(distances) < 0.4


def test_a_render_can_be_made_at_the_portraits_own_resolution(tmp_path, astronaut_landmarks):
    from PIL import Image

    from engine.pipeline import render
    from engine.spec import RenderSpec
    from tests.media import ffprobe, stream

    path = tmp_path / "small.png"
    Image.fromarray(data.astronaut()).resize((320, 320)).save(path)
    spec = RenderSpec(
        script_text="Hi there.",
        portrait_path=str(path),
        voice_engine="festival",
        portrait_landmarks=(np.asarray(astronaut_landmarks) * 320 / 512).tolist(),
        size_from_portrait=True,
    )
    result = render(spec, tmp_path / "out.mp4")
    video = stream(ffprobe(tmp_path / "out.mp4"), "video")
    assert (result.width, result.height) == (video["width"], video["height"]) == (320, 320)


def with_glasses(rgb: np.ndarray, landmarks) -> np.ndarray:
    """The portrait wearing spectacles: a dark rim around each eye, its top between the eye and
    the brow, joined by a bridge over the nose."""
    pts = np.asarray(landmarks, dtype=np.float32)
    worn = np.ascontiguousarray(rgb.copy())
    centres = []
    for eye, brow in (
        (T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER, T.LEFT_BROW),
        (T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER, T.RIGHT_BROW),
    ):
        centre = pts[eye].mean(axis=0)
        half_width = 0.8 * np.ptp(pts[eye][:, 0])
        half_height = 0.75 * (centre[1] - pts[brow][:, 1].mean())
        cv2.ellipse(
            worn, (round(centre[0]), round(centre[1])), (round(half_width), round(half_height)),
            0, 0, 360, (25, 25, 30), 4, cv2.LINE_AA,
        )  # fmt: skip
        centres.append((centre, half_width))
    (a, wa), (b, wb) = sorted(centres, key=lambda c: c[0][0])
    cv2.line(
        worn, (round(a[0] + wa), round(a[1])), (round(b[0] - wb), round(b[1])), (25, 25, 30), 4
    )
    return worn


def test_a_blink_moves_the_lids_never_the_glasses_or_the_brows(astronaut_landmarks):
    worn = with_glasses(data.astronaut(), astronaut_landmarks)
    rig = FaceRig(worn, astronaut_landmarks, (SIZE, SIZE))
    open_, shut = rig.render(0.0).astype(int), rig.render(0.0, blink=1.0).astype(int)
    rim = np.zeros((SIZE, SIZE), bool)
    rim[rig.base.sum(axis=2) < 3 * 45] = True  # the rims' dark pixels in the framed portrait
    lids = np.zeros((SIZE, SIZE), np.uint8)
    for eye in (T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER, T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER):
        cv2.fillPoly(lids, [np.round(rig.points[eye]).astype(np.int32)], 1)
    eye_holes = lids.astype(bool)
    lids = cv2.dilate(lids, np.ones((3, 3), np.uint8)).astype(bool)
    rim &= ~lids  # the eye's own dark pupil is not the glasses
    brows = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(brows, [np.round(rig.points[T.LEFT_BROW]).astype(np.int32)], 1)
    cv2.fillPoly(brows, [np.round(rig.points[T.RIGHT_BROW]).astype(np.int32)], 1)
    change = np.abs(shut - open_).sum(axis=2)
    assert rim.sum() > 200 and change[lids].mean() > 20  # the lids did move
    assert change[rim].mean() < 3, change[rim].mean()  # the glasses did not
    assert change[brows.astype(bool)].max() < 10  # nor the brows
    # The closed lid is skin: no rim dragged down over the eye (the "dark blob").
    dark_open = (open_.sum(axis=2) < 3 * 60)[eye_holes].sum()
    dark_shut = (shut.sum(axis=2) < 3 * 60)[eye_holes].sum()
    assert dark_shut < 0.2 * dark_open, (dark_open, dark_shut)
