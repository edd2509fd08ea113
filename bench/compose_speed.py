"""Composition speed: the frames of a six-scene, 60-second 1280x720 lesson at 25 fps composed by
``engine.compose.SceneCompositor`` (numpy/OpenCV) and by moviepy 2.x, nothing encoded.

Run: ``python -m bench.compose_speed [--save-frames DIR]`` (from the repository root). Prints
one JSON object. The slides are pictures drawn here with Pillow, the moving background is
ffmpeg's ``testsrc``, and the presenter is a synthetic moving picture at the size the layout
asks for (the face engine is not what is measured; making its frames is timed on its own as
``presenter_synthesis_seconds`` and is inside both totals).

moviepy is not in requirements.txt: 2.2.1 requires pillow<12 and the project pins pillow 13.
To measure it without touching the project's environment, install it to a folder of its own:
``pip install --target /tmp/moviepy-site --no-deps moviepy==2.2.1 proglog==0.1.12
imageio-ffmpeg==0.8.1 pillow==11.3.0`` and run with ``PYTHONPATH=/tmp/moviepy-site``. Without
it the moviepy half is skipped with a note in the JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.compose import BOLD_FONT, REGULAR_FONT, SceneCompositor
from engine.timeline import Background, Layout, OnScreenText, OutputFormat, Scene, Timeline
from engine.tools import require_tool

WIDTH, HEIGHT, FPS = 1280, 720, 25
SCENE_SECONDS = 10.0
SLIDES = [
    ("Why customer data matters", (32, 86, 160)),
    ("Where personal data lives", (22, 128, 96)),
    ("Spotting a phishing email", (170, 70, 40)),
    ("What to do next", (96, 60, 150)),
]


def lesson(folder: Path) -> Timeline:
    """Six scenes of ten seconds: slides with the presenter in a corner circle, one half-layout
    scene, one voice-over with bullets, one scene over a looping video."""
    slides = [_draw_slide(folder / f"slide-{n}.png", title, color) for n, (title, color) in
              enumerate(SLIDES, 1)]  # fmt: skip
    video = _test_video(folder / "testsrc.mp4")
    corner = Layout(kind="corner", position="bottom-right", size=0.35, shape="circle")

    def image(path: Path) -> Background:
        return Background(kind="image", path=str(path))

    scenes = [
        Scene(
            layout=corner,
            background=image(slides[0]),
            text=OnScreenText(
                title="Keeping customer data safe", lower_third="Ada Lovelace · Security lead"
            ),
        ),
        Scene(
            layout=corner,
            background=image(slides[1]),
            text=OnScreenText(
                title="Where personal data lives",
                bullets=["The customer database", "Support tickets and email", "Laptops"],
            ),
        ),
        Scene(
            layout=Layout(kind="half", side="right"),
            background=image(slides[2]),
            text=OnScreenText(
                title="Spotting a phishing email",
                bullets=["An urgent tone", "A sender you do not know", "A link that hides"],
            ),
        ),
        Scene(
            layout=Layout(kind="voice_over"),
            background=image(slides[3]),
            text=OnScreenText(
                title="Before you click",
                bullets=[
                    "Hover over the link and read the address it really goes to",
                    "Check the sender's domain, letter by letter",
                    "When in doubt, ask the security team",
                    "Report the email, even after a click",
                ],
            ),
        ),
        Scene(
            layout=corner,
            background=Background(kind="video", path=str(video), mode="loop"),
            text=OnScreenText(title="A moving background"),
        ),
        Scene(
            layout=Layout(kind="corner", position="bottom-left", size=0.35, shape="rectangle"),
            background=image(slides[0]),
            text=OnScreenText(title="Thank you", lower_third="Questions: security@example.com"),
        ),
    ]
    for scene in scenes:
        scene.duration = SCENE_SECONDS
    return Timeline(scenes=scenes, format=OutputFormat(WIDTH, HEIGHT, FPS))


class SyntheticPresenter:
    """A gradient with a disc moving across it, at any size: stands in for the face engine."""

    def __init__(self) -> None:
        self._bases: dict[tuple[int, int], np.ndarray] = {}

    def frame(self, number: int, size: tuple[int, int]) -> np.ndarray:
        width, height = size
        if size not in self._bases:
            x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
            y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
            self._bases[size] = np.stack(
                [np.broadcast_to(180 * x + 40, (height, width)),
                 np.broadcast_to(60 + 120 * y, (height, width)),
                 90 + 80 * x * y],
                axis=-1,
            ).astype(np.uint8)  # fmt: skip
        picture = self._bases[size].copy()
        phase = number / FPS
        centre = (
            int(width * (0.5 + 0.3 * np.sin(phase * 2.0))),
            int(height * (0.45 + 0.15 * np.cos(phase * 3.0))),
        )
        cv2.circle(
            picture, centre, max(4, min(width, height) // 5), (250, 220, 190), -1, cv2.LINE_AA
        )
        return picture


def compose_with_engine(timeline: Timeline, save_frames: Path | None) -> dict:
    presenter = SyntheticPresenter()
    fmt = timeline.format
    frames, checksum = 0, 0
    started = time.perf_counter()
    for number, scene in enumerate(timeline.scenes, 1):
        count = round(scene.duration * fmt.fps)
        with SceneCompositor(scene, fmt) as compositor:
            size = compositor.presenter_size
            for index in range(count):
                face = presenter.frame(frames, size) if size else None
                picture = compositor.frame(index, face)
                checksum += int(picture[0, 0, 0])
                if save_frames is not None and index == count // 2:
                    save_frames.mkdir(parents=True, exist_ok=True)
                    path = save_frames / f"scene-{number}-{scene.layout.kind}.png"
                    Image.fromarray(picture).save(path)
                frames += 1
    return _speed(frames, time.perf_counter() - started)


def compose_with_moviepy(timeline: Timeline) -> dict:
    """The same lesson as moviepy builds it: a CompositeVideoClip per scene of the background
    (ImageClip or a looping VideoFileClip), the presenter clip with a mask, and the text as
    TextClips on semi-transparent ColorClip panels; every frame read with iter_frames."""
    from moviepy import (
        ColorClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        VideoClip,
        VideoFileClip,
        vfx,
    )

    presenter = SyntheticPresenter()
    fmt = timeline.format
    frames, checksum = 0, 0
    margin = round(0.04 * fmt.height)
    started = time.perf_counter()
    for scene in timeline.scenes:
        duration = scene.duration
        first = frames
        layers = []
        background = scene.background
        if background.kind == "video":
            clip = VideoFileClip(background.path, audio=False).resized((fmt.width, fmt.height))
            layers.append(clip.with_effects([vfx.Loop(duration=duration)]))
        else:
            layers.append(ImageClip(background.path).with_duration(duration))
        layout = scene.layout
        text_left, text_width = margin, fmt.width - 2 * margin
        if layout.kind in ("corner", "half"):
            if layout.kind == "corner":
                side = round(layout.size * fmt.height / 2) * 2
                size = (side, side)
                x = fmt.width - margin - side if layout.position.endswith("right") else margin
                position = (x, fmt.height - margin - side)
                mask = _moviepy_mask(side, layout.shape)
                text_width = fmt.width - side - 3 * margin
                if x == margin:
                    text_left = side + 2 * margin
            else:
                size = (fmt.width // 2, fmt.height)
                position = (fmt.width - size[0] if layout.side == "right" else 0, 0)
                mask = None
                text_width = fmt.width // 2 - 2 * margin
                if layout.side == "left":
                    text_left = fmt.width // 2 + margin

            def make_frame(t, size=size, first=first):
                return presenter.frame(first + round(t * fmt.fps), size)

            face = VideoClip(frame_function=make_frame, duration=duration).with_position(position)
            if mask is not None:
                face = face.with_mask(ImageClip(mask, is_mask=True).with_duration(duration))
            layers.append(face)
        lines = [scene.text.title, *(f"•  {b}" for b in scene.text.bullets)]
        body = "\n".join(line for line in lines if line)
        if body:
            text = TextClip(
                font=str(REGULAR_FONT), text=body, font_size=round(0.046 * fmt.height),
                color="white", method="caption", size=(text_width - 2 * margin, None),
                duration=duration,
            )  # fmt: skip
            panel = ColorClip(
                (text.w + 2 * margin, text.h + 2 * margin), color=(14, 18, 26), duration=duration
            ).with_opacity(0.67)
            layers += [
                panel.with_position((text_left, margin)),
                text.with_position((text_left + margin, 2 * margin)),
            ]
        if scene.text.lower_third:
            name = TextClip(
                font=str(BOLD_FONT), text=scene.text.lower_third,
                font_size=round(0.044 * fmt.height), color="white", duration=duration,
            )  # fmt: skip
            top = fmt.height - margin - name.h - 2 * margin
            band = ColorClip(
                (name.w + 2 * margin, name.h + 2 * margin), color=(14, 18, 26), duration=duration
            ).with_opacity(0.67)
            layers += [
                band.with_position((text_left, top)),
                name.with_position((text_left + margin, top + margin)),
            ]
        composite = CompositeVideoClip(layers, size=(fmt.width, fmt.height)).with_duration(duration)
        for picture in composite.iter_frames(fps=fmt.fps, dtype="uint8"):
            checksum += int(picture[0, 0, 0])
            frames += 1
        composite.close()
        for layer in layers:
            layer.close()
    return _speed(frames, time.perf_counter() - started)


def presenter_synthesis_seconds(timeline: Timeline) -> float:
    """What making the synthetic presenter's frames alone costs (inside both totals)."""
    presenter = SyntheticPresenter()
    frames = 0
    started = time.perf_counter()
    for scene in timeline.scenes:
        compositor_size = _presenter_size(scene, timeline.format)
        for _ in range(round(scene.duration * timeline.format.fps)):
            if compositor_size:
                presenter.frame(frames, compositor_size)
            frames += 1
    return round(time.perf_counter() - started, 2)


