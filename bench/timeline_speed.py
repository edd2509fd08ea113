"""Timeline speed: today's one-scene render against the pipeline before timelines, a six-scene
lesson at 1280x720, the lesson rendered again with one sentence changed, and the joins.

Run: ``python -m bench.timeline_speed`` (from the repository root). Prints one JSON object; every
ratio compares figures of this one run (the machines are noisy). Realtime factors are wall
seconds per video second (below 1 is faster than real time).

- ``render_speed_realtime_factor``: ``bench.render_speed``'s render through the pipeline as it
  was before timelines (``bench/baseline_pipeline.py``); ``one_scene_realtime_factor``: the same
  spec through today's pipeline (a one-scene timeline).
- ``lesson_realtime_factor``: six scenes, about 60 s, slides drawn here, the presenter in a
  corner (a half-frame and a voice-over scene among them), a segment cache in a fresh folder.
- ``rerender_ratio``: the lesson again with one sentence of one scene changed, over the first.
  Both renders are of one lineage (the same ``frame_mark_id``, each its own provenance id), so
  the re-render copies the encoded chunks of the unchanged segments (``rerender_chunks_reused``
  of ``rerender_chunks``).
- ``join_audio_step_ratio`` / ``join_frame_change_ratio``: at the worst join between two
  segments, the sample-to-sample step of the sound and the frame-to-frame change of the
  presenter's picture, over the 99th percentile of the same measure inside the segments.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.baseline_pipeline import render as render_before
from bench.render_speed import PARAGRAPH
from engine.audio import read_wav
from engine.compose import SceneCompositor
from engine.demo import write_demo_assets
from engine.keys import ensure_site_identity
from engine.pipeline import render
from engine.segment_cache import LocalSegmentCache
from engine.spec import RenderSpec
from engine.timeline import (
    Background,
    Layout,
    OnScreenText,
    OutputFormat,
    Scene,
    Segment,
    Timeline,
    Transition,
)
from engine.voice.profile import compute_voice_profile

ROUNDS = 4
LESSON_LINEAGE = "1e55011e55011e55"  # the lesson's frame mark, shared by its re-renders
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

LESSON = [
    (
        "Keeping customer data safe",
        [
            "Welcome to this short lesson about keeping customer data safe.",
            "It takes about a minute, and you can pause it whenever you like.",
        ],
    ),
    (
        "Where data lives",
        [
            "Personal information lives in more places than most of us think.",
            "Think of the help desk, the billing system and the shared drive.",
        ],
    ),
    (
        "Suspicious email",
        [
            "A suspicious email often asks you to act quickly.",
            "Look at the sender's address before you click on anything.",
        ],
    ),
    (
        "Strong passwords",
        [
            "Use a different password for every system you sign in to.",
            "A password manager remembers them so that you do not have to.",
        ],
    ),
    (
        "Reporting",
        [
            "If something looks wrong, report it to the security team at once.",
            "Nobody is ever blamed for a report that turns out to be harmless.",
        ],
    ),
    (
        "Thank you",
        [
            "Thank you for watching this lesson.",
            "You now know exactly whom to call when something looks wrong.",
        ],
    ),
]


def draw_slide(path: Path, title: str, number: int) -> str:
    image = Image.new("RGB", (1280, 720), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, 90), fill=(24, 64, 120))
    font = ImageFont.truetype(FONT, 44)
    draw.text((40, 20), f"{number}. {title}", fill=(255, 255, 255), font=font)
    for row in range(4):
        y = 170 + row * 110
        draw.rounded_rectangle((80, y, 700, y + 70), radius=12, fill=(200, 214, 230))
    image.save(path)
    return str(path)


def lesson_timeline(folder: Path, *, changed: bool = False) -> Timeline:
    scenes = []
    for number, (title, sentences) in enumerate(LESSON, 1):
        if changed and number == 3:
            sentences = [sentences[0], "Check the sender's address before you click on a link."]
        layout = Layout("corner", position="bottom-right", size=0.38, shape="circle")
        if number == 4:
            layout = Layout("half", side="right")
        if number == 5:
            layout = Layout("voice_over")
        scenes.append(
            Scene(
                segments=[Segment(text, pause_after=0.3) for text in sentences],
                layout=layout,
                background=Background(
                    "image", path=draw_slide(folder / f"slide{number}.png", title, number)
                ),
                text=OnScreenText(
                    title=title, bullets=["Read it twice", "Ask when unsure"] if number == 5 else []
                ),
                transition=Transition("crossfade", 0.4) if number % 2 else Transition("cut"),
            )
        )
    return Timeline(scenes=scenes, format=OutputFormat.named("landscape-720p"))


def spec_for(assets, tmp: str, **changes) -> RenderSpec:
    fields = {
        "script_text": PARAGRAPH,
        "portrait_path": assets.portrait_path,
        "voice_sample_paths": [assets.voice_sample_path],
        "portrait_landmarks": assets.landmarks,
        "width": 512,
        "height": 512,
        "fps": 25,
        "voice_engine": "world",
        "voice_profile_path": f"{tmp}/voice-profile.npz",
        "provenance_id": "00c0ffee00c0ffee",
        "signing_keys_dir": f"{tmp}/keys",
    }
    return RenderSpec(**{**fields, **changes})


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def decoded_frames(path: str, width: int, height: int) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width).astype(np.float32)


def join_figures(spec: RenderSpec, result, folder: Path) -> dict:
    """The worst join against the 99th percentile inside the segments: the sound's sample step
    at every join of two segments (within and between scenes), and the change of the
    presenter's picture per frame at every join within a scene (a scene's cut is meant to show)."""
    timeline = spec.build_timeline()
    fps = timeline.format.fps
    samples, rate = read_wav(_audio_of(result.video_path, folder))
    frames = decoded_frames(result.video_path, result.width, result.height)
    audio_joins, frame_joins = [], []
    scene_start = 0.0
    for number, (scene, report) in enumerate(zip(timeline.scenes, result.scenes, strict=True)):
        starts = report["segment_starts"]
        box = _presenter_box(scene, timeline.format)
        for index, at in enumerate(starts):
            if index == 0 and number == 0:
                continue  # the video's start is no join
            audio_joins.append(round((scene_start + at) * rate))
            if index > 0 and box is not None:
                frame_joins.append((round((scene_start + at) * fps), box))
        scene_start += report["seconds"]
    steps = np.abs(np.diff(samples))
    inside_audio = np.percentile(steps, 99)
    worst_audio = max((steps[max(0, j - 2) : j + 2].max() for j in audio_joins), default=0.0)
    frame_ratios = []
    for index, (x0, y0, x1, y1) in frame_joins:
        change = np.abs(np.diff(frames[:, y0:y1, x0:x1], axis=0)).mean(axis=(1, 2))
        inside = np.percentile(change, 99)
        frame_ratios.append(change[max(0, index - 2) : index + 1].max() / max(inside, 1e-6))
    return {
        "audio_joins": len(audio_joins),
        "frame_joins": len(frame_joins),
        "join_audio_step_ratio": round(float(worst_audio / max(inside_audio, 1e-9)), 3),
        "join_frame_change_ratio": round(float(max(frame_ratios, default=0.0)), 3),
    }


def _presenter_box(scene: Scene, fmt: OutputFormat):
    if not scene.layout.shows_presenter:
        return None
    compositor = SceneCompositor(scene, fmt)
    try:
        return compositor.presenter_box
    finally:
        compositor.close()


def _audio_of(video: str, folder: Path) -> Path:
    out = folder / f"{Path(video).stem}-audio.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", video, "-vn", "-ac", "1", "-ar", "16000", str(out)],
        check=True,
    )
    return out


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        folder = Path(tmp)
        assets = write_demo_assets(tmp)
        compute_voice_profile([assets.voice_sample_path]).save(f"{tmp}/voice-profile.npz")
        ensure_site_identity(f"{tmp}/keys")
        spec = spec_for(assets, tmp)
        # Before and now take turns, four rounds each; the fastest of each is compared (noise
        # on a shared machine only ever adds time).
        walls: dict[str, list[float]] = {"before": [], "now": []}
        for round_ in range(ROUNDS):
            before, wall = timed(render_before, spec, f"{tmp}/before{round_}.mp4")
            walls["before"].append(wall)
            one, wall = timed(render, spec, f"{tmp}/one{round_}.mp4")
            walls["now"].append(wall)
        before_wall, one_wall = (min(w) for w in walls.values())

        cache = LocalSegmentCache(folder / "cache")
        lesson = spec_for(
            assets,
            tmp,
            timeline=lesson_timeline(folder).to_dict(),
            frame_mark_id=LESSON_LINEAGE,
            provenance_id="00c0ffee00c0ff01",
        )
        first, first_wall = timed(render, lesson, f"{tmp}/lesson.mp4", cache=cache)
        joins = join_figures(lesson, first, folder)
        changed = spec_for(
            assets,
            tmp,
            timeline=lesson_timeline(folder, changed=True).to_dict(),
            frame_mark_id=LESSON_LINEAGE,
            provenance_id="00c0ffee00c0ff02",
        )
        again, again_wall = timed(render, changed, f"{tmp}/lesson2.mp4", cache=cache)
    return {
        "render_speed_realtime_factor": round(before_wall / before.video_seconds, 3),
        "one_scene_realtime_factor": round(one_wall / one.video_seconds, 3),
        "one_scene_over_before": round(
            (one_wall / one.video_seconds) / (before_wall / before.video_seconds), 3
        ),
        "lesson_video_seconds": first.video_seconds,
        "lesson_realtime_factor": round(first_wall / first.video_seconds, 3),
        "rerender_ratio": round(again_wall / first_wall, 3),
        "rerender_segments_cached": f"{again.segments_cached}/{again.segments}",
        "lesson_chunks": first.chunks,
        "rerender_chunks": again.chunks,
        "rerender_chunks_reused": again.chunks_reused,
        **joins,
        "stage_seconds": {
            "before": before.stage_seconds,
            "one_scene": one.stage_seconds,
            "lesson": first.stage_seconds,
            "lesson_again": again.stage_seconds,
        },
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
