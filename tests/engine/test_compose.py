"""Scene composition measured on its output: where the presenter's pixels are, what the
background shows, where the text goes, how a background video runs and how frames crossfade."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.compose import SceneCompositor, crossfade
from engine.timeline import Background, Layout, OnScreenText, OutputFormat, Scene

TINY = OutputFormat(160, 90, 10)
BACKGROUND = (16, 32, 48)
FACE = (250, 10, 10)
MARGIN = 4  # 4% of 90 pixels


def scene(layout="corner", background=None, text=None, **layout_fields) -> Scene:
    return Scene(
        layout=Layout(kind=layout, **layout_fields),
        background=background or Background(color="#102030"),
        text=text or OnScreenText(),
        duration=1.0,
    )


def face(compositor: SceneCompositor) -> np.ndarray:
    width, height = compositor.presenter_size
    return np.full((height, width, 3), FACE, np.uint8)


def compose(s: Scene, with_face=True, index=0, fmt=TINY) -> np.ndarray:
    with SceneCompositor(s, fmt) as compositor:
        presenter = face(compositor) if with_face and compositor.presenter_size else None
        return compositor.frame(index, presenter).copy()


def is_(pixel, color, tolerance=2) -> bool:
    return bool(np.abs(pixel.astype(int) - color).max() <= tolerance)


def test_presenter_sizes_follow_the_layout():
    hd = OutputFormat(1280, 720, 25)
    assert SceneCompositor(scene("full"), hd).presenter_size == (1280, 720)
    assert SceneCompositor(scene("corner", size=0.35), hd).presenter_size == (252, 252)
    assert SceneCompositor(scene("corner", size=0.15), hd).presenter_size == (108, 108)
    assert SceneCompositor(scene("half"), hd).presenter_size == (640, 720)
    assert SceneCompositor(scene("half"), OutputFormat(1284, 720)).presenter_size == (642, 720)
    assert SceneCompositor(scene("half"), OutputFormat(1282, 720)).presenter_size == (640, 720)
    assert SceneCompositor(scene("voice_over"), hd).presenter_size is None


def test_a_corner_presenter_never_outgrows_a_vertical_frame():
    fmt = OutputFormat(720, 1280)
    width, height = SceneCompositor(scene("corner", size=0.6), fmt).presenter_size
    assert width == height and width % 2 == 0 and width <= 720 - 2 * round(0.04 * 720)


def test_a_frame_is_contiguous_rgb_of_the_format():
    frame = compose(scene("corner"))
    assert frame.shape == (90, 160, 3) and frame.dtype == np.uint8
    with SceneCompositor(scene("corner"), TINY) as compositor:
        assert compositor.frame(0, face(compositor)).flags["C_CONTIGUOUS"]


def test_the_corner_circle_shows_the_presenter_inside_and_the_background_outside():
    frame = compose(scene("corner", position="bottom-right", size=0.6, shape="circle"))
    side = 54
    left, top = 160 - MARGIN - side, 90 - MARGIN - side
    centre = (top + side // 2, left + side // 2)
    assert is_(frame[centre], FACE)
    assert is_(frame[centre[0], left + 8], FACE)  # well inside the edge
    assert is_(frame[top, left], BACKGROUND)  # the square's corner is outside the circle
    assert is_(frame[top + 1, 160 - MARGIN - 2], BACKGROUND)
    assert is_(frame[10, 10], BACKGROUND)
    # The edge is a light ring, not a hard step from the face to the background.
    assert frame[centre[0], left + 2].astype(int).sum() > 600


def test_the_corner_rectangle_fills_its_square_but_the_rounded_corners():
    frame = compose(scene("corner", position="top-left", size=0.6, shape="rectangle"))
    side = 54
    assert is_(frame[MARGIN + side // 2, MARGIN + side // 2], FACE)
    assert is_(frame[MARGIN + 6, MARGIN + 6], FACE)  # near a corner: the rectangle, not a circle
    assert is_(frame[MARGIN, MARGIN], BACKGROUND, tolerance=40)  # the rounded-off corner
    assert is_(frame[80, 150], BACKGROUND)


def test_the_half_layout_puts_the_presenter_on_its_side():
    right = compose(scene("half", side="right"))
    assert is_(right[45, 159], FACE) and is_(right[45, 80], FACE)
    assert is_(right[45, 0], BACKGROUND) and is_(right[45, 79], BACKGROUND)
    left = compose(scene("half", side="left"))
    assert is_(left[45, 0], FACE) and is_(left[45, 159], BACKGROUND)


def test_the_full_layout_is_the_presenter_frame():
    frame = compose(scene("full"))
    assert (frame == FACE).all()


def test_a_voice_over_has_no_presenter():
    with SceneCompositor(scene("voice_over"), TINY) as compositor:
        assert compositor.presenter_size is None
        frame = compositor.frame(0, None)
    assert (frame == BACKGROUND).all()


def test_an_image_background_is_cover_fitted(tmp_path):
    """A 4:1 picture with a disc in its middle fills a 16:9 frame: no bars, the disc round."""
    path = tmp_path / "wide.png"
    image = Image.new("RGB", (720, 180), (240, 240, 240))
    ImageDraw.Draw(image).ellipse((300, 30, 420, 150), fill=(0, 160, 0))
    image.save(path)
    frame = compose(scene("voice_over", background=Background(kind="image", path=str(path))))
    assert not (frame.max(axis=2) < 30).any()  # no black bars
    disc = np.all(np.abs(frame.astype(int) - (0, 160, 0)) <= 40, axis=2)
    rows, columns = np.flatnonzero(disc.any(axis=1)), np.flatnonzero(disc.any(axis=0))
    # The frame is 90 high: the picture is halved, the disc 60 across both ways, centred.
    assert abs(rows.size - 60) <= 2 and abs(columns.size - 60) <= 2
    assert abs((columns[0] + columns[-1]) / 2 - 79.5) <= 1.5


def test_a_document_background_shows_its_page(tmp_path):
    path = tmp_path / "deck.pdf"
    first = Image.new("RGB", (320, 180), (255, 255, 255))
    first.save(path, save_all=True, append_images=[Image.new("RGB", (320, 180), (0, 0, 255))])
    page = Background(kind="document", path=str(path), page=2, color="#102030")
    frame = compose(scene("voice_over", background=page))
    assert is_(frame[45, 80], (0, 0, 255), tolerance=4)


def test_the_title_is_drawn_in_the_free_area():
    plain = compose(scene("voice_over"))
    titled = compose(scene("voice_over", text=OnScreenText(title="Hello")))
    changed = np.any(titled != plain, axis=2)
    assert changed[:45, :80].sum() > 100  # the title's panel and letters, top left
    assert not changed[60:, 100:].any()
    assert len(np.unique(titled[:45, :80].reshape(-1, 3), axis=0)) > 10  # letters, not a block


def test_a_very_long_title_stays_inside_the_frame():
    long = OnScreenText(
        title="Incomprehensibilities " * 22,
        bullets=["Antidisestablishmentarianism " * 17] * 3,
        lower_third="Pneumonoultramicroscopicsilicovolcanoconiosis " * 10,
    )
    frame = compose(scene("voice_over", text=long))
    changed = np.any(frame != BACKGROUND, axis=2)
    assert changed.sum() > 1000
    border = np.ones_like(changed)
    border[MARGIN:-MARGIN, MARGIN:-MARGIN] = False
    assert not changed[border].any()


def test_text_keeps_clear_of_the_corner_presenter():
    text = OnScreenText(title="A rather long title " * 5, bullets=["First point " * 6] * 4,
                        lower_third="Ada Lovelace, security lead")  # fmt: skip
    plain = compose(scene("corner", size=0.6), with_face=False)
    with_text = compose(scene("corner", size=0.6, text=text), with_face=False)
    changed = np.any(with_text != plain, axis=2)
    left, top = 160 - MARGIN - 54, 90 - MARGIN - 54
    assert changed.any()
    assert not changed[top - MARGIN + 1 :, left - MARGIN + 1 :].any()


def test_text_goes_on_the_half_the_presenter_leaves_free():
    text = OnScreenText(title="Spotting a phishing email", bullets=["An urgent tone"])
    frame = compose(scene("half", side="left", text=text))
    assert (frame[:, :80] == FACE).all()
    assert np.any(frame[:, 80:] != BACKGROUND, axis=2).sum() > 200


def test_the_text_is_blended_over_a_full_frame_presenter():
    frame = compose(scene("full", text=OnScreenText(title="Welcome")))
    assert np.any(frame[:45] != FACE, axis=2).sum() > 100
    assert (frame[70:] == FACE).all()


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@pytest.fixture
def clip(tmp_path):
    """One second at 10 fps (ten frames) of ffmpeg's test pattern, which changes every frame."""
    path = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10:d=1",
         "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def video_frames(path, mode, indices):
    background = Background(kind="video", path=str(path), mode=mode)
    with SceneCompositor(scene("voice_over", background=background), TINY) as compositor:
        return [compositor.frame(i, None).astype(int) for i in indices]


