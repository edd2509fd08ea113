"""Face quality: lip sync, identity, stillness and speed of a face engine on shipped portraits.

Run: ``python -m bench.face_quality [--engine warp|neural] [--weights-dir DIR] [--size 512]``
from the repository root.
Prints one JSON object: per portrait and the mean of

- ``lipsync_r``: Pearson correlation between the mouth opening measured in each rendered frame
  and the audio loudness (RMS) over the same frame (goal >= 0.6);
- ``identity_distance``: dlib ResNet face-embedding distance between the portrait and rendered
  frames, averaged (goal <= 0.30; the same person scores about 0.2, another about 0.8);
- ``jitter_px``: in silent stretches, how far the rigid landmarks (jaw line, brows, nose) move
  from one frame to the next after removing the intended head motion (a similarity transform
  fitted frame to frame), in pixels of a 512 px frame (goal <= 1.0); ``jitter_iod_percent``:
  the same as a share of the distance between the outer eye corners (goal <= 0.7), so faces of
  every size compare. Landmarks are found to a quarter pixel (dlib's own are whole pixels, and a
  head that sways a fraction of a pixel per frame flips them between neighbours: 0.8 % of the eye
  distance on the astronaut for motion that is a pure similarity, 0.36 % at a quarter pixel);
  ``jitter_iod_percent_whole_pixels`` is the figure with dlib's whole pixels;
- ``fps``: frames per second of the engine alone (goal >= 100 at 512x512 on 2 cores).

Everything is measured on the frames with dlib's HOG face detector and its 68-point landmark
model (from ``face_recognition_models``), not with mediapipe, which the engines use; nothing in
the engines is tuned against these measures. The machine's load is printed beside the numbers:
other work on the same cores lowers ``fps``.

Portraits: scikit-image's astronaut (Eileen Collins, NASA, public domain), the drawn demo
presenter (the project's own) and the four White House portraits of ``tests/data/portraits``
(neutral, two smiles with teeth, one caught speaking; public domain, see MODELS.md). Speech:
festival's SLT voice, two sentences with pauses around.

``--sheets DIR`` (default ``var/bench/face-sheets``): one contact sheet per portrait, the mouth
at 100 % in 16 frames of speech in order, framed from dlib's landmarks, to look at.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from engine.audio import read_wav, write_wav
from engine.face import get_face_engine, inspect_portrait
from engine.face.landmarks import load_rgb
from engine.voice import get_voice_engine

SENTENCES = (
    "Good morning, and welcome to the quarterly update on our safety training.",
    "Please watch closely, because the most important part comes at the very end.",
)
LEAD_IN, PAUSE, TAIL = 1.0, 1.2, 1.0  # seconds of silence before, between and after
FPS = 25
GOALS = {
    "lipsync_r": ">= 0.6",
    "identity_distance": "<= 0.30",
    "jitter_px": "<= 1.0",
    "jitter_iod_percent": "<= 0.7",
    "fps": ">= 100",
}
UPSAMPLE = 4  # landmarks to a quarter pixel (see Measurer.landmarks)
PORTRAIT_FILES = Path(__file__).resolve().parent.parent / "tests" / "data" / "portraits"
SHEET_FRAMES = 16
# dlib's 68-point layout (0-based): rigid points, inner lips, outer eye corners.
RIGID = list(range(0, 17)) + list(range(17, 27)) + list(range(27, 36))
INNER_LIP_PAIRS = [(61, 67), (62, 66), (63, 65)]
EYE_CORNERS = (36, 45)


class Measurer:
    """dlib's HOG detector, 68-point landmarks and ResNet identity embedding."""

    def __init__(self) -> None:
        import dlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # face_recognition_models imports pkg_resources
            import face_recognition_models as files

        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(files.pose_predictor_model_location())
        self.aligner = dlib.shape_predictor(files.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(files.face_recognition_model_location())
        self._last_box = None

    def _box(self, rgb: np.ndarray):
        boxes, scores, _ = self.detector.run(rgb, 0, 0.0)
        if len(boxes) == 0:
            boxes, scores, _ = self.detector.run(rgb, 1, 0.0)
        if len(boxes):
            self._last_box = boxes[int(np.argmax(scores))]
        return self._last_box

    def landmarks(self, rgb: np.ndarray, *, upsample: int = UPSAMPLE) -> np.ndarray | None:
        """The 68 points. dlib gives whole pixels: found on the face's box enlarged ``upsample``
        times they are a fraction of a pixel (a head still to within a pixel, moving slowly,
        otherwise flips its points between neighbouring pixels: that is the ruler, not the
        face)."""
        import cv2
        import dlib

        box = self._box(rgb)
        if box is None:
            return None
        if upsample == 1:
            shape = self.shape(rgb, box)
            return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        pad = box.width() // 3
        height, width = rgb.shape[:2]
        x0, y0 = max(box.left() - pad, 0), max(box.top() - pad, 0)
        x1, y1 = min(box.right() + pad, width), min(box.bottom() + pad, height)
        crop = cv2.resize(
            np.ascontiguousarray(rgb[y0:y1, x0:x1]),
            None,
            fx=upsample,
            fy=upsample,
            interpolation=cv2.INTER_CUBIC,
        )
        scaled = dlib.rectangle(
            (box.left() - x0) * upsample,
            (box.top() - y0) * upsample,
            (box.right() - x0) * upsample,
            (box.bottom() - y0) * upsample,
        )
        shape = self.shape(crop, scaled)
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        return (points + 0.5) / upsample - 0.5 + [x0, y0]

    def embedding(self, rgb: np.ndarray) -> np.ndarray | None:
        box = self._box(rgb)
        if box is None:
            return None
        return np.array(self.encoder.compute_face_descriptor(rgb, self.aligner(rgb, box), 1))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the outer eye-corner distance (scale-free)."""
    gap = np.mean([np.linalg.norm(points[a] - points[b]) for a, b in INNER_LIP_PAIRS])
    eyes = np.linalg.norm(points[EYE_CORNERS[0]] - points[EYE_CORNERS[1]])
    return float(gap / max(eyes, 1e-6))


def loudness(samples: np.ndarray, rate: int, frames: int, fps: int) -> np.ndarray:
    """RMS amplitude of the audio under each video frame."""
    hop = rate / fps
    values = np.zeros(frames)
    for i in range(frames):
        chunk = samples[int(i * hop) : int((i + 1) * hop)]
        values[i] = float(np.sqrt(np.mean(chunk.astype(np.float64) ** 2))) if len(chunk) else 0.0
    return values


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``src`` mapped onto ``dst`` by the least-squares similarity transform (Umeyama)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.sign(np.linalg.det(u @ vt))
    correction = np.diag([1.0, d])
    rotation = u @ correction @ vt
    scale = np.trace(np.diag(sigma) @ correction) / max((a**2).sum() / len(src), 1e-12)
    return scale * a @ rotation.T + mu_d


def jitter(points: list[np.ndarray | None], silent: np.ndarray) -> tuple[float, float] | None:
    """Mean frame-to-frame motion of rigid landmarks in silence, head motion removed: in
    pixels, and as a share of the outer eye-corner distance."""
    moves, shares = [], []
    for i in range(1, len(points)):
        if not (silent[i] and silent[i - 1]) or points[i] is None or points[i - 1] is None:
            continue
        now, before = points[i][RIGID], points[i - 1][RIGID]
        aligned = _similarity(now, before)
        move = np.linalg.norm(aligned - before, axis=1).mean()
        moves.append(move)
        shares.append(move / np.linalg.norm(_eyes(points[i - 1])))
    return (float(np.mean(moves)), float(np.mean(shares))) if moves else None


def _eyes(points: np.ndarray) -> np.ndarray:
    return points[EYE_CORNERS[1]] - points[EYE_CORNERS[0]]


def mouth_sheet(frames: list[np.ndarray], points: list[np.ndarray | None], loud, path: Path):
    """The mouth at 100 % in SHEET_FRAMES frames of speech, left to right, one box for all."""
    spoken = [
        i for i in range(len(frames)) if loud[i] > 0.05 * loud.max() and points[i] is not None
    ]
    if not spoken:
        return None
    chosen = [
        spoken[round(k * (len(spoken) - 1) / (SHEET_FRAMES - 1))] for k in range(SHEET_FRAMES)
    ]
    mouths = np.vstack([points[i][48:68] for i in chosen])
    eyes = float(np.median([np.linalg.norm(_eyes(points[i])) for i in chosen]))
    (x0, y0), (x1, y1) = mouths.min(axis=0) - 0.2 * eyes, mouths.max(axis=0) + 0.2 * eyes
    height, width = frames[0].shape[:2]
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), width), min(int(y1), height)
    Image.fromarray(np.hstack([frames[i][y0:y1, x0:x1] for i in chosen])).save(path)
    return str(path)


def speech_track(folder: Path) -> tuple[Path, list[tuple[str, float, float]]]:
    """Festival speech of the sentences with silences, and its phoneme timings."""
    voice = get_voice_engine("festival")
    parts, phonemes, offset, rate = [], [], LEAD_IN, None
    for i, sentence in enumerate(SENTENCES):
        speech = voice.speak(sentence, [], str(folder / f"sentence{i}.wav"))
        samples, rate = read_wav(speech.wav_path)
        parts.append(samples)
        phonemes += [(p, s + offset, e + offset) for p, s, e in speech.phonemes]
        offset += len(samples) / rate + PAUSE
    silence = [np.zeros(round(seconds * rate), np.float32) for seconds in (LEAD_IN, PAUSE, TAIL)]
    track = np.concatenate([silence[0], parts[0], silence[1], parts[1], silence[2]])
    path = folder / "track.wav"
    write_wav(path, track, rate)
    return path, phonemes


def portraits(folder: Path) -> dict[str, tuple[Path, list[list[float]]]]:
    from skimage import data

    from engine.demo import write_demo_assets

    astronaut = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(astronaut)
    demo = write_demo_assets(folder / "demo")
    found = {
        "astronaut": (astronaut, inspect_portrait(astronaut).landmarks),
        "drawn_presenter": (Path(demo.portrait_path), demo.landmarks),
    }
    for path in sorted(PORTRAIT_FILES.glob("*.jpg")):
        found[path.stem] = (path, inspect_portrait(path).landmarks)
    return found


def measure(
    engine_name: str,
    portrait: Path,
    landmarks,
    track: Path,
    phonemes,
    size: int,
    weights_dir: str = "",
    sheet: Path | None = None,
) -> dict:
    engine = get_face_engine(engine_name, weights_dir=weights_dir)
    frames, engine_seconds = [], 0.0
    iterator = iter(
        engine.animate(str(portrait), landmarks, str(track), FPS, (size, size), phonemes=phonemes)
    )
    while True:
        started = time.perf_counter()
        frame = next(iterator, None)
        engine_seconds += time.perf_counter() - started
        if frame is None:
            break
        frames.append(frame)
    samples, rate = read_wav(track)
    loud = loudness(samples, rate, len(frames), FPS)
    measurer = Measurer()
    points = [measurer.landmarks(np.ascontiguousarray(f)) for f in frames]
    whole = [measurer.landmarks(np.ascontiguousarray(f), upsample=1) for f in frames]
    found = np.array([p is not None for p in points])
    opening = np.array([mouth_opening(p) if p is not None else np.nan for p in points])
    valid = found & np.isfinite(opening)
    lipsync = float(np.corrcoef(opening[valid], loud[valid])[0, 1]) if valid.sum() > 2 else None
    # Silence: quiet frames at least 3 frames away from any speech.
    quiet = loud < 0.01 * loud.max()
    silent = np.convolve((~quiet).astype(float), np.ones(7), mode="same") == 0
    reference = measurer.embedding(np.ascontiguousarray(load_rgb(portrait)))
    distances = []
    for frame in frames[:: max(1, len(frames) // 40)]:
        vector = measurer.embedding(np.ascontiguousarray(frame))
        if reference is not None and vector is not None:
            distances.append(float(np.linalg.norm(vector - reference)))
    moved, moved_whole = jitter(points, silent), jitter(whole, silent)
    return {
        "lipsync_r": None if lipsync is None else round(lipsync, 3),
        "identity_distance": round(float(np.mean(distances)), 3) if distances else None,
        "jitter_px": round(moved[0] * 512 / size, 3) if moved else None,
        "jitter_iod_percent": round(100 * moved[1], 3) if moved else None,
        "jitter_iod_percent_whole_pixels": round(100 * moved_whole[1], 3) if moved_whole else None,
        "mouth_sheet": mouth_sheet(frames, points, loud, sheet) if sheet else None,
        "fps": round(len(frames) / max(engine_seconds, 1e-9), 1),
        "frames": len(frames),
        "face_found_share": round(float(found.mean()), 3),
        "silent_frames": int(silent.sum()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="warp")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--weights-dir", default="", help="weights of the neural engine")
    parser.add_argument("--sheets", default="var/bench/face-sheets", help="contact sheets here")
    args = parser.parse_args(argv)
    sheets = Path(args.sheets)
    sheets.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="likeness-face-bench-") as tmp:
        folder = Path(tmp)
        track, phonemes = speech_track(folder)
        results = {
            name: measure(
                args.engine,
                path,
                landmarks,
                track,
                phonemes,
                args.size,
                args.weights_dir,
                sheet=sheets / f"{args.engine}-{name}.png",
            )
            for name, (path, landmarks) in portraits(folder).items()
        }
    keys = (
        "lipsync_r",
        "identity_distance",
        "jitter_px",
        "jitter_iod_percent",
        "fps",
    )
    mean = {}
    for key in keys:
        values = [r[key] for r in results.values() if r[key] is not None]
        mean[key] = round(float(np.mean(values)), 3) if values else None
    return {
        "engine": args.engine,
        "size": [args.size, args.size],
        "fps_video": FPS,
        "measured_with": "dlib HOG detector + 68-point landmarks + ResNet embedding",
        "portraits": results,
        "mean": mean,
        "goals": GOALS,
        "cpus": os.cpu_count(),
        "load_average_1min": {
            "before": round(load_before[0], 2),
            "after": round(os.getloadavg()[0], 2),
        },
    }


if __name__ == "__main__":
    print(json.dumps(main()))
