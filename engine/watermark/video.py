"""Invisible video watermark: a 64-bit payload on a chroma axis of every frame.

Design (why each part is there):
- The carrier is chroma, not luma: at the same RGB error (PSNR), photos have far less texture in
  chroma than in luma at the mark's scale, so the picture itself drowns the mark much less
  (measured on busy photos: picture-to-mark ratio per cell 0-1.4 in Cr against 0.6-4.5 in luma;
  a grayscale picture has none at all). Of the chroma axes, Cb + Cr (magenta-green) is the
  quietest: natural pictures vary warm-to-cool, so their Cb and Cr move against each other and
  largely cancel on it (ratio 0.3-0.6 where Cr alone gave 0.5-0.9). Luma is left unchanged.
  Codecs keep chroma at half resolution, so the cells are twice as big as luma would need.
- The mark is a smooth pseudo-random tile of GRID x GRID cells, repeated over the frame. The cell
  size follows the frame size (1/32 of the shorter side), so the mark sits in low-to-mid spatial
  frequencies that survive H.264 at high crf and downscaling.
- Two layers are added: a *sync* layer (keyed, payload-independent) that lets the detector find the
  scale and the tile offset after scaling and cropping, and a *data* layer: the payload + CRC-16,
  K=7 rate-1/3 convolutional code (258 chips, 2 tail chips punctured) in 256 cells, scrambled.
- The tile is the same in every frame, so frame-rate changes and trims do not matter, and the
  detector averages all frames it reads before looking (compression noise averages out).
- Embedding is informed: the marker reads, once a second, the picture's own cell values the way
  the detector will and cancels half of them at the same energy (see ``VideoWatermarker``).
  Between those reads it is one saturating add and subtract per frame.
- Detection whitens the chroma plane (the picture's own prediction removed, each pixel divided
  by its local variance: an inverse-variance weight, so busy regions count less than quiet
  ones), tries scales (log steps), folds the image into one tile, finds the sync peak by FFT
  correlation, then reads the cells and decodes. A payload is reported only when the sync peak
  is far above the noise (z-score) *and* the CRC matches, so unmarked video yields nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from engine.watermark.coding import (
    RATE_THIRD,
    coded_length,
    decode_payload_raw,
    encode_payload,
    int_to_bits,
)

PAYLOAD_BITS = 64
GRID = 16  # cells per tile side
CANON_CELL = 8  # pixels per cell in the canonical tile the detector works in
CANON_TILE = GRID * CANON_CELL
CELLS_PER_SIDE = 32  # the cell is this fraction of the frame's shorter side
STRENGTH = 2.4  # RMS of the mark over R, G and B in 8-bit levels (PSNR about 40.4 dB)
SYNC_WEIGHT = 0.8  # the sync layer's amplitude relative to the data layer's
# RGB change for one unit of Cb + Cr (BT.601: Cr moves R and G, Cb moves B and G; luma stays),
# scaled to unit RMS over the three channels so that ``STRENGTH`` is the RGB error.
_RGB_PER_CB_CR = np.array([1.402, -0.714 - 0.344, 1.772])
CARRIER_RGB = _RGB_PER_CB_CR / np.sqrt((_RGB_PER_CB_CR**2).mean())
# (Cb + Cr) / 2 of 8-bit RGB (BT.601, full range: 128 for grey), the plane the detector reads.
RGB_TO_CHROMA = np.array([0.5 - 0.168736, -0.418688 - 0.331264, -0.081312 + 0.5], np.float32) / 2
CHROMA_PER_UNIT = float(CARRIER_RGB @ RGB_TO_CHROMA)  # plane levels per unit of the carrier
MAX_PLANE = 640  # the detector halves larger chroma planes first (4K and up)
CANCEL = 0.5  # share of the picture's own cell values the informed marker cancels
REFRESH_FRAMES = 25  # the informed marker looks at the picture this often,
# and reads it anew when its chroma moved more than this on average (levels of a thumbnail):
# a slide behind a corner presenter is read once, not once a second.
REFRESH_CHANGE = 0.5
KEY = 0x4C494B454E455353  # "LIKENESS": the keyed patterns; a deployment may change it
# z-score of the sync peak: unmarked photos peak at 5.4 (200 clips, several sizes, crf 18-35),
# and the CRC must match too.
SYNC_THRESHOLD = 6.0
MIN_SCALE, MAX_SCALE = 0.3, 3.2  # detector's search range, received cell / canonical cell
MAX_CANON = 4 * CANON_TILE  # the detector looks at most at 4 x 4 tiles (centre of the frame)


@dataclass(frozen=True)
class VideoMark:
    """What the detector found: ``payload`` is None unless the mark is present and intact."""

    payload: int | None
    confidence: float  # 0..1
    sync_score: float  # z-score of the sync peak
    scale: float | None  # received cell size / canonical
    bit_agreement: float
    raw_bits: int | None = None  # decoded bits before the CRC check: for benchmarks only
    used_audio_prefix: bool = False  # the frames alone did not decode; the audio's bits helped

    def to_dict(self) -> dict:
        return {
            "found": self.payload is not None,
            "payload": f"{self.payload:016x}" if self.payload is not None else None,
            "confidence": round(self.confidence, 3),
            "sync_score": round(self.sync_score, 2),
            "scale": round(self.scale, 4) if self.scale else None,
            "helped_by_audio": self.used_audio_prefix,
        }


def _rng(purpose: int, key: int = KEY) -> np.random.Generator:
    return np.random.default_rng([key & 0xFFFFFFFF, key >> 32, purpose])


@lru_cache(maxsize=4)
def _bump_spectrum() -> np.ndarray:
    """FFT of one smooth cell-sized bump centred at (0, 0) in a canonical tile (wrapping)."""
    coords = np.fft.fftfreq(CANON_TILE, 1.0 / CANON_TILE)  # 0, 1, ..., -1 (wrapped distances)
    sigma = CANON_CELL * 0.42
    bump = np.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * sigma**2))
    return np.fft.fft2(bump)


def _cells_to_tile(chips: np.ndarray) -> np.ndarray:
    """GRID x GRID chip values -> a smooth canonical tile (bumps at the cell centres)."""
    impulses = np.zeros((CANON_TILE, CANON_TILE))
    centre = CANON_CELL // 2
    impulses[centre::CANON_CELL, centre::CANON_CELL] = chips
    return np.real(np.fft.ifft2(np.fft.fft2(impulses) * _bump_spectrum()))


@lru_cache(maxsize=4)
def _keys(key: int = KEY) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sync chips, the data scrambler and the cell order for the data chips."""
    sync = _rng(1, key).choice([-1.0, 1.0], size=(GRID, GRID))
    scrambler = _rng(2, key).choice([-1.0, 1.0], size=GRID * GRID)
    order = _rng(3, key).permutation(GRID * GRID)
    return sync, scrambler, order