def main(save_frames: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="likeness-compose-") as tmp:
        timeline = lesson(Path(tmp))
        timeline.check()
        seconds = sum(scene.duration for scene in timeline.scenes)
        result: dict = {
            "lesson": f"{len(timeline.scenes)} scenes, {seconds:.0f} s, {WIDTH}x{HEIGHT} {FPS} fps",
            "engine": compose_with_engine(timeline, save_frames),
            "presenter_synthesis_seconds": presenter_synthesis_seconds(timeline),
        }
        try:
            version = metadata.version("moviepy")
            import moviepy  # noqa: F401
        except ImportError:
            result["moviepy"] = {
                "skipped": "moviepy is not importable; install it to a folder of its own and "
                "run with PYTHONPATH (see this module's docstring)."
            }
        else:
            result["moviepy"] = {"version": version, **compose_with_moviepy(timeline)}
            result["speedup"] = round(result["moviepy"]["seconds"] / result["engine"]["seconds"], 1)
    return result


def _speed(frames: int, seconds: float) -> dict:
    return {
        "frames": frames,
        "seconds": round(seconds, 2),
        "frames_per_second": round(frames / seconds, 1),
        "ms_per_frame": round(1000 * seconds / frames, 2),
    }


def _presenter_size(scene: Scene, fmt: OutputFormat) -> tuple[int, int] | None:
    compositor = SceneCompositor(
        Scene(layout=scene.layout, duration=scene.duration), fmt
    )  # a colour background: cheap
    return compositor.presenter_size


