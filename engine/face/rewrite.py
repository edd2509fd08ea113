"""Face engine "footage": the subject's own video with mouths chosen by the sounds spoken.

After Video Rewrite (Bregler, Covell and Slaney, 1997), on a CPU:

- **Analysis, once per footage** (``analyse_footage``, cached by the footage's hash beside the
  segment cache): per frame the face's 478 landmarks (mediapipe, tracking), a similarity
  transform to a canonical face (outer eye corners at (-0.5, 0) and (0.5, 0) of the eye
  distance), the lower face cut out in that canonical frame (``MouthCrops``), the mouth's shape
  (lip gap and width), a small grey thumbnail of the mouth for joining units, and the footage's
  phones recognised with pocketsphinx (all-phone decoding; its en-us model ships in the package).
- **Background**: the footage itself, so head motion, blinks and light are its own. Each
  segment starts at one still frame of the footage, plays forward and comes back to it, turning
  where the head is stillest, so segments join without a jump.
- **Mouths**: for each phone of the speech, a stretch of the footage where the same or a
  similar phone was spoken (its viseme), chosen with its neighbours by Viterbi over a target cost
  (phone, context, duration, mouth opening) and a concatenation cost (how well one stretch's last
  mouth meets the next one's first; none when they follow each other in the footage). Each is
  stretched to the phone's time, warped onto the background's face by the two transforms and
  blended in under a feathered mask with its light matched to the background's.
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import engine.face.topology as T
from engine.audio import read_wav
from engine.errors import NoFaceFound
from engine.face.drive import PHONEME_OPENING, frame_count
from engine.face.footage import _probe, footage_audio, mouth_opening, scan_rate
from engine.face.framing import Framing, frame_portrait
from engine.tools import require_tool

ANALYSIS_VERSION = 5
WORK_HEIGHT = 480  # the footage is analysed and shown from frames at most this tall
# The lower face in canonical units (outer eye corners 1 apart on y = 0; the mouth is about 0.6
# below them and the chin about 1.1): the crop kept per frame.
CROP_X = (-0.8, 0.8)
CROP_Y = (0.15, 1.45)
# Crop pixels per eye distance: the footage's own (its first face's eye distance), so a mouth
# is cut out and pasted back at about its own resolution; within these bounds.
CROP_SCALE_RANGE = (32, 160)
THUMB = (16, 12)  # the mouth's grey thumbnail (width, height) for concatenation costs
MAX_LEG_SECONDS = 8.0  # the background plays at most this far from its start before turning
CANDIDATES = 24  # footage units kept per phone for the Viterbi search
JUMP_COST = 0.4  # joining two stretches that do not follow each other in the footage
OPENING_WEIGHT = 4.0  # target cost of a unit's mouth opening off the wanted one (0..1 scale)
PHONE_WEIGHT = 1.0  # of a unit of another phone (0.3 of it when it looks the same)
CONTEXT_WEIGHT = 0.25  # of each neighbouring phone that differs

# Phones that look alike on the lips (visemes), festival's radio phone set and pocketsphinx's.
VISEMES = {
    "sil": ["sil", "pau", "h#", "brth", "#"],
    "lips": ["p", "b", "m"],
    "teeth_lip": ["f", "v"],
    "tongue_teeth": ["th", "dh"],
    "alveolar": ["t", "d", "n", "s", "z", "l"],
    "postalveolar": ["sh", "zh", "ch", "jh"],
    "velar": ["k", "g", "ng", "hh"],
    "round": ["w", "uw", "uh", "ow", "oy", "r"],
    "spread": ["iy", "ih", "ey", "eh", "y"],
    "open": ["aa", "ae", "ah", "ao", "aw", "ay", "ax", "er"],
}
VISEME_OF = {phone: name for name, phones in VISEMES.items() for phone in phones}

_analysis_lock = threading.Lock()


def phone_of(label: str) -> str:
    """A phone label from festival or pocketsphinx in one lower-case set ("sil" for pauses and
    noises)."""
    label = label.lower().strip()
    if label.startswith("+") or label in VISEMES["sil"]:
        return "sil"
    return label.rstrip("012")


def phone_distance(a: str, b: str) -> float:
    """0 for the same phone, 0.3 for another phone that looks the same, 1 otherwise (a pause and
    closed lips are near: both show a closed mouth)."""
    if a == b:
        return 0.0
    va, vb = VISEME_OF.get(a, "open"), VISEME_OF.get(b, "open")
    if va == vb:
        return 0.3
    if {va, vb} == {"sil", "lips"}:
        return 0.5
    return 1.0


@dataclass
class FootageAnalysis:
    """What a footage avatar renders from; see the module's docstring. Times in footage seconds,
    pixels in frames scaled to ``work_size``."""

    fps: float
    work_size: tuple[int, int]  # (width, height) the frames are analysed and shown at
    valid: np.ndarray  # (N,) bool: a face was tracked in the frame
    points: np.ndarray  # (N, 478, 2) float32 landmarks
    canon: np.ndarray  # (N, 4) float32 (centre x, centre y, eye distance, angle radians), smoothed
    shape: np.ndarray  # (N, 2) float32 lip gap and mouth width over the eye distance
    thumbs: np.ndarray  # (N, h*w) float32 grey mouth thumbnails, 0..1
    mouths: MouthCrops  # the lower faces in the canonical frame, RGB uint8 by index
    still: np.ndarray  # (N,) float32 head speed, eye distances per second (low = still)
    phones: list[tuple[str, float, float]]
    crop_scale: float = 72.0  # crop pixels per eye distance

    @property
    def count(self) -> int:
        return len(self.valid)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "version": ANALYSIS_VERSION,
            "fps": self.fps,
            "work_size": list(self.work_size),
            "valid": self.valid.astype(int).tolist(),
            "still": [round(float(v), 4) for v in self.still],
            "phones": [[p, round(s, 3), round(e, 3)] for p, s, e in self.phones],
            "crop_scale": self.crop_scale,
        }
        (folder / "analysis.json").write_text(json.dumps(meta))
        for name in ("points", "canon", "shape", "thumbs"):
            np.save(folder / f"{name}.npy", getattr(self, name))
        self.mouths.save(folder)

    @classmethod
    def load(cls, folder: Path) -> FootageAnalysis | None:
        """The analysis kept in ``folder``, or None when there is none of this version."""
        try:
            meta = json.loads((folder / "analysis.json").read_text())
            if meta.get("version") != ANALYSIS_VERSION:
                return None
            arrays = {
                name: np.load(folder / f"{name}.npy", mmap_mode="r")
                for name in ("points", "canon", "shape", "thumbs")
            }
            arrays["mouths"] = MouthCrops.load(folder)
        except (OSError, ValueError, KeyError):
            return None
        return cls(
            fps=float(meta["fps"]),
            work_size=tuple(meta["work_size"]),
            valid=np.array(meta["valid"], bool),
            still=np.array(meta["still"], np.float32),
            phones=[(p, float(s), float(e)) for p, s, e in meta["phones"]],
            crop_scale=float(meta["crop_scale"]),
            **arrays,
        )


class MouthCrops:
    """The footage's lower-face crops, one JPEG each (quality 95) end to end, decoded when
    used: five minutes of crops are some 40 MB where raw pixels took about ten times that."""

    QUALITY = 95

    def __init__(self, data: np.ndarray, offsets: np.ndarray):
        self.data, self.offsets = data, offsets  # offsets: N + 1 byte positions in data

    @classmethod
    def encode_one(cls, rgb: np.ndarray) -> bytes:
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, cls.QUALITY])
        if not ok:
            raise ValueError("a mouth crop could not be encoded")
        return jpeg.tobytes()

    @classmethod
    def join(cls, encoded: Sequence[bytes]) -> MouthCrops:
        sizes = np.array([len(e) for e in encoded], np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        return cls(np.frombuffer(b"".join(encoded), np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> np.ndarray:
        jpeg = np.asarray(self.data[self.offsets[index] : self.offsets[index + 1]])
        return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def save(self, folder: Path) -> None:
        np.save(folder / "mouths.npy", self.data)
        np.save(folder / "mouth-offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path) -> MouthCrops:
        return cls(
            np.load(folder / "mouths.npy", mmap_mode="r"), np.load(folder / "mouth-offsets.npy")
        )


def work_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, WORK_HEIGHT / height)
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def _frames(
    path: Path, size: tuple[int, int], fps: float, start: float = 0.0, seconds: float = 0.0
):
    """RGB frames of the footage at ``size`` and a constant ``fps`` (frames repeated or dropped
    as the timestamps say), from ``start`` seconds for ``seconds`` (0: all), one at a time."""
    width, height = size
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path), "-an"]
    if seconds > 0:
        cmd += ["-t", f"{seconds:.3f}"]
    chain = f"fps={fps:g}:start_time=0,scale={width}:{height},format=rgb24"
    cmd += ["-vf", chain, "-f", "rawvideo", "pipe:1"]
    frame_bytes = width * height * 3
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:  # nosec B603: an argument list with the tool's absolute path, no shell
        try:
            while True:
                data = proc.stdout.read(frame_bytes)
                if len(data) < frame_bytes:
                    break
                yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
        finally:
            proc.stdout.close()
            proc.kill()


def _tracker():
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=1, refine_landmarks=True
    )


def canonical_transform(points: np.ndarray) -> np.ndarray:
    """(centre x, centre y, eye distance, angle) of the outer eye corners."""
    left, right = points[33], points[263]
    centre = (left + right) / 2
    delta = right - left
    return np.array([centre[0], centre[1], np.hypot(*delta), np.arctan2(delta[1], delta[0])])


def crop_matrix(canon: Sequence[float], scale: float) -> np.ndarray:
    """2x3 affine from crop pixels to frame pixels for a face at ``canon``; ``scale``: crop
    pixels per eye distance."""
    cx, cy, distance, angle = canon
    cos, sin = np.cos(angle) * distance, np.sin(angle) * distance
    # crop (u, v) -> canonical (CROP_X[0] + u / S, CROP_Y[0] + v / S) -> frame
    rotate = np.array([[cos, -sin], [sin, cos]]) / scale
    offset = np.array([cx, cy]) + np.array([[cos, -sin], [sin, cos]]) @ [CROP_X[0], CROP_Y[0]]
    return np.hstack([rotate, offset[:, None]])


def crop_size(scale: float) -> tuple[int, int]:
    return round((CROP_X[1] - CROP_X[0]) * scale), round((CROP_Y[1] - CROP_Y[0]) * scale)


def recognise_phones(wav: str | Path) -> list[tuple[str, float, float]]:
    """The phones heard in ``wav`` (16 kHz mono) with start and end seconds: pocketsphinx's
    all-phone decoding with its en-us model (inside the package, BSD). Its labels are often
    wrong, yet its acoustic segments chose better mouths than the words Moonshine hears
    force-aligned by pocketsphinx (``engine.voice.phones.align_phones``, nearly every word
    right on the weekly-address avatar): opening against loudness on bench.face_quality's
    track 0.62 against 0.41, against the real held-out mouth 0.19 against 0.08."""
    from pocketsphinx import Decoder, get_model_path

    model = get_model_path()
    decoder = Decoder(
        hmm=os.path.join(model, "en-us", "en-us"),
        allphone=os.path.join(model, "en-us", "en-us-phone.lm.bin"),
        beam=1e-20,
        pbeam=1e-20,
        lw=2.0,
        logfn=os.devnull,
    )
    samples, rate = read_wav(wav)
    if rate != 16000:
        from engine.audio import resampled

        samples = resampled(samples, rate, 16000)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return [
        (phone_of(seg.word), seg.start_frame / 100, (seg.end_frame + 1) / 100)
        for seg in decoder.seg()
    ]


def analyse_footage(
    path: str | Path, folder: str | Path, progress: Callable[[float], None] | None = None
) -> FootageAnalysis:
    """Analyse the footage at ``path`` (see the module's docstring) and keep it in ``folder``.
    NoFaceFound when no frame shows a face."""
    path, folder = Path(path), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = _probe(path)
    size = work_size(probe.width, probe.height)
    fps = scan_rate(probe)  # constant, so that frame i is at i / fps seconds
    tracker = _tracker()
    scale, crop_w, crop_h = 0.0, 0, 0
    valid, points = [], []
    encoded: list[bytes | None] = []  # JPEG of each frame's crop; None: no face there
    thumbs: list[np.ndarray | None] = []
    blank = np.zeros((478, 2), np.float32)
    total = max(1, round((probe.seconds or 1.0) * fps))
    try:
        for i, frame in enumerate(_frames(path, size, fps)):
            found = tracker.process(frame).multi_face_landmarks
            if found:
                pts = np.array([[p.x * size[0], p.y * size[1]] for p in found[0].landmark])
                points.append(pts.astype(np.float32))
                valid.append(True)
                canon = canonical_transform(pts)
                if not scale:  # the first face sets the crops' resolution
                    scale = float(np.clip(round(canon[2]), *CROP_SCALE_RANGE))
                    crop_w, crop_h = crop_size(scale)
                matrix = cv2.invertAffineTransform(crop_matrix(canon, scale))
                crop = cv2.warpAffine(
                    frame,
                    matrix,
                    (crop_w, crop_h),
                    flags=cv2.INTER_AREA,
                    borderMode=cv2.BORDER_REPLICATE,
                )
                encoded.append(MouthCrops.encode_one(crop))
                thumbs.append(_thumb(crop))
            else:
                points.append(blank)
                valid.append(False)
                encoded.append(None)
                thumbs.append(None)
            if progress is not None and i % 25 == 0:
                progress(min(0.9, 0.9 * i / total))
    finally:
        tracker.close()
    if not any(valid):
        raise NoFaceFound(f"No face was found in the footage {path.name}.")
    valid_arr = np.array(valid, bool)
    points_arr = np.stack(points)
    canon = np.stack(
        [canonical_transform(p) if v else np.zeros(4) for p, v in zip(points, valid, strict=True)]
    )
    canon = _fill_and_smooth(canon, valid_arr)
    shape = np.zeros((len(valid), 2), np.float32)
    for i in np.flatnonzero(valid_arr):
        pts = points_arr[i]
        shape[i] = (
            mouth_opening(pts),
            np.linalg.norm(pts[T.MOUTH_RIGHT] - pts[T.MOUTH_LEFT]) / max(canon[i, 2], 1e-6),
        )
    # Frames without a face are never chosen; they keep a grey crop of the size of the rest.
    grey = np.full((crop_h, crop_w, 3), 128, np.uint8)
    mouths = MouthCrops.join([e or MouthCrops.encode_one(grey) for e in encoded])
    no_thumb = np.zeros(THUMB[0] * THUMB[1], np.float32)
    thumbs_arr = np.stack([t if t is not None else no_thumb for t in thumbs])
    still = _head_speed(canon, fps)
    phones: list[tuple[str, float, float]] = []
    if probe.has_audio:
        wav = folder / "sound.wav"
        footage_audio(path, wav)
        phones = recognise_phones(wav)
        wav.unlink()
    analysis = FootageAnalysis(
        fps=fps,
        work_size=size,
        valid=valid_arr,
        points=points_arr,
        canon=canon.astype(np.float32),
        shape=shape,
        thumbs=thumbs_arr,
        mouths=mouths,
        still=still,
        phones=phones,
        crop_scale=scale,
    )
    analysis.save(folder)
    if progress is not None:
        progress(1.0)
    return analysis


def _fill_and_smooth(canon: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Transforms of frames without a face taken from their neighbours; all smoothed over five
    frames (landmarks tremble by a fraction of a pixel; the head does not)."""
    index = np.arange(len(canon))
    good = np.flatnonzero(valid)
    filled = np.stack([np.interp(index, good, canon[good, k]) for k in range(4)], axis=1)
    kernel = np.array([1, 2, 3, 2, 1], np.float64) / 9
    padded = np.pad(filled, ((2, 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(4)], axis=1)


def _head_speed(canon: np.ndarray, fps: float) -> np.ndarray:
    """How fast the head moves at each frame, eye distances per second (position, scale, turn)."""
    distance = np.maximum(canon[:, 2:3], 1e-6)
    motion = np.diff(canon[:, :2], axis=0, prepend=canon[:1, :2]) / distance
    turn = np.diff(canon[:, 3], prepend=canon[0, 3])[:, None]
    speed = np.linalg.norm(np.hstack([motion, turn]), axis=1) * fps
    return np.convolve(speed, np.ones(5) / 5, mode="same").astype(np.float32)


def _thumb(mouth: np.ndarray) -> np.ndarray:
    """The mouth's middle as a small grey image, 0..1."""
    h, w = mouth.shape[:2]
    middle = mouth[int(h * 0.2) : int(h * 0.75), int(w * 0.2) : int(w * 0.8)]
    grey = cv2.cvtColor(np.ascontiguousarray(middle), cv2.COLOR_RGB2GRAY)
    return (cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).ravel() / 255.0).astype(
        np.float32
    )


def blend_mask(analysis: FootageAnalysis) -> np.ndarray:
    """Where the mouth is pasted, in crop pixels: an ellipse from under the nose to the chin and
    a little wider than the mouth (the footage's median face), feathered."""
    scale = analysis.crop_scale
    crop_w, crop_h = crop_size(scale)
    valid = np.flatnonzero(analysis.valid)[:: max(1, int(analysis.valid.sum()) // 200)]
    canonical = np.median([_canonical(analysis.points[i]) for i in valid], axis=0)
    nose, upper_lip, chin = canonical[T.NOSE_TIP], canonical[0], canonical[T.CHIN]
    half_width = 0.8 * abs(canonical[T.MOUTH_RIGHT][0] - canonical[T.MOUTH_LEFT][0])
    top = nose[1] + 0.3 * (upper_lip[1] - nose[1])
    bottom = chin[1] + 0.06
    centre_x = (canonical[T.MOUTH_LEFT][0] + canonical[T.MOUTH_RIGHT][0]) / 2

    def to_crop(x: float, y: float) -> tuple[float, float]:
        return (x - CROP_X[0]) * scale, (y - CROP_Y[0]) * scale

    cx, cy = to_crop(centre_x, (top + bottom) / 2)
    axes = (half_width * scale, (bottom - top) / 2 * scale)
    mask = np.zeros((crop_h, crop_w), np.float32)
    cv2.ellipse(mask, (round(cx), round(cy)), (round(axes[0]), round(axes[1])), 0, 0, 360, 1.0, -1)
    feather = 0.1 * scale
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=max(1, round(feather / 3)))
    return cv2.GaussianBlur(mask, (0, 0), feather / 2)


def _canonical(points: np.ndarray) -> np.ndarray:
    """Landmarks in the canonical frame (outer eye corners at (-0.5, 0) and (0.5, 0))."""
    cx, cy, distance, angle = canonical_transform(points)
    cos, sin = np.cos(angle), np.sin(angle)
    shifted = points - (cx, cy)
    return np.stack(
        [shifted[:, 0] * cos + shifted[:, 1] * sin, -shifted[:, 0] * sin + shifted[:, 1] * cos],
        axis=1,
    ) / max(distance, 1e-6)


# -- unit selection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A stretch of the footage where one phone was spoken."""

    phone: str
    start: float  # footage seconds
    end: float
    before: str  # the phones around it
    after: str


def footage_units(analysis: FootageAnalysis) -> list[Unit]:
    phones = analysis.phones
    units = []
    for i, (phone, start, end) in enumerate(phones):
        before = phones[i - 1][0] if i > 0 else "sil"
        after = phones[i + 1][0] if i + 1 < len(phones) else "sil"
        if end > start:
            units.append(Unit(phone, start, end, before, after))
    return units


def select_units(
    analysis: FootageAnalysis, speech: Sequence[tuple[str, float, float]]
) -> list[Unit]:
    """One footage unit per phone of ``speech`` ((phone, start, end) seconds), chosen by Viterbi
    over target and concatenation costs (see the module's docstring)."""
    units = footage_units(analysis)
    if not units:
        raise NoFaceFound("The footage has no speech to take mouths from.")
    fps = analysis.fps
    count = analysis.count
    opening = analysis.shape[:, 0]
    valid = analysis.valid
    low, high = np.percentile(opening[valid], [5, 95]) if valid.any() else (0.0, 1.0)
    span = max(float(high - low), 1e-3)
    first = np.array([min(count - 1, round(u.start * fps)) for u in units])
    last = np.array(
        [min(count - 1, max(round(u.end * fps) - 1, a)) for u, a in zip(units, first, strict=True)]
    )
    unit_open = np.array(
        [float(opening[a : b + 1].mean()) for a, b in zip(first, last, strict=True)]
    )
    unit_open = np.clip((unit_open - low) / span, 0, 1)
    unit_valid = np.array([bool(valid[a : b + 1].all()) for a, b in zip(first, last, strict=True)])
    durations = np.array([u.end - u.start for u in units])
    thumbs = analysis.thumbs
    # The usual change of the thumbnail from one frame to the next: what a join is measured in.
    steps = np.linalg.norm(np.diff(thumbs[valid], axis=0), axis=1)
    step = max(float(np.median(steps)) if len(steps) else 1.0, 1e-3)

    targets = [phone_of(p) for p, _, _ in speech]
    layers: list[np.ndarray] = []
    target_costs: list[np.ndarray] = []
    for i, (phone, start, end) in enumerate(speech):
        phone = targets[i]
        before = targets[i - 1] if i > 0 else "sil"
        after = targets[i + 1] if i + 1 < len(targets) else "sil"
        # The recognised phones of real footage are often wrong (all-phone decoding without
        # words), so the mouth's measured opening weighs most and the labels break ties.
        # The phone's typical opening: the speech's loudness envelope (drive.mouth_openness)
        # chose worse here, festival keeps it high through a sentence (r 0.29 against 0.62
        # with loudness on bench.face_quality's track).
        wanted = PHONEME_OPENING.get(phone, 0.6)
        cost = PHONE_WEIGHT * np.array([phone_distance(phone, u.phone) for u in units])
        cost += CONTEXT_WEIGHT * np.array([phone_distance(before, u.before) for u in units])
        cost += CONTEXT_WEIGHT * np.array([phone_distance(after, u.after) for u in units])
        cost += 0.2 * np.abs(np.log(np.maximum(durations, 0.01) / max(end - start, 0.01)))
        cost += OPENING_WEIGHT * np.abs(unit_open - wanted)
        cost[~unit_valid] += 10.0
        keep = np.argsort(cost)[:CANDIDATES]
        layers.append(keep)
        target_costs.append(cost[keep])

    # Viterbi: best total cost to each candidate of each phone.
    total = target_costs[0].copy()
    back: list[np.ndarray] = []
    for i in range(1, len(layers)):
        prev, cur = layers[i - 1], layers[i]
        follows = first[cur][None, :] == last[prev][:, None] + 1
        join = np.linalg.norm(
            thumbs[last[prev]][:, None, :] - thumbs[first[cur]][None, :, :], axis=2
        )
        concat = np.where(follows, 0.0, JUMP_COST + join / step * 0.25)
        scores = total[:, None] + concat
        back.append(np.argmin(scores, axis=0))
        total = scores.min(axis=0) + target_costs[i]
    choice = [int(np.argmin(total))]
    for pointers in reversed(back):
        choice.append(int(pointers[choice[-1]]))
    choice.reverse()
    return [units[layers[i][c]] for i, c in enumerate(choice)]


def mouth_track(
    analysis: FootageAnalysis, speech: Sequence[tuple[str, float, float]], frames: int, fps: int
) -> np.ndarray:
    """The footage frame whose mouth each output frame shows (float, for blending)."""
    speech = [s for s in speech if s[2] > s[1]]
    if not speech:
        return np.full(frames, np.nan)
    chosen = select_units(analysis, speech)
    starts = np.array([s for _, s, _ in speech])
    track = np.empty(frames)
    for t in range(frames):
        time = (t + 0.5) / fps
        i = int(np.clip(np.searchsorted(starts, time, side="right") - 1, 0, len(speech) - 1))
        _, start, end = speech[i]
        share = np.clip((time - start) / max(end - start, 1e-6), 0.0, 1.0)
        unit = chosen[i]
        track[t] = (unit.start + share * (unit.end - unit.start)) * analysis.fps - 0.5
    return np.clip(track, 0, analysis.count - 1)


# -- background ---------------------------------------------------------------------------------


def start_frame(analysis: FootageAnalysis) -> int:
    """Where every segment starts and ends: the stillest frame with a face in the footage's
    first third (a still head, so turning there is not seen)."""
    count = analysis.count
    candidates = np.flatnonzero(analysis.valid[: max(1, count // 3)])
    if not len(candidates):
        candidates = np.flatnonzero(analysis.valid)
    return int(candidates[np.argmin(analysis.still[candidates])])


def background_track(analysis: FootageAnalysis, frames: int, fps: int) -> np.ndarray:
    """The footage frame each output frame shows: out from the start frame and back, in legs of
    at most MAX_LEG_SECONDS, each turning at the stillest moment near its end."""
    start = start_frame(analysis)
    ffps = analysis.fps
    room = max(1, analysis.count - 1 - start)
    seconds = frames / fps
    legs = 2 * max(1, int(np.ceil(seconds / (2 * min(MAX_LEG_SECONDS, room / ffps)))))
    leg = seconds / legs  # output seconds per leg
    track = np.empty(frames)
    turns = []
    for k in range(legs // 2):
        aim = start + leg * ffps * (1.0 + 0.1 * ((k % 3) - 1))  # vary the turns a little
        low, high = round(start + 0.85 * (aim - start)), round(start + 1.15 * (aim - start))
        low, high = max(start + 1, low), min(analysis.count - 1, max(high, low + 1))
        window = np.arange(low, high + 1)
        turns.append(int(window[np.argmin(analysis.still[window])]) if len(window) else start)
    for t in range(frames):
        time = (t + 0.5) / fps
        k = min(int(time / leg), legs - 1)
        share = (time - k * leg) / leg
        turn = turns[k // 2]
        share = share if k % 2 == 0 else 1.0 - share
        track[t] = start + share * (turn - start)
    return track


# -- the engine ---------------------------------------------------------------------------------


class FootageFaceEngine:
    """The footage face engine; ``animate`` yields RGB uint8 frames of ``size`` (width, height)."""

    name = "footage"

    def __init__(self, footage_path: str = "", analysis_dir: str = ""):
        self.footage_path = footage_path
        self.analysis_dir = analysis_dir

    def analysis(self) -> FootageAnalysis:
        if not self.footage_path:
            raise NoFaceFound("The footage face engine was given no footage.")
        folder = Path(self.analysis_dir) if self.analysis_dir else None
        with _analysis_lock:
            if folder is not None and (found := FootageAnalysis.load(folder)) is not None:
                return found
            if folder is None:  # kept as long as this engine, then removed
                import tempfile

                self._scratch = tempfile.TemporaryDirectory(prefix="likeness-footage-")
                folder = Path(self._scratch.name)
                self.analysis_dir = str(folder)
            return analyse_footage(self.footage_path, folder)

    def animate(
        self,
        portrait_path: str,
        landmarks: Sequence[Sequence[float]],
        audio_wav: str,
        fps: int,
        size: tuple[int, int],
        words: Sequence[tuple[str, float, float]] | None = None,
        phonemes: Sequence[tuple[str, float, float]] | None = None,
        progress: Callable[[float], None] | None = None,
        motion: str = "natural",
    ) -> Iterator[np.ndarray]:
        # The footage's own motion is kept in every motion setting (it is the subject's own).
        del portrait_path, landmarks, words, motion
        analysis = self.analysis()
        samples, rate = read_wav(audio_wav)
        frames = frame_count(len(samples) / rate, fps)
        width, height = size
        framing = frame_portrait(
            analysis.points[start_frame(analysis)], *analysis.work_size, width, height
        )
        background = background_track(analysis, frames, fps)
        # Speech without timings (the command line's audio): its phones are recognised.
        speech = list(phonemes) if phonemes else recognise_phones(audio_wav)
        mouths = mouth_track(analysis, speech, frames, fps)
        pictures = self._pictures(analysis, background, framing)
        mask = blend_mask(analysis)
        for t in range(frames):
            if progress is not None and t % 5 == 0:
                progress(t / frames)
            b = round(background[t])
            frame = pictures[b].copy()
            if not np.isnan(mouths[t]):
                paste_mouth(frame, analysis, b, mouths[t], framing, mask)
            yield frame
        if progress is not None:
            progress(1.0)

    def _pictures(
        self, analysis: FootageAnalysis, track: np.ndarray, framing: Framing
    ) -> dict[int, np.ndarray]:
        """The background frames the track shows, framed to the output size."""
        needed = sorted({round(v) for v in track})
        first, last = needed[0], needed[-1]
        ffps = analysis.fps
        pictures: dict[int, np.ndarray] = {}
        wanted = set(needed)
        source = _frames(
            Path(self.footage_path),
            analysis.work_size,
            ffps,
            start=first / ffps,
            seconds=(last - first + 2) / ffps,
        )
        for offset, frame in enumerate(source):
            index = first + offset
            if index in wanted:
                pictures[index] = framing.apply(frame)
            if index >= last:
                break
        for index in needed:  # a frame the decoder did not give back: its nearest neighbour
            if index not in pictures:
                nearest = min(pictures, key=lambda k: abs(k - index)) if pictures else None
                if nearest is None:
                    raise NoFaceFound("The footage's frames could not be read.")
                pictures[index] = pictures[nearest]
        return pictures


def paste_mouth(
    frame: np.ndarray,
    analysis: FootageAnalysis,
    background: int,
    source: float,
    framing: Framing,
    mask: np.ndarray,
) -> None:
    """Blend the mouth of footage frame ``source`` (fractional: two frames mixed) into ``frame``
    (the background frame ``background`` after ``framing``), in place."""
    lo = int(np.floor(source))
    hi = min(lo + 1, analysis.count - 1)
    share = float(source - lo)
    crop = analysis.mouths[lo].astype(np.float32)
    if share > 0.05 and hi != lo:
        crop = (1 - share) * crop + share * analysis.mouths[hi].astype(np.float32)
    # crop pixels -> work pixels (the background's face) -> output pixels
    place = np.vstack([crop_matrix(analysis.canon[background], analysis.crop_scale), [0, 0, 1]])
    matrix = (np.vstack([framing.matrix, [0, 0, 1]]) @ place)[:2]
    height, width = frame.shape[:2]
    crop_h, crop_w = mask.shape
    corners = np.array([[0, 0], [crop_w, 0], [0, crop_h], [crop_w, crop_h]], np.float64)
    mapped = corners @ matrix[:, :2].T + matrix[:, 2]
    x0, y0 = np.floor(mapped.min(axis=0)).astype(int)
    x1, y1 = np.ceil(mapped.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return
    local = matrix.copy()
    local[:, 2] -= (x0, y0)
    box = (x1 - x0, y1 - y0)
    patch = cv2.warpAffine(
        crop, local, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    alpha = cv2.warpAffine(mask, local, box, flags=cv2.INTER_LINEAR)[..., None]
    region = frame[y0:y1, x0:x1].astype(np.float32)
    # Match the light: the difference between background and mouth where the mask fades,
    # spread smoothly inwards (a normalised convolution; close to Poisson blending's membrane),
    # so the pasted skin takes the background's light and keeps its own detail.
    ring = ((alpha[..., 0] > 0.02) & (alpha[..., 0] < 0.9)).astype(np.float32)
    if ring.sum() > 20:
        sigma = max(2.0, 0.2 * min(box))
        weight = cv2.GaussianBlur(ring, (0, 0), sigma)[..., None]
        offset = cv2.GaussianBlur((region - patch) * ring[..., None], (0, 0), sigma)
        patch += np.clip(offset / np.maximum(weight, 1e-3), -40, 40)
    blended = region * (1 - alpha) + patch * alpha
    frame[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
