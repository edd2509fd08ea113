"""Face quality on real footage: a footage avatar and a photo avatar of the same person, side by
side, against the real video of the words they render.

Run: ``python -m bench.face_footage [--sheets DIR]`` from the repository root. Prints one JSON
object.

Footage (``tests/data/footage``, see MODELS.md): President Obama's weekly addresses (White House
videos, US federal works, public domain), cropped to the face at 256 px and 25 fps. The avatar is
made from four sentences (13.4 s, ``weekly-address-avatar.mp4``); the held-out sentence
(``weekly-address-held-out.mp4``, 2.5 s: "a bad situation could become dramatically worse") is
never shown to it. The photo avatar is the warp engine on the footage's still frame
(``engine.face.footage.still_frame``).

Part ``held_out``: both avatars render the held-out sentence's own sound (its phones recognised
by the engine, as for audio without timings), frame for frame against the real frames:

- ``lipsync_r_real``: Pearson correlation of the mouth opening (inner-lip gap over the outer
  eye-corner distance) in rendered and in real frames;
- ``mouth_crop_distance``: mean absolute grey-level difference of the mouth at 64 x 32 px,
  cropped around dlib's mouth landmarks of each frame (0 = the same mouth; ``real_vs_still``
  is the real mouth against the footage's still frame's, a mouth that never moves);
- ``identity_distance``: dlib ResNet embedding distance of rendered to real frames.

Part ``festival``: bench.face_quality's protocol (festival's SLT voice, two sentences with
pauses): ``lipsync_r`` against loudness, ``identity_distance`` to the still frame,
``jitter_iod_percent`` in silence (share of the eye-corner distance), ``fps`` of the engine
alone (the footage analysis is timed apart: ``analysis_seconds``, once per footage).

Measured here (2 shared cores, 256 px; ``held_out`` / ``festival``), footage avatar vs photo
avatar: lip-sync r with the real mouth 0.18 vs 0.26; mouth-crop distance 21.4 vs 27.6 (a still
mouth 25.7); identity distance to the real frames 0.374 vs 0.378; lip-sync r with loudness 0.60
vs 0.81; jitter in silence 0.84 vs 0.43 % of the eye distance (the real footage, talking, moves
1.05 % by the same measure); engine fps 280 vs 1670 (180 at 512 px); analysis 3-6 s for the
13.4 s avatar. 62 held-out frames make the first two figures noisy: read them as a direction.

Everything is measured with dlib (HOG detector, 68-point landmarks to a quarter pixel, ResNet
embedding), not with the engines' mediapipe landmarks. ``--sheets DIR`` (default
``var/bench/face-footage``): mouths at 100 % over time, one row each for the real held-out
frames, the footage avatar and the photo avatar; and the two avatars on festival's speech.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.face_quality import Measurer, jitter, loudness, mouth_opening, speech_track
from engine.audio import read_wav
from engine.face import get_face_engine
from engine.face.footage import footage_audio, still_frame
from engine.face.landmarks import find_faces
from engine.face.rewrite import analyse_footage, recognise_phones

FOOTAGE = Path(__file__).resolve().parent.parent / "tests" / "data" / "footage"
AVATAR = FOOTAGE / "weekly-address-avatar.mp4"
HELD_OUT = FOOTAGE / "weekly-address-held-out.mp4"
HELD_OUT_WORDS = "a bad situation could become dramatically worse"
SIZE, FPS = 256, 25
MOUTH = (64, 32)  # mouth crops compared at this size
SHEET_FRAMES = 12


def video_frames(path: Path, size: int = SIZE, fps: int = FPS) -> list[np.ndarray]:
    command = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-an", "-vf"]
    command += [f"fps={fps},scale={size}:{size}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    import subprocess

    raw = subprocess.run(command, capture_output=True, check=True).stdout
    count = len(raw) // (size * size * 3)
    return list(np.frombuffer(raw[: count * size * size * 3], np.uint8).reshape(-1, size, size, 3))


def render(engine, portrait: str, landmarks, wav: Path, phonemes, frames: int | None = None):
    """The engine's frames and its frames per second (the engine alone)."""
    made, seconds = [], 0.0
    iterator = iter(
        engine.animate(portrait, landmarks, str(wav), FPS, (SIZE, SIZE), phonemes=phonemes)
    )
    while True:
        started = time.perf_counter()
        frame = next(iterator, None)
        seconds += time.perf_counter() - started
        if frame is None or (frames is not None and len(made) == frames):
            break
        made.append(frame)
    return made, len(made) / max(seconds, 1e-9)


