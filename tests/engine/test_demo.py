import numpy as np

from engine.demo import draw_presenter, presenter_landmarks, write_demo_assets
from engine.face import topology
from engine.face.warp import FaceRig
from engine.voice import inspect_voice_sample


def test_the_presenter_is_drawn_the_same_every_time():
    first, second = np.asarray(draw_presenter()), np.asarray(draw_presenter())
    assert first.shape == (768, 768, 3) and np.array_equal(first, second)


def test_the_drawn_landmarks_sit_on_the_drawn_lips():
    image = np.asarray(draw_presenter()).astype(int)
    points = presenter_landmarks()
    assert points.shape == (478, 2)
    lip = points[[0, 17]].mean(axis=0).round().astype(int)  # between upper and lower lip
    skin = (points[topology.NOSE_TIP] + np.array([0, -30])).round().astype(int)
    lip_rgb, skin_rgb = image[lip[1], lip[0]], image[skin[1], skin[0]]
    assert lip_rgb[0] - lip_rgb[1] > 60  # lips are red
    assert abs(int(skin_rgb[0]) - int(lip_rgb[0])) + abs(int(skin_rgb[1]) - int(lip_rgb[1])) > 60


def test_demo_assets_animate_and_the_voice_sample_has_speech(tmp_path):
    assets = write_demo_assets(tmp_path)
    report = inspect_voice_sample(assets.voice_sample_path, min_seconds=3.0)
    assert report.speech_seconds > 3.0
    rig = FaceRig(np.asarray(draw_presenter()), assets.landmarks, (256, 256))
    closed, open_ = rig.render(0.0), rig.render(1.0)
    assert np.abs(closed.astype(int) - open_.astype(int)).max() > 100
    assert np.array_equal(closed[:60], open_[:60])  # the forehead and hair stay put
