"""Enrollment checks on real photos: each failure has its own error and an actionable message."""

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from engine.errors import (
    FaceTiltedUpOrDown,
    FaceTurnedAside,
    PortraitBlurry,
    PortraitTooBright,
    PortraitTooDark,
    PortraitTooSmall,
    PortraitUnevenlyLit,
)
from engine.face import inspect_portrait
from engine.face.enrollment import head_pose
from engine.face.landmarks import _check_measures, find_faces, measure_face


def save(tmp_path, rgb, name="photo.png"):
    path = tmp_path / name
    Image.fromarray(np.ascontiguousarray(rgb)).save(path)
    return path


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


@pytest.fixture(scope="module")
def astronaut_landmarks(astronaut):
    return find_faces(astronaut)[1][0]


def test_a_frontal_sharp_well_lit_photo_passes_with_its_measures(astronaut_png):
    report = inspect_portrait(astronaut_png)
    assert abs(report.yaw_degrees) < 10 and abs(report.pitch_degrees) < 10
    assert report.sharpness > 50 and 100 < report.brightness < 200


def test_a_blurred_photo_is_refused_as_blurry(tmp_path, astronaut):
    blurred = cv2.GaussianBlur(astronaut, (0, 0), 1.6)
    with pytest.raises(PortraitBlurry, match="blurry"):
        inspect_portrait(save(tmp_path, blurred))


def test_a_dark_photo_is_refused_as_too_dark(tmp_path, astronaut):
    dark = (astronaut * 0.22).astype(np.uint8)
    with pytest.raises(PortraitTooDark, match="too dark"):
        inspect_portrait(save(tmp_path, dark))


def test_a_washed_out_photo_is_refused_as_overexposed(tmp_path, astronaut):
    washed = (255 * (astronaut / 255.0) ** 0.2).astype(np.uint8)
    with pytest.raises(PortraitTooBright, match="overexposed"):
        inspect_portrait(save(tmp_path, washed))


def test_a_face_half_in_shadow_is_refused_as_unevenly_lit(tmp_path, astronaut, astronaut_landmarks):
    nose_x = astronaut_landmarks[1][0]
    xs = np.arange(astronaut.shape[1])
    shade = np.where(xs < nose_x - 4, 0.3, 1.0)
    shade = cv2.GaussianBlur(shade[None, :].astype(np.float32), (0, 0), 3)[0]
    shadowed = (astronaut * shade[None, :, None]).astype(np.uint8)
    with pytest.raises(PortraitUnevenlyLit, match="shadow"):
        inspect_portrait(save(tmp_path, shadowed))


def test_a_photo_smaller_than_256_pixels_across_is_refused(
    tmp_path, astronaut, astronaut_landmarks
):
    cx, cy = np.asarray(astronaut_landmarks).mean(axis=0).round().astype(int)
    crop = astronaut[cy - 110 : cy + 110, cx - 110 : cx + 110]
    with pytest.raises(PortraitTooSmall, match="at least 256 pixels across"):
        inspect_portrait(save(tmp_path, crop))


def rotated_face(astronaut_landmarks, yaw=0.0, pitch=0.0, depth=0.5):
    """The astronaut's landmarks turned in 3-D: points get depth from a rounded head model."""
    pts = np.asarray(astronaut_landmarks, dtype=np.float64)
    centre = pts.mean(axis=0)
    rel = pts - centre
    radius = np.ptp(pts[:, 0]) / 2
    z = depth * radius * np.sqrt(np.clip(1 - (rel[:, 0] / radius) ** 2, 0, 1))
    z[1] += 0.35 * radius  # the nose tip stands out
    a, b = np.radians(yaw), np.radians(pitch)
    x = rel[:, 0] * np.cos(a) + z * np.sin(a)
    z2 = -rel[:, 0] * np.sin(a) + z * np.cos(a)
    y = rel[:, 1] * np.cos(b) + z2 * np.sin(b)
    return np.stack([x, y], axis=1) + centre


@pytest.mark.parametrize("degrees", [-45, 45])
def test_a_face_turned_aside_is_refused_with_its_angle(astronaut_landmarks, degrees):
    yaw, pitch = head_pose(rotated_face(astronaut_landmarks, yaw=degrees))
    assert np.sign(yaw) == np.sign(degrees) and abs(yaw) > 30 and abs(pitch) < 15
    measures = measure_face(data.astronaut(), rotated_face(astronaut_landmarks, yaw=degrees))
    with pytest.raises(FaceTurnedAside, match="turned about"):
        _check_measures(measures)


@pytest.mark.parametrize(("degrees", "way"), [(40, "down"), (-40, "up")])
def test_a_head_tilted_up_or_down_is_refused(astronaut_landmarks, degrees, way):
    yaw, pitch = head_pose(rotated_face(astronaut_landmarks, pitch=degrees))
    assert abs(yaw) < 10 and abs(pitch) > 25
    measures = measure_face(data.astronaut(), rotated_face(astronaut_landmarks, pitch=degrees))
    with pytest.raises(FaceTiltedUpOrDown, match=f"tilted {way}"):
        _check_measures(measures)


def test_small_turns_are_accepted(astronaut_landmarks):
    """The enrollment's own check (not limits written here) lets a slight turn or tilt pass."""
    for yaw, pitch in [(10, 0), (0, 10), (-10, -8)]:
        points = rotated_face(astronaut_landmarks, yaw=yaw, pitch=pitch)
        measures = measure_face(data.astronaut(), points)
        _check_measures(measures)  # raises FaceTurnedAside or FaceTiltedUpOrDown when refused
        assert np.sign(measures.yaw_degrees) == np.sign(yaw) or yaw == 0


def test_the_drawn_demo_presenter_passes_the_enrollment_check():
    from engine.demo import draw_presenter, presenter_landmarks

    picture = np.asarray(draw_presenter().convert("RGB"))
    _check_measures(measure_face(picture, presenter_landmarks()))
