"""Render speed: the drawn demo presenter speaking a paragraph at 512x512, 25 fps.

Run: ``python -m bench.render_speed`` (from the repository root). Prints one JSON object.
``realtime_factor`` is wall seconds per video second (below 1 is faster than real time).
"""

from __future__ import annotations

import json
import os
import tempfile
import time

from engine.demo import write_demo_assets
from engine.keys import ensure_site_identity
from engine.pipeline import render
from engine.spec import RenderSpec
from engine.voice.profile import compute_voice_profile

PARAGRAPH = (
    "Welcome to this short lesson about keeping customer data safe. "
    "First, we will look at where personal information lives in our systems. "
    "Then we will practise spotting a suspicious email before anyone clicks on it. "
    "By the end, you will know exactly whom to call when something looks wrong."
)


def main() -> dict:
    """Renders as the site does by default: the `world` voice converted toward the presenter's
    cached profile, the warp face, label, both watermarks and a signed C2PA manifest. Enrollment
    work (the voice profile, the signing identity) happens before the clock starts, as on the site.
    """
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        assets = write_demo_assets(tmp)
        profile_path = f"{tmp}/voice-profile.npz"
        compute_voice_profile([assets.voice_sample_path]).save(profile_path)
        ensure_site_identity(f"{tmp}/keys")
        spec = RenderSpec(
            script_text=PARAGRAPH,
            portrait_path=assets.portrait_path,
            voice_sample_paths=[assets.voice_sample_path],
            portrait_landmarks=assets.landmarks,
            width=512,
            height=512,
            fps=25,
            lead_in_seconds=0.4,
            tail_seconds=0.6,
            voice_engine="world",
            voice_profile_path=profile_path,
            provenance_id="00c0ffee00c0ffee",
            signing_keys_dir=f"{tmp}/keys",
        )
        started = time.perf_counter()
        result = render(spec, f"{tmp}/bench.mp4")
        wall = time.perf_counter() - started
    return {
        "video_seconds": result.video_seconds,
        "wall_seconds": round(wall, 3),
        "realtime_factor": round(wall / result.video_seconds, 3),
        "stage_seconds": result.stage_seconds,
        "frames": result.frames,
        "face_fps": round(result.frames / max(result.stage_seconds["face"], 1e-9), 1),
        "engines": [result.voice_engine, result.face_engine],
        "size": [spec.width, spec.height],
        "fps": spec.fps,
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