def _data_chips(payload: int, key: int = KEY) -> np.ndarray:
    _, scrambler, order = _keys(key)
    coded = 2.0 * encode_payload(payload, PAYLOAD_BITS, RATE_THIRD) - 1.0
    repeated = np.resize(coded, GRID * GRID)  # 258 chips: the last 2 (tail) are punctured
    cells = np.empty(GRID * GRID)
    cells[order] = repeated * scrambler
    return cells.reshape(GRID, GRID)


@lru_cache(maxsize=4)
def _sync_tile(key: int = KEY) -> np.ndarray:
    return _cells_to_tile(_keys(key)[0])


def _mark_cells(payload: int, key: int = KEY) -> np.ndarray:
    """GRID x GRID amplitudes of the mark's cells: the sync and the data layers added."""
    return SYNC_WEIGHT * _keys(key)[0] + _data_chips(payload, key)


def canonical_tile(payload: int, key: int = KEY) -> np.ndarray:
    """The mark's tile at the canonical cell size, unit RMS."""
    tile = _cells_to_tile(_mark_cells(payload, key))
    return tile / tile.std()


def cell_size(width: int, height: int) -> int:
    return max(4, round(min(width, height) / CELLS_PER_SIDE))


def _frame_field(tile: np.ndarray, width: int, height: int) -> np.ndarray:
    """A canonical tile resized to the frame's cell size and repeated over the frame."""
    tile_px = GRID * cell_size(width, height)
    resized = cv2.resize(tile, (tile_px, tile_px), interpolation=cv2.INTER_CUBIC)
    reps = (-(-height // tile_px), -(-width // tile_px))
    return np.tile(resized, reps)[:height, :width]


def _levels(tile: np.ndarray, width: int, height: int, key: int = KEY):
    """(add, subtract) uint8 RGB arrays for a canonical chroma tile in RGB-RMS units (luma
    unchanged), repeated over the frame, rounded with a fixed dither so the small amplitude keeps
    its shape. The dither covers the whole frame: one repeated with the tile would add up in the
    detector's fold like a second mark (a busy photo lost its payload after half size + crf 28)."""
    field = _frame_field(tile, width, height).astype(np.float32)
    dither = _dither(width, height, key)
    adds, subs = [], []
    for weight in CARRIER_RGB:  # channel by channel: numpy is slow over a trailing axis of 3
        levels = np.rint(cv2.scaleAdd(field, float(weight), dither))
        adds.append(np.clip(levels, 0, 255).astype(np.uint8))
        subs.append(np.clip(-levels, 0, 255).astype(np.uint8))
    arrays = cv2.merge(adds), cv2.merge(subs)
    for array in arrays:
        array.flags.writeable = False
    return arrays


@lru_cache(maxsize=4)
def _dither(width: int, height: int, key: int = KEY) -> np.ndarray:
    return _rng(4, key).uniform(-0.5, 0.5, (height, width)).astype(np.float32)


@lru_cache(maxsize=8)
def mark_pattern(
    payload: int, width: int, height: int, strength: float = STRENGTH, key: int = KEY
) -> tuple[np.ndarray, np.ndarray]:
    """(add, subtract) uint8 RGB arrays of the plain mark for frames of ``width`` x ``height``."""
    return _levels(canonical_tile(payload, key) * strength, width, height, key)


def _half_size(image: np.ndarray) -> np.ndarray:
    """``image`` at half resolution (rounded up), as a codec keeps chroma."""
    size = ((image.shape[1] + 1) // 2, (image.shape[0] + 1) // 2)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _chroma_plane(rgb: np.ndarray) -> np.ndarray:
    """The (Cb + Cr) / 2 plane the detector reads, of RGB frames (..., 3)."""
    return np.asarray(rgb, np.float32) @ RGB_TO_CHROMA + 128.0


def _stored_chroma(frame: np.ndarray) -> np.ndarray:
    """The (Cb + Cr) / 2 plane of an RGB uint8 frame as a codec stores it: half size, Cb and Cr
    each in 8 bits. The informed marker must see the picture as the detector will see the file.
    Float chroma, or its mean rounded once, each lost a (different) one of 18 benchmark clips
    after 50% + crf 28, clips this plane keeps."""
    ycrcb = cv2.cvtColor(_half_size(frame), cv2.COLOR_RGB2YCrCb)
    return (ycrcb[:, :, 1].astype(np.float32) + ycrcb[:, :, 2]) / 2


def _cell_values(folded: np.ndarray) -> np.ndarray:
    """Matched filter for one bump over an aligned folded tile, sampled at the cell centres."""
    filtered = np.real(np.fft.ifft2(np.fft.fft2(folded) * np.conj(_bump_spectrum())))
    centre = CANON_CELL // 2
    return filtered[centre::CANON_CELL, centre::CANON_CELL]


def _cell_readout(plane: np.ndarray, scale: float) -> np.ndarray:
    """What the detector reads from each cell of ``plane`` when the tile starts at its origin and
    the cells are ``scale`` times the canonical size."""
    kernel = max(1, round(CANON_CELL * scale))
    whitened = _whiten(plane, kernel / CANON_CELL)
    if scale != 1.0:
        size = (max(1, round(plane.shape[1] / scale)), max(1, round(plane.shape[0] / scale)))
        method = cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR
        whitened = cv2.resize(whitened, size, interpolation=method)
    return _cell_values(_fold(whitened))


class VideoWatermarker:
    """Marks RGB uint8 frames of one size in place: ``marker.apply(frame)``.

    Informed embedding: the marker knows the picture it marks, so every REFRESH_FRAMES frames it
    reads the picture's own cell values the way the detector will and cancels part of them
    (improved spread spectrum). The picture's texture then drowns the mark much less, at the same
    strength, for the cost of one detector pass per second of video.
    """

    def __init__(
        self,
        payload: int,
        width: int,
        height: int,
        strength: float = STRENGTH,
        *,
        informed: bool = True,
        key: int = KEY,
    ):
        if not 0 <= payload < 1 << PAYLOAD_BITS:
            raise ValueError("the video watermark payload is a 64-bit unsigned integer")
        self.payload, self.width, self.height = payload, width, height
        self.strength, self.informed, self.key = strength, informed, key
        self._cells = _mark_cells(payload, key)
        self._tile = canonical_tile(payload, key)
        self._add, self._sub = mark_pattern(payload, width, height, strength, key)
        self._frames = 0
        self._read: np.ndarray | None = None  # the picture's thumbnail at the last read
        if informed:
            # What the plain mark adds to the half-size chroma plane: the same for every frame.
            field = _frame_field(self._tile * strength, width, height) * CHROMA_PER_UNIT
            self._mark_plane = _half_size(field.astype(np.float32))
            self._scale = cell_size(width, height) / 2 / CANON_CELL  # in the half-size plane

    def apply(self, frame: np.ndarray) -> np.ndarray:
        if self.informed and self._frames % REFRESH_FRAMES == 0 and self._moved(frame):
            self._add, self._sub = self._informed_levels(frame)
        self._frames += 1
        cv2.add(frame, self._add, dst=frame)  # saturating: no wrap-around at 0 or 255
        cv2.subtract(frame, self._sub, dst=frame)
        return frame

    def _moved(self, frame: np.ndarray) -> bool:
        """Whether the picture changed since it was last read (always, the first time)."""
        small = (max(1, self.width // 8), max(1, self.height // 8))
        thumbnail = _chroma_plane(cv2.resize(frame, small, interpolation=cv2.INTER_AREA))
        if self._read is not None and np.abs(thumbnail - self._read).mean() <= REFRESH_CHANGE:
            return False
        self._read = thumbnail
        return True

    def _informed_levels(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        plane = _stored_chroma(frame)
        host = _cell_readout(plane, self._scale)
        response = _cell_readout(plane + self._mark_plane, self._scale) - host
        gain = float((response * self._cells).sum() / (self._cells**2).sum())
        if gain <= 0:
            return mark_pattern(self.payload, self.width, self.height, self.strength, self.key)
        cells = self._cells - CANCEL * host / gain
        tile = _cells_to_tile(cells)
        tile *= self.strength / tile.std()  # the same energy as the plain mark
        return _levels(tile, self.width, self.height, self.key)


def _scales() -> np.ndarray:
    return np.exp(np.arange(np.log(MIN_SCALE), np.log(MAX_SCALE), 0.012))


def _whiten(image: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Remove the picture's own low frequencies and weight each pixel by the inverse of its local
    variance, for a mark whose cells are ``scale`` times the canonical size in ``image``."""
    # A median predicts the picture (it keeps edges) but not the mark's cell-sized bumps.
    kernel = max(3, 2 * round(CANON_CELL * scale) + 1)
    predicted = cv2.medianBlur(np.clip(image + 0.5, 0, 255).astype(np.uint8), kernel)
    residual = image - predicted
    residual -= cv2.GaussianBlur(residual, (0, 0), CANON_CELL * 1.5 * scale)
    variance = cv2.GaussianBlur(residual * residual, (0, 0), CANON_CELL * 2.0 * scale)
    # Inverse variance (not inverse deviation): the optimal weight when the noise, the picture's
    # own texture, varies from region to region. The 1.0 keeps flat regions finite.
    whitened = residual / (np.sqrt(variance) + 1.0) ** 2
    whitened /= whitened.std() + 1e-12
    return np.clip(whitened, -3.0, 3.0)


def _fold(image: np.ndarray) -> np.ndarray:
    """Sum the image modulo the tile (mean per tile position)."""
    h, w = image.shape
    ph, pw = -(-h // CANON_TILE) * CANON_TILE, -(-w // CANON_TILE) * CANON_TILE
    padded = np.zeros((ph, pw))
    counts = np.zeros((ph, pw))
    padded[:h, :w] = image
    counts[:h, :w] = 1.0
    shape = (ph // CANON_TILE, CANON_TILE, pw // CANON_TILE, CANON_TILE)
    total = padded.reshape(shape).sum(axis=(0, 2))
    count = counts.reshape(shape).sum(axis=(0, 2))
    return total / np.maximum(count, 1.0)


def _sync_search(
    plane: np.ndarray, scales: np.ndarray, key: int, max_canon: int = MAX_CANON
) -> tuple[float, float, tuple[int, int], np.ndarray]:
    """Best (z-score, scale, (dy, dx), folded tile) over ``scales``.

    The frame is whitened once per median-kernel size at its own resolution (whitening commutes
    with scaling closely enough), then each candidate scale costs one resize, a fold and an FFT.
    """
    sync_fft = np.conj(np.fft.fft2(_sync_tile(key)))
    best = (-np.inf, 0.0, (0, 0), np.zeros((CANON_TILE, CANON_TILE)))
    h, w = plane.shape
    whitened: dict[int, np.ndarray] = {}
    for scale in scales:
        kernel = max(1, round(CANON_CELL * scale))
        if kernel not in whitened:
            whitened[kernel] = _whiten(plane, kernel / CANON_CELL)
        # Look at most at max_canon canonical pixels: the received frame's centre.
        span = int(max_canon * scale)
        y0, x0 = max(0, (h - span) // 2), max(0, (w - span) // 2)
        region = whitened[kernel][y0 : y0 + span, x0 : x0 + span]
        size = (max(8, round(region.shape[1] / scale)), max(8, round(region.shape[0] / scale)))
        if min(size) < CANON_TILE:
            continue  # less than one tile visible at this scale
        canon = cv2.resize(
            region, size, interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR
        )
        folded = _fold(canon)
        corr = np.real(np.fft.ifft2(np.fft.fft2(folded) * sync_fft))
        peak = int(np.argmax(corr))
        z = (corr.flat[peak] - corr.mean()) / (corr.std() + 1e-12)
        if z > best[0]:
            dy, dx = divmod(peak, CANON_TILE)
            # Offsets in the folded tile; the crop origin only shifts them.
            best = (float(z), float(scale), (dy, dx), folded)
    return best


def detect_video(frames: np.ndarray, key: int = KEY, known_prefix: int | None = None) -> VideoMark:
    """Look for the mark in RGB ``frames``: (n, h, w, 3) or one (h, w, 3), uint8 or float."""
    frames = np.asarray(frames, np.float32)
    if frames.ndim == 3:
        frames = frames[None]
    return detect_mean_chroma(_chroma_plane(frames).mean(axis=0), key, known_prefix)


def detect_mean_chroma(
    mean_chroma: np.ndarray, key: int = KEY, known_prefix: int | None = None
) -> VideoMark:
    """Look for the mark in the average (Cb + Cr) / 2 plane (float, 128 for grey; full or the
    codec's half resolution) of a stretch of frames.

    ``known_prefix``: the top 32 bits of the id when the audio mark gave them; the decoder then
    only needs the other 32 bits + CRC from the frames, which survives much harder attacks. The
    CRC still has to match, so a wrong prefix yields no payload rather than a wrong one.
    """
    plane = np.asarray(mean_chroma, np.float32)
    while min(plane.shape) > MAX_PLANE:  # keeps the cells within the scales searched
        plane = cv2.resize(plane, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    if min(plane.shape) < 32:
        return VideoMark(None, 0.0, 0.0, None, 0.0)
    z, scale, shift, folded = _sync_search(plane, _scales(), key)
    if np.isfinite(z):
        found = _sync_search(plane, scale * np.exp(np.linspace(-0.01, 0.01, 5)), key)
        if found[0] > z:
            z, scale, shift, folded = found
    if not np.isfinite(z):
        return VideoMark(None, 0.0, 0.0, None, 0.0)
    payload, agreement, raw = _read_payload(folded, shift, key)
    frames_alone = raw
    helped_by_audio = False
    if payload is None and known_prefix is not None:
        helped = _read_payload(folded, shift, key, int_to_bits(known_prefix, 32))
        if helped[0] is not None:
            (payload, agreement, _), helped_by_audio = helped, True
    if z < SYNC_THRESHOLD:
        payload = None
    confidence = float(np.clip((z - 5.0) / 4.0, 0.0, 1.0)) * (1.0 if payload is not None else 0.5)
    return VideoMark(payload, confidence, z, scale, agreement, frames_alone, helped_by_audio)


def _read_payload(
    folded: np.ndarray, shift: tuple[int, int], key: int, known: np.ndarray | None = None
) -> tuple[int | None, float, int]:
    values = _cell_values(np.roll(folded, (-shift[0], -shift[1]), axis=(0, 1)))
    sync, scrambler, order = _keys(key)
    # Remove the known sync layer at its estimated gain.
    gain = float((values * sync).mean())
    values = (values - gain * sync).reshape(-1)[order] * scrambler
    n = coded_length(PAYLOAD_BITS, RATE_THIRD)
    soft = np.zeros(n)  # punctured positions stay 0: erasures
    cells = GRID * GRID
    np.add.at(soft, np.arange(cells) % n, values)
    scale = np.abs(soft[:cells]).mean() + 1e-12
    return decode_payload_raw(soft / scale, PAYLOAD_BITS, known, RATE_THIRD)
