"""The encoder's own RGB to yuv420p conversion: what ffmpeg would have computed, and a frame
converted in part (only what changed) equal to one converted whole."""

import subprocess

import numpy as np
import pytest

from engine.audio import write_wav
from engine.encode import VideoEncoder, Yuv420Converter
from engine.probe import probe


def ffmpeg_yuv420p(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    command = ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{width}x{height}", "-i", "pipe:0"]
    command += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    out = subprocess.run(command, input=frame.tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).astype(int)


def planes(converter: Yuv420Converter, frame: np.ndarray) -> np.ndarray:
    return np.concatenate([plane.ravel() for plane in converter.convert(frame)]).astype(int)


def smooth_picture(width: int, height: int) -> np.ndarray:
    """Gradients in three colours and a few flat blocks: a slide, not noise (ffmpeg filters
    chroma with its own taps, which only differ from a 2 x 2 mean on pixel-level detail)."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], -1)
    frame = frame.astype(np.uint8)
    frame[10:60, 20:120] = (24, 64, 120)
    frame[height // 2 :, width // 2 :] = (236, 240, 244)
    return frame


def test_the_conversion_is_what_ffmpeg_computes_for_a_picture():
    frame = smooth_picture(160, 96)
    ours, theirs = planes(Yuv420Converter(160, 96), frame), ffmpeg_yuv420p(frame)
    luma = 160 * 96
    assert np.abs(ours[:luma] - theirs[:luma]).max() <= 1
    assert np.abs(ours[luma:] - theirs[luma:]).mean() < 0.6
    # Grey stays grey and white is video white (limited range), as ffmpeg has it.
    grey = np.full((4, 4, 3), 128, np.uint8)
    white = np.full((4, 4, 3), 255, np.uint8)
    assert planes(Yuv420Converter(4, 4), grey).tolist() == ffmpeg_yuv420p(grey).tolist()
    assert planes(Yuv420Converter(4, 4), white).tolist() == ffmpeg_yuv420p(white).tolist()


@pytest.mark.parametrize("size", [(96, 64), (97, 63)])
def test_a_frame_converted_in_part_equals_the_frame_converted_whole(size):
    width, height = size
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    converter = Yuv420Converter(width, height)
    for step in range(12):
        if step:
            x, y = rng.integers(0, width - 9), rng.integers(0, height - 9)
            frame[y : y + rng.integers(1, 9), x : x + rng.integers(1, 9)] = rng.integers(0, 256, 3)
            # One channel of one pixel, by one level: the smallest change there is.
            frame[rng.integers(0, height), rng.integers(0, width), rng.integers(0, 3)] ^= 1
        assert (
            planes(converter, frame).tolist()
            == planes(Yuv420Converter(width, height), frame).tolist()
        )
    unchanged = planes(converter, frame)
    assert planes(converter, frame).tolist() == unchanged.tolist()


def test_the_encoded_video_decodes_to_the_frames(tmp_path):
    frame = smooth_picture(160, 96)
    encoder = VideoEncoder(tmp_path / "out.mp4", 160, 96, 25, None, {})
    for _ in range(5):
        encoder.write(frame)
    encoder.finish()
    command = ["ffmpeg", "-v", "error", "-i", str(tmp_path / "out.mp4")]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    raw = subprocess.run(
        command,
        capture_output=True,
        check=True,
    ).stdout
    decoded = np.frombuffer(raw, np.uint8).reshape(-1, 96, 160, 3)
    assert len(decoded) == 5
    error = np.abs(decoded[2].astype(int) - frame).mean()
    assert error < 3  # crf 20 on a smooth picture; a swapped plane or range is tens of levels


@pytest.mark.parametrize(
    ("bandwidth_hz", "lowest", "highest"), [(None, 15000, 24000), (8000, 7000, 9000)]
)
def test_the_sound_is_stereo_and_ends_at_the_bandwidth_it_is_given(
    tmp_path, bandwidth_hz, lowest, highest
):
    """Noise over the whole band at 48 kHz: without a bandwidth the AAC keeps what its bitrate
    allows (past 15 kHz); with one, the file's sound ends there, as probe measures it."""
    wav = tmp_path / "noise.wav"
    write_wav(wav, np.random.default_rng(3).uniform(-0.3, 0.3, 48000), 48000)
    encoder = VideoEncoder(
        tmp_path / "out.mp4", 64, 64, 25, wav, {}, audio_bandwidth_hz=bandwidth_hz
    )
    for _ in range(25):
        encoder.write(np.zeros((64, 64, 3), np.uint8))
    encoder.finish()
    sound = next(
        s for s in probe(tmp_path / "out.mp4", watermarks=False)["streams"] if s["type"] == "audio"
    )
    assert (sound["sample_rate"], sound["channels"]) == (48000, 2)
    assert lowest < sound["bandwidth_hz"] <= highest
