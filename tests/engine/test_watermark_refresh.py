"""The informed marker reads the picture again only when it changed: a slide behind a corner
presenter is read once, a cut to a new picture is read at once, and the mark survives either way."""

import subprocess

import numpy as np
from PIL import Image, ImageDraw

from engine.encode import VideoEncoder
from engine.watermark import read_video_mark
from engine.watermark.video import REFRESH_FRAMES, VideoWatermarker

PAYLOAD = 0x0123456789ABCDEF
WIDTH, HEIGHT, FPS = 960, 540, 25


def slide(number: int) -> np.ndarray:
    image = Image.new("RGB", (640, 360), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 640, 46), fill=(24, 64, 120) if number == 1 else (120, 30, 60))
    for row in range(4):
        top = 80 + row * 56 + number * 7
        draw.rounded_rectangle((40, top, 360, top + 34), radius=6, fill=(200, 214, 230))
    draw.ellipse((440, 150, 600, 310), fill=(181, 140, 120))  # the presenter's place
    return np.asarray(image.resize((WIDTH, HEIGHT))).copy()


def with_mouth(picture: np.ndarray, index: int) -> np.ndarray:
    """The presenter's mouth opening and closing: a small change, as in every lesson frame."""
    frame = picture.copy()
    opening = 4 + 6 * abs(np.sin(index / 3))
    frame[360 : 360 + int(1.5 * opening), 750:810] = (90, 40, 40)
    return frame


def test_a_cut_to_a_new_picture_is_marked_as_a_fresh_marker_marks_it():
    marker = VideoWatermarker(PAYLOAD, WIDTH, HEIGHT)
    first, second = slide(1), slide(2)
    for _ in range(REFRESH_FRAMES):
        before_cut = marker.apply(first.copy())
    cut = marker.apply(second.copy())
    fresh = VideoWatermarker(PAYLOAD, WIDTH, HEIGHT).apply(second.copy())
    assert np.array_equal(cut, fresh)
    # The reading matters: the first slide's levels on the second slide would differ.
    stale = second.astype(int) + (before_cut.astype(int) - first)
    assert not np.array_equal(np.clip(stale, 0, 255), fresh)


def test_a_slide_with_a_moving_mouth_keeps_its_payload_through_half_size_and_crf_28(tmp_path):
    marker = VideoWatermarker(PAYLOAD, WIDTH, HEIGHT)
    path = tmp_path / "lesson.mp4"
    encoder = VideoEncoder(path, WIDTH, HEIGHT, FPS, None, {})
    picture = slide(1)
    for index in range(3 * FPS):
        encoder.write(marker.apply(with_mouth(picture, index)))
    encoder.finish()

    small = tmp_path / "small.mp4"
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-vf", "scale=iw/2:ih/2"]
    command += ["-c:v", "libx264", "-crf", "28", "-pix_fmt", "yuv420p", str(small)]
    subprocess.run(command, check=True)
    assert read_video_mark(path).payload == PAYLOAD
    assert read_video_mark(small).payload == PAYLOAD
