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
  every size compare;
- ``narrow_runs_per_row``: the mouth artifact figure. In frames where dlib finds the mouth open,
  along each row inside its inner-lip outline, the runs of at most 3 px of bright (teeth-like)
  or dark (cavity-like) pixels between pixels of the other kind: dark wedges between teeth (a
  jack-o'-lantern mouth) and white slivers of torn teeth in the cavity both count; a real open
  mouth has few. ``narrow_runs_portrait`` is the same figure on the portrait itself;
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
PORTRAIT_FILES = Path(__file__).resolve().parent.parent / "tests" / "data" / "portraits"
SHEET_FRAMES = 16
# dlib's 68-point layout (0-based): rigid points, inner lips, outer eye corners.
RIGID = list(range(0, 17)) + list(range(17, 27)) + list(range(27, 36))
INNER_LIP_PAIRS = [(61, 67), (62, 66), (63, 65)]
INNER_LIP = list(range(60, 68))
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

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        box = self._box(rgb)
        if box is None:
            return None
        shape = self.shape(rgb, box)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)

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


def _inner_mouth(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points[INNER_LIP]).astype(np.int32)], 1)
    return mask.astype(bool)


def narrow_runs(rgb: np.ndarray, points: np.ndarray) -> float | None:
    """Runs of at most 3 px of bright or dark pixels between pixels of the other kind, per
    row inside the inner-lip outline (see the module's docstring); None if it is too small."""
    mask = _inner_mouth(points, rgb.shape[:2])
    if mask.sum() < 30:
        return None
    light = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    top = np.percentile(light[mask], 98)
    kind = np.where(light > 0.6 * top, 1, np.where(light < 0.35 * top, -1, 0))
    runs = rows = 0
    for y in np.nonzero(mask.any(axis=1))[0]:
        row = kind[y][mask[y]]
        row = row[row != 0]  # the in-between shades do not break a run
        if len(row) < 5:
            continue
        rows += 1
        edges = np.flatnonzero(np.diff(row)) + 1
        lengths = np.diff(np.concatenate([[0], edges, [len(row)]]))
        inner = lengths[1:-1]  # a run with the other kind on both sides
        runs += int((inner <= 3).sum())
    return runs / rows if rows else None


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
    found = np.array([p is not None for p in points])
    opening = np.array([mouth_opening(p) if p is not None else np.nan for p in points])
    valid = found & np.isfinite(opening)
    lipsync = float(np.corrcoef(opening[valid], loud[valid])[0, 1]) if valid.sum() > 2 else None
    # Silence: quiet frames at least 3 frames away from any speech.
    quiet = loud < 0.01 * loud.max()
    silent = np.convolve((~quiet).astype(float), np.ones(7), mode="same") == 0
    still = measurer.landmarks(np.ascontiguousarray(frames[0]))
    runs = [
        narrow_runs(frames[i], points[i])
        for i in range(len(frames))
        if points[i] is not None and opening[i] > 0.08
    ]
    runs = [r for r in runs if r is not None]
    reference = measurer.embedding(np.ascontiguousarray(load_rgb(portrait)))
    distances = []
    for frame in frames[:: max(1, len(frames) // 40)]:
        vector = measurer.embedding(np.ascontiguousarray(frame))
        if reference is not None and vector is not None:
            distances.append(float(np.linalg.norm(vector - reference)))
    moved = jitter(points, silent)
    own = narrow_runs(frames[0], still) if still is not None else None
    return {
        "lipsync_r": None if lipsync is None else round(lipsync, 3),
        "identity_distance": round(float(np.mean(distances)), 3) if distances else None,
        "jitter_px": round(moved[0] * 512 / size, 3) if moved else None,
        "jitter_iod_percent": round(100 * moved[1], 3) if moved else None,
        "narrow_runs_per_row": round(float(np.mean(runs)), 3) if runs else None,
        "narrow_runs_portrait": None if own is None else round(own, 3),
        "open_frames_measured": len(runs),
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
        "narrow_runs_per_row",
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