def difference(a, b) -> float:
    return float(np.abs(a - b).mean())


@needs_ffmpeg
def test_a_looping_video_starts_again_after_its_end(clip):
    first, last, after_end, again = video_frames(clip, "loop", [0, 9, 10, 13])
    assert difference(first, last) > 2  # the clip moves
    assert difference(after_end, first) < 1.5
    assert difference(again, video_frames(clip, "loop", [3])[0]) < 1.5


@needs_ffmpeg
def test_a_frozen_video_holds_its_last_frame(clip):
    first, last, later, much_later = video_frames(clip, "freeze", [0, 9, 12, 40])
    assert difference(first, last) > 2
    assert (later == last).all() and (much_later == last).all()


@needs_ffmpeg
def test_a_video_can_be_read_again_from_an_earlier_frame(clip):
    early, late, early_again = video_frames(clip, "freeze", [2, 8, 2])
    assert (early == early_again).all() and difference(early, late) > 2


def test_crossfade_goes_from_the_first_frame_to_the_second():
    a = np.zeros((90, 160, 3), np.uint8)
    b = np.full((90, 160, 3), 200, np.uint8)
    assert (crossfade(a, b, 0.0) == a).all()
    assert (crossfade(a, b, 1.0) == b).all()
    assert np.abs(crossfade(a, b, 0.5).astype(int) - 100).max() <= 1
    out = np.empty_like(a)
    assert crossfade(a, b, 0.25, out=out) is out and abs(int(out[0, 0, 0]) - 50) <= 1
