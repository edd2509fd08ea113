import numpy as np
from skimage import data

from engine.label import CORNERS, apply_label, detect_label, make_badge


def astronaut_frame():
    return np.ascontiguousarray(data.astronaut())


def test_the_badge_is_found_in_a_labeled_frame_and_its_corner_named():
    for corner in CORNERS:
        frame = apply_label(astronaut_frame(), make_badge("AI-generated", 512, 512, corner))
        found, score, where = detect_label(frame)
        assert found and score > 0.9 and where == corner


def test_the_badge_is_not_found_in_an_unlabeled_frame():
    found, score, where = detect_label(astronaut_frame())
    assert not found and score < 0.5 and where is None


def test_the_badge_is_not_found_in_noise_or_a_flat_frame():
    rng = np.random.default_rng(1)
    assert not detect_label(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8))[0]
    assert not detect_label(np.full((256, 256, 3), 90, np.uint8))[0]


def test_the_badge_only_changes_pixels_in_its_box():
    frame = astronaut_frame()
    badge = make_badge("AI-generated", 512, 512)
    labeled = apply_label(frame.copy(), badge)
    changed = np.argwhere(np.any(labeled != frame, axis=2))
    width, height = badge.size
    assert changed[:, 0].min() >= badge.y and changed[:, 0].max() < badge.y + height
    assert changed[:, 1].min() >= badge.x and changed[:, 1].max() < badge.x + width
    assert width > 60 and height > 12