def mouth_crop(frame: np.ndarray, points: np.ndarray | None) -> np.ndarray | None:
    """The mouth (dlib points 48-67 and a margin of a fifth of the eye distance), grey, 64x32."""
    if points is None:
        return None
    eyes = np.linalg.norm(points[45] - points[36])
    (x0, y0), (x1, y1) = points[48:68].min(axis=0), points[48:68].max(axis=0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = 0.55 * eyes, 0.275 * eyes  # a fixed 2:1 box scaled by the face
    box = np.float32(
        [[cx - half_w, cy - half_h], [cx + half_w, cy - half_h], [cx - half_w, cy + half_h]]
    )
    target = np.float32([[0, 0], [MOUTH[0], 0], [0, MOUTH[1]]])
    matrix = cv2.getAffineTransform(box, target)
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return cv2.warpAffine(grey, matrix, MOUTH, flags=cv2.INTER_AREA).astype(np.float32)


def compare(rendered, real, measurer: Measurer) -> dict:
    """Rendered frames against the real frames of the same words, frame for frame."""
    count = min(len(rendered), len(real))
    ours = [measurer.landmarks(np.ascontiguousarray(f)) for f in rendered[:count]]
    theirs = [measurer.landmarks(np.ascontiguousarray(f)) for f in real[:count]]
    both = [i for i in range(count) if ours[i] is not None and theirs[i] is not None]
    open_ours = np.array([mouth_opening(ours[i]) for i in both])
    open_real = np.array([mouth_opening(theirs[i]) for i in both])
    r = float(np.corrcoef(open_ours, open_real)[0, 1]) if len(both) > 2 else None
    crops = [
        np.abs(mouth_crop(rendered[i], ours[i]) - mouth_crop(real[i], theirs[i])).mean()
        for i in both
    ]
    distances = []
    for i in both[:: max(1, len(both) // 20)]:
        a = measurer.embedding(np.ascontiguousarray(rendered[i]))
        b = measurer.embedding(np.ascontiguousarray(real[i]))
        if a is not None and b is not None:
            distances.append(float(np.linalg.norm(a - b)))
    return {
        "lipsync_r_real": None if r is None else round(r, 3),
        "mouth_crop_distance": round(float(np.mean(crops)), 2) if crops else None,
        "identity_distance": round(float(np.mean(distances)), 3) if distances else None,
        "opening_mean": round(float(open_ours.mean()), 4) if len(both) else None,
        "frames": count,
        "measured_frames": len(both),
    }


def festival_measures(frames, track: Path, reference: np.ndarray, measurer: Measurer) -> dict:
    """bench.face_quality's lip sync, identity and jitter on a render of its speech track."""
    samples, rate = read_wav(track)
    loud = loudness(samples, rate, len(frames), FPS)
    points = [measurer.landmarks(np.ascontiguousarray(f)) for f in frames]
    found = np.array([p is not None for p in points])
    opening = np.array([mouth_opening(p) if p is not None else np.nan for p in points])
    valid = found & np.isfinite(opening)
    lipsync = float(np.corrcoef(opening[valid], loud[valid])[0, 1]) if valid.sum() > 2 else None
    quiet = loud < 0.01 * loud.max()
    silent = np.convolve((~quiet).astype(float), np.ones(7), mode="same") == 0
    vector = measurer.embedding(np.ascontiguousarray(reference))
    distances = []
    for frame in frames[:: max(1, len(frames) // 40)]:
        other = measurer.embedding(np.ascontiguousarray(frame))
        if vector is not None and other is not None:
            distances.append(float(np.linalg.norm(other - vector)))
    moved = jitter(points, silent)
    return {
        "lipsync_r": None if lipsync is None else round(lipsync, 3),
        "identity_distance": round(float(np.mean(distances)), 3) if distances else None,
        "jitter_iod_percent": round(100 * moved[1], 3) if moved else None,
        "silent_frames": int(silent.sum()),
        "face_found_share": round(float(found.mean()), 3),
    }


def sheet(rows: dict[str, list[np.ndarray]], measurer: Measurer, path: Path) -> str:
    """Mouths at 100 % in SHEET_FRAMES frames spread over the clip, one row per source, each
    row boxed around its own frames' mouths (dlib's landmarks)."""
    count = min(len(frames) for frames in rows.values())
    chosen = [round(k * (count - 1) / (SHEET_FRAMES - 1)) for k in range(SHEET_FRAMES)]
    lines = []
    for frames in rows.values():
        points = [measurer.landmarks(np.ascontiguousarray(frames[i])) for i in chosen]
        found = [p for p in points if p is not None]
        mouths = np.vstack([p[48:68] for p in found])
        eyes = float(np.median([np.linalg.norm(p[45] - p[36]) for p in found]))
        centre = np.median(mouths, axis=0)
        x0, y0 = np.maximum((centre - [0.6 * eyes, 0.35 * eyes]).astype(int), 0)
        width, height = int(1.2 * eyes), int(0.7 * eyes)
        lines.append([frames[i][y0 : y0 + height, x0 : x0 + width] for i in chosen])
    height = min(c.shape[0] for line in lines for c in line)
    width = min(c.shape[1] for line in lines for c in line)
    Image.fromarray(
        np.vstack([np.hstack([c[:height, :width] for c in line]) for line in lines])
    ).save(path)
    return str(path)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", default="var/bench/face-footage", help="contact sheets here")
    args = parser.parse_args(argv)
    sheets = Path(args.sheets)
    sheets.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    measurer = Measurer()
    with tempfile.TemporaryDirectory(prefix="likeness-face-footage-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        analyse_footage(AVATAR, folder / "analysis")
        analysis_seconds = time.perf_counter() - started
        footage = get_face_engine(
            "footage", footage_path=str(AVATAR), analysis_dir=str(folder / "analysis")
        )
        still = still_frame(AVATAR)
        portrait = folder / "still.png"
        Image.fromarray(still).save(portrait)
        _, faces = find_faces(still)
        landmarks = faces[0].tolist()
        photo = get_face_engine("warp")

        real = video_frames(HELD_OUT)
        wav = Path(footage_audio(HELD_OUT, folder / "held-out.wav"))
        phones = recognise_phones(wav)
        rendered = {
            "footage": render(footage, "", [], wav, phones, len(real))[0],
            "photo": render(photo, str(portrait), landmarks, wav, phones, len(real))[0],
        }
        held_out = {name: compare(frames, real, measurer) for name, frames in rendered.items()}
        still_points = measurer.landmarks(np.ascontiguousarray(still))
        real_points = [measurer.landmarks(np.ascontiguousarray(f)) for f in real]
        still_mouth = mouth_crop(still, still_points)
        held_out["real_vs_still"] = {
            "mouth_crop_distance": round(
                float(
                    np.mean(
                        [
                            np.abs(mouth_crop(f, p) - still_mouth).mean()
                            for f, p in zip(real, real_points, strict=True)
                            if p is not None
                        ]
                    )
                ),
                2,
            )
        }
        real_open = [mouth_opening(p) for p in real_points if p is not None]
        held_out["real"] = {"opening_mean": round(float(np.mean(real_open)), 4)}
        sheet_path = sheet(
            {"real": real, **rendered}, measurer, sheets / "held-out-real-footage-photo.png"
        )

        track, phonemes = speech_track(folder)
        festival, festival_frames = {}, {}
        for name, (engine, picture, points) in {
            "footage": (footage, "", []),
            "photo": (photo, str(portrait), landmarks),
        }.items():
            frames, fps = render(engine, picture, points, track, phonemes)
            festival[name] = festival_measures(frames, track, still, measurer) | {
                "fps": round(fps, 1)
            }
            festival_frames[name] = frames
        festival_sheet = sheet(festival_frames, measurer, sheets / "festival-footage-photo.png")
    return {
        "size": [SIZE, SIZE],
        "fps_video": FPS,
        "measured_with": "dlib HOG detector + 68-point landmarks + ResNet embedding",
        "held_out_words": HELD_OUT_WORDS,
        "held_out_phones_recognised": len(phones),
        "held_out": held_out,
        "festival": festival,
        "analysis_seconds": round(analysis_seconds, 2),
        "avatar_seconds": 13.4,
        "sheets": [sheet_path, festival_sheet],
        "cpus": os.cpu_count(),
        "load_average_1min": {
            "before": round(load_before[0], 2),
            "after": round(os.getloadavg()[0], 2),
        },
    }


if __name__ == "__main__":
    print(json.dumps(main()))
