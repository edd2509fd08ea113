"""The photo engine's mouth, on real portraits: smiling with teeth, caught open, neutral, and the
astronaut. Measured on the rendered pixels along the engine's own split line and gap (where the
mouth is), in face coordinates: the upper teeth stay whole with the skull, the gap shows no teeth
torn off and dragged down, lower teeth show at the bottom of a wide opening, the inside is shaded,
not flat black, and a silent mouth is the portrait's own."""

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from engine.face import inspect_portrait
from engine.face.landmarks import load_rgb
from engine.face.mouth import luminance
from engine.face.warp import FaceRig

PORTRAITS = Path(__file__).parent.parent / "data" / "portraits"
SIZE = 256


@pytest.fixture(scope="module")
def rigs(astronaut_png):
    found = {"astronaut": FaceRig(data.astronaut(), inspect_portrait(astronaut_png).landmarks,
                                  (SIZE, SIZE))}  # fmt: skip
    for name in ("smiling", "smiling-wide", "caught-open", "neutral"):
        path = PORTRAITS / f"{name}.jpg"
        found[name] = FaceRig(load_rgb(path), inspect_portrait(path).landmarks, (SIZE, SIZE))
    return found


def gap_columns(rig, opening=1.0):
    """Per column across the middle of the mouth, the image rows of the gap the jaw opens
    (below the split, above where the jaw's content begins), from the rig's own mouth region."""
    m = rig.mouth
    inside = (opening * rig.max_drop * m.weight - m.below_split > 0.5) & (m.below_split > 0.5)
    inside &= np.abs(m.s) < 0.25 * rig.mouth_width
    return [
        (x + m.x0, np.nonzero(inside[:, x])[0] + m.y0)
        for x in range(m.x1 - m.x0)
        if inside[:, x].any()
    ]


def test_a_silent_mouth_is_the_portraits_own(rigs):
    for rig in rigs.values():
        assert np.array_equal(rig.render(0.0), rig.base)


@pytest.mark.parametrize("name", ["astronaut", "smiling", "smiling-wide"])
def test_the_teeth_a_smile_shows_stay_whole_with_the_skull(rigs, name):
    """Everything above the split is untouched at the widest opening: no tooth is cut."""
    rig = rigs[name]
    assert rig.reading.shows_teeth
    closed, wide = rig.render(0.0), rig.render(1.0)
    m = rig.mouth
    above = m.below_split < -1.0
    region = (slice(m.y0, m.y1), slice(m.x0, m.x1))
    assert np.array_equal(closed[region][above], wide[region][above])
    # And the split runs under the teeth: the teeth's brightest rows lie above it.
    teeth = luminance(closed[region].astype(np.float32))[above & (m.weight == 0)]
    assert teeth.max() > 150


@pytest.mark.parametrize("name", ["astronaut", "smiling", "smiling-wide", "neutral"])
def test_the_gap_shows_no_torn_teeth_and_lower_teeth_at_its_bottom(rigs, name):
    """Under a smile's own upper teeth, nothing in the upper two thirds of the gap is as bright
    as teeth (the old split dragged their tips down into white streaks and wedges); in the
    gap's bottom fifth the lower teeth are lighter than the cavity in its middle third."""
    rig = rigs[name]
    wide = luminance(rig.render(1.0).astype(np.float32))
    teeth_light = np.percentile(luminance(rig.base.astype(np.float32))[rig.mouth.y0 :], 99.5)
    upper, middle, bottom = [], [], []
    for x, rows in gap_columns(rig):
        if len(rows) < 4:
            continue
        third = len(rows) / 3
        upper += list(wide[rows[: int(2 * third)], x])
        middle += list(wide[rows[int(third) : int(2 * third)], x])
        bottom += list(wide[rows[int(0.8 * len(rows)) :], x])
    assert len(middle) > 10 and len(bottom) > 5
    if rig.reading.shows_teeth:  # a portrait without teeth gets painted upper teeth there
        assert np.percentile(upper, 95) < 0.6 * teeth_light
    assert np.mean(bottom) > np.mean(middle) + 10


@pytest.mark.parametrize("name", ["astronaut", "smiling", "caught-open", "neutral"])
def test_the_inside_of_the_mouth_is_shaded_not_flat_black(rigs, name):
    rig = rigs[name]
    wide = rig.render(1.0).astype(np.float32)
    cavity = []
    for x, rows in gap_columns(rig):
        cavity += list(wide[rows[: int(0.66 * len(rows)) + 1], x])
    cavity = np.array(cavity)
    assert len(cavity) > 20
    assert luminance(cavity).mean() > 12  # not black
    assert (cavity[:, 0] >= cavity[:, 2]).mean() > 0.8  # a warm shade: lips and tongue


def test_a_mouth_caught_open_opens_less_further(rigs):
    open_rig, closed_rig = rigs["caught-open"], rigs["neutral"]
    assert open_rig.reading.opening > 0.1 and closed_rig.reading.opening == 0.0
    assert open_rig.max_drop / open_rig.mouth_width < closed_rig.max_drop / closed_rig.mouth_width


@pytest.mark.parametrize("name", ["drawn", "neutral", "smiling"])
def test_beyond_the_corners_the_jaw_draws_no_line_across_the_face(rigs, name):
    """The split line is extended past the mouth's corners: there the skin stretches, and no
    gap (a dark line across the cheeks) opens along it."""
    if name == "drawn":
        from engine.demo import draw_presenter, presenter_landmarks

        rig = FaceRig(np.asarray(draw_presenter()), presenter_landmarks(), (512, 512))
    else:
        rig = rigs[name]
    m = rig.mouth
    beside = (np.abs(m.s) > 0.65 * rig.mouth_width) & (np.abs(m.below_split) < 3)
    assert beside.sum() > 20
    region = (slice(m.y0, m.y1), slice(m.x0, m.x1))
    closed = luminance(rig.render(0.0)[region].astype(np.float32))[beside]
    wide = luminance(rig.render(1.0)[region].astype(np.float32))[beside]
    assert (closed - wide).max() < 5  # the line darkened these rows by 10-11 levels
