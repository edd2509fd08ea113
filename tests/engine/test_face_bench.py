"""The face benchmark's measures on made-up landmark tracks (fast; the benchmark itself is slow)."""

import numpy as np
import pytest

from bench.face_quality import RIGID, jitter, loudness, mouth_opening


def face_points(seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(100, 400, size=(68, 2))


def test_intended_head_motion_is_not_counted_as_jitter():
    base = face_points()
    angle = np.radians(2.0)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = [base, (base - 250) @ turn.T * 1.01 + 250 + [3.0, -2.0]]
    pixels, share = jitter(moved, np.array([True, True]))
    assert pixels < 1e-6 and share < 1e-8


def test_landmarks_that_shake_are_counted_and_speech_frames_are_not():
    base = face_points()
    shaken = base.copy()
    shaken[RIGID] += np.random.default_rng(1).normal(0, 1.0, (len(RIGID), 2))
    pixels, share = jitter([base, shaken], np.array([True, True]))
    assert 0.5 < pixels < 2.5
    # As a share of the outer eye corners' distance in the frame before.
    assert share == pytest.approx(pixels / np.linalg.norm(base[45] - base[36]))
    assert jitter([base, shaken], np.array([True, False])) is None


def test_mouth_opening_is_the_inner_lip_gap_over_the_eye_span():
    points = np.zeros((68, 2))
    points[36], points[45] = [0, 0], [100, 0]
    for top, bottom in [(61, 67), (62, 66), (63, 65)]:
        points[top], points[bottom] = [50, 80], [50, 90]
    assert abs(mouth_opening(points) - 0.1) < 1e-9


def test_loudness_is_the_rms_under_each_frame():
    samples = np.concatenate([np.zeros(640), 0.5 * np.ones(640)]).astype(np.float32)
    assert np.allclose(loudness(samples, 16000, 2, 25), [0.0, 0.5])