def _moviepy_mask(side: int, shape: str) -> np.ndarray:
    mask = np.zeros((side, side), np.uint8)
    if shape == "circle":
        cv2.circle(mask, (side // 2, side // 2), side // 2 - 1, 255, -1, cv2.LINE_AA)
    else:
        radius = round(0.08 * side)
        cv2.rectangle(mask, (radius, 0), (side - radius, side), 255, -1)
        cv2.rectangle(mask, (0, radius), (side, side - radius), 255, -1)
        for cx in (radius, side - radius - 1):
            for cy in (radius, side - radius - 1):
                cv2.circle(mask, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    return mask.astype(np.float64) / 255


def _draw_slide(path: Path, title: str, color: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (WIDTH, HEIGHT), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 110), fill=color)
    draw.text((60, 30), title, font=ImageFont.truetype(str(BOLD_FONT), 46), fill="white")
    body = ImageFont.truetype(str(REGULAR_FONT), 28)
    for row in range(5):
        y = 170 + row * 80
        draw.rounded_rectangle((60, y, 60 + 520 - row * 40, y + 50), 10, fill=(220, 226, 234))
        draw.text((80, y + 8), f"Point {row + 1}", font=body, fill=(40, 48, 60))
    for bar in range(6):
        top = 620 - (bar * 53 + 90) % 330
        draw.rectangle((700 + bar * 75, top, 750 + bar * 75, 620), fill=color)
    image.save(path)
    return path


def _test_video(path: Path) -> Path:
    ffmpeg = require_tool("ffmpeg")
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=640x360:rate=25:duration=4",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save-frames", type=Path, help="save each scene's middle frame here")
    arguments = parser.parse_args()
    print(json.dumps(main(arguments.save_frames), indent=2))
