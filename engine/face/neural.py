"""Neural face engine "neural": MuseTalk 1.5 lip sync, loading its released weights as they come.

``weights`` (the site's setting ``FACE_NEURAL_WEIGHTS_DIR``) is the ``models/`` folder MuseTalk's
``download_weights.sh`` writes; the engine reads, and never downloads:

- ``musetalkV15/musetalk.json`` + ``musetalkV15/unet.pth``: a diffusers ``UNet2DConditionModel``
  (8 latent channels in, 4 out, Whisper-tiny features as cross-attention), its config and its
  plain state dict, loaded strictly;
- ``sd-vae/``: the ``AutoencoderKL`` folder of sd-vae-ft-mse;
- ``whisper/``: openai/whisper-tiny (only its encoder is used);
- ``face-parse-bisent/79999_iter.pth`` (optional): the face-parsing BiSeNet whose mask decides
  where the generated mouth is pasted (``engine.face.parsing``); without the folder a soft mask
  of the lower face outline is used. Other folders of the download (musetalk v1, dwpose,
  syncnet) are not needed.

Per frame, as MuseTalk 1.5 does: the face box runs from the face outline's left to right edge and
from as far above the nose bridge's lower point (68-point #29) as the chin lies below it down to
the chin plus ``EXTRA_MARGIN`` pixels; the box is resized to 256 x 256, encoded by the VAE once
with its lower half blacked out and once whole (the reference), the two latents (8 channels) go
through one UNet pass at timestep 0 with the Whisper states of the frames around it as
cross-attention, the VAE decodes, and the face is resized back into its box and blended under the
mask, which only reaches below the box's middle. One portrait drives the whole video, so both
latents and the mask are computed once. Blinks and head motion come from the warp rig, so
everything above the mouth region stays the portrait's own pixels. Batched; fp16 on a CUDA GPU,
fp32 on the CPU.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import engine.face.topology as T
from engine.audio import read_wav
from engine.errors import FaceWeightsMissing
from engine.face.drive import (
    DEFAULT_MOTION,
    blink_schedule,
    frame_count,
    head_motion,
    motion_style,
    mouth_openness,
)
from engine.face.parsing import PARSING_FILE, FaceParser, jaw_mask
from engine.face.warp import FaceRig, prepared_rig

WEIGHTS_SETTING = "FACE_NEURAL_WEIGHTS_DIR"  # the site's setting, named by the errors
UNET_CONFIG = "musetalkV15/musetalk.json"
UNET_WEIGHTS = "musetalkV15/unet.pth"
VAE_DIR, WHISPER_DIR, PARSING_DIR = "sd-vae", "whisper", "face-parse-bisent"
# One of each group must be present; the first name is what the release ships.
REQUIRED = (
    (UNET_CONFIG,),
    (UNET_WEIGHTS,),
    (f"{VAE_DIR}/config.json",),
    (f"{VAE_DIR}/diffusion_pytorch_model.bin", f"{VAE_DIR}/diffusion_pytorch_model.safetensors"),
    (f"{WHISPER_DIR}/config.json",),
    (f"{WHISPER_DIR}/pytorch_model.bin", f"{WHISPER_DIR}/model.safetensors"),
    (f"{WHISPER_DIR}/preprocessor_config.json",),
)
CROP = 256  # pixels of the face box the VAE sees (MuseTalk's training size)
EXTRA_MARGIN = 10  # pixels the box reaches below the chin (MuseTalk 1.5's default)
WHISPER_RATE = 16000
WHISPER_HZ = 50  # encoder frames per second of audio
WHISPER_CHUNK_SECONDS = 30
AUDIO_CONTEXT = (2, 2)  # video frames of audio before and after each frame (MuseTalk 1.5)

_lock = threading.Lock()


def weights_dir(value: str | os.PathLike | None = None) -> Path:
    """The weights directory ``value``, checked; FaceWeightsMissing names the setting to set
    and the first file that is missing."""
    layout = f"MuseTalk 1.5's models/ folder ({UNET_WEIGHTS}, {VAE_DIR}/, {WHISPER_DIR}/)"
    if not value:
        raise FaceWeightsMissing(
            f"The neural face engine needs local weights: set {WEIGHTS_SETTING} to {layout}"
            " (nothing is downloaded)."
        )
    folder = Path(value)
    if not folder.is_dir():
        raise FaceWeightsMissing(f"{WEIGHTS_SETTING}={folder} does not exist; set it to {layout}.")
    missing = [names[0] for names in REQUIRED if not any((folder / n).is_file() for n in names)]
    if (folder / PARSING_DIR).is_dir() and not (folder / PARSING_DIR / PARSING_FILE).is_file():
        missing.append(f"{PARSING_DIR}/{PARSING_FILE}")  # a face-parsing download cut short
    if missing:
        raise FaceWeightsMissing(
            f"{WEIGHTS_SETTING}={folder} lacks {', '.join(missing)}; it must be {layout}."
        )
    return folder


@dataclass
class NeuralModels:
    unet: object
    vae: object
    whisper: object  # the Whisper encoder
    features: object  # WhisperFeatureExtractor
    parser: FaceParser | None  # None when the weights have no face-parsing network
    device: str
    dtype: object

    @property
    def latent_scale(self) -> float:
        return float(getattr(self.vae.config, "scaling_factor", 1.0) or 1.0)


def unet_config(folder: str | os.PathLike) -> dict:
    """The UNet's configuration as the release writes it (``musetalkV15/musetalk.json``)."""
    path = Path(folder) / UNET_CONFIG
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise FaceWeightsMissing(f"{path} is not a readable JSON UNet configuration.") from error


def build_unet(config: dict, device=None):
    """An empty ``UNet2DConditionModel`` of ``config``; on the ``meta`` device by default, where
    building costs no memory, ready for ``load_state_dict(..., assign=True)``."""
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device(device or "meta"):
        return UNet2DConditionModel.from_config(config)


def load_unet(folder: str | os.PathLike, dtype=None):
    """The MuseTalk UNet: config from musetalk.json, weights from unet.pth, strictly, its
    tensors cast to ``dtype`` (a torch dtype; default as stored)."""
    import torch

    path = Path(folder) / UNET_WEIGHTS
    unet = build_unet(unet_config(folder))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if dtype is not None:
        state = {name: tensor.to(dtype) for name, tensor in state.items()}
    try:
        unet.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:300]
        raise FaceWeightsMissing(f"{path} does not match {UNET_CONFIG}: {detail}") from error
    return unet


def _strict(loaded: tuple, path: Path, prefix: str = ""):
    """The model of ``from_pretrained(..., output_loading_info=True)``, or FaceWeightsMissing if
    any of its parameters (under ``prefix``) was not in the file."""
    model, info = loaded
    missing = [k for k in info.get("missing_keys", ()) if k.startswith(prefix)]
    if missing:
        raise FaceWeightsMissing(
            f"The weights in {path} lack {len(missing)} parameters (first: {missing[0]});"
            " the download is incomplete or of another model."
        )
    return model


@functools.lru_cache(maxsize=2)
def load_models(folder: str, device: str | None = None, dtype: str | None = None) -> NeuralModels:
    """UNet, VAE, Whisper encoder and face parser from the release ``folder`` (cached per
    process), in eval mode. ``dtype``: "float32", "float16" or "bfloat16" (default fp16 on CUDA,
    fp32 elsewhere)."""
    import torch
    from diffusers import AutoencoderKL
    from transformers import WhisperFeatureExtractor, WhisperModel

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = "float16" if device.startswith("cuda") else "float32"
    torch_dtype = getattr(torch, dtype)
    root = Path(folder)
    unet = load_unet(root, torch_dtype)
    vae = _strict(
        AutoencoderKL.from_pretrained(
            root / VAE_DIR,
            torch_dtype=torch_dtype,
            # the release ships a .bin; without this diffusers first looks for a .safetensors
            use_safetensors=(root / VAE_DIR / "diffusion_pytorch_model.safetensors").is_file(),
            low_cpu_mem_usage=False,
            output_loading_info=True,
        ),
        root / VAE_DIR,
    )
    whisper = _strict(
        WhisperModel.from_pretrained(  # nosec B615: a local folder of weights, never a Hub model name: nothing is downloaded
            root / WHISPER_DIR, torch_dtype=torch_dtype, output_loading_info=True
        ),
        root / WHISPER_DIR,
        prefix="encoder.",
    ).get_encoder()
    features = WhisperFeatureExtractor.from_pretrained(root / WHISPER_DIR)  # nosec B615: a local folder, never a Hub name
    latent = vae.config.latent_channels
    if unet.config.in_channels != 2 * latent or unet.config.out_channels != latent:
        raise FaceWeightsMissing(
            f"The UNet in {root / UNET_WEIGHTS} takes {unet.config.in_channels} channels and gives"
            f" {unet.config.out_channels}; MuseTalk needs {2 * latent} in and {latent} out."
        )
    if unet.config.cross_attention_dim != whisper.config.d_model:
        raise FaceWeightsMissing(
            f"The UNet attends to {unet.config.cross_attention_dim}-d features but the Whisper"
            f" encoder gives {whisper.config.d_model}-d ones; install matching weights."
        )
    for model in (unet, vae, whisper):
        model.to(device).eval().requires_grad_(False)
    parsing = root / PARSING_DIR / PARSING_FILE
    parser = FaceParser(parsing, device) if parsing.is_file() else None
    return NeuralModels(unet, vae, whisper, features, parser, device, torch_dtype)


def audio_features(models: NeuralModels, samples: np.ndarray, rate: int) -> np.ndarray:
    """Whisper encoder states of every layer at 50 Hz: (time, layers + 1, d_model), float32."""
    import torch
    from scipy.signal import resample_poly

    if rate != WHISPER_RATE:
        samples = resample_poly(samples, WHISPER_RATE, rate).astype(np.float32)
    chunk = WHISPER_CHUNK_SECONDS * WHISPER_RATE
    states = []
    for start in range(0, max(len(samples), 1), chunk):
        piece = samples[start : start + chunk]
        mel = models.features(piece, sampling_rate=WHISPER_RATE, return_tensors="pt")
        mel = mel.input_features.to(models.device, models.dtype)
        with torch.inference_mode():
            out = models.whisper(mel, output_hidden_states=True)
        layers = torch.stack(out.hidden_states, dim=2)[0]  # (1500, layers + 1, d)
        keep = int(np.ceil(len(piece) / WHISPER_RATE * WHISPER_HZ))
        states.append(layers[:keep].float().cpu().numpy())
    return np.concatenate(states, axis=0)


def frame_audio_windows(states: np.ndarray, frames: int, fps: int) -> np.ndarray:
    """Per video frame, the Whisper states around it, flattened time-major into tokens:
    (frames, 10 x (layers + 1), d_model). As MuseTalk 1.5 trained: ten 50 Hz steps whatever the
    frame rate, from AUDIO_CONTEXT[0] frames' worth (two steps a frame, at least) before the
    frame's own step; beyond the audio's ends the states are zeros."""
    before, after = AUDIO_CONTEXT
    width = 2 * (before + after + 1)
    per_frame = WHISPER_HZ / fps
    pad = int(np.ceil(per_frame)) * before
    starts = np.floor(np.arange(frames) * per_frame).astype(int)
    total = max(len(states) + 2 * pad, starts[-1] + width if frames else 0)
    padded = np.zeros((total, *states.shape[1:]), np.float32)
    padded[pad : pad + len(states)] = states
    windows = np.stack([padded[s : s + width] for s in starts])
    return windows.reshape(frames, -1, states.shape[-1])


def positional_encoding(tokens: int, dim: int) -> np.ndarray:
    """Sinusoidal positions added to the audio tokens (as MuseTalk does), (tokens, dim)."""
    position = np.arange(tokens)[:, None]
    rates = np.exp(np.arange(0, dim, 2) * (-np.log(10000.0) / dim))
    table = np.zeros((tokens, dim), np.float32)
    table[:, 0::2] = np.sin(position * rates)
    table[:, 1::2] = np.cos(position * rates)[:, : dim // 2]
    return table


def face_box(points: np.ndarray, width: int, height: int, margin: int = EXTRA_MARGIN):
    """MuseTalk 1.5's face box (x0, y0, x1, y1) from mediapipe's 478 points in a frame of
    ``width`` x ``height``: across, the outline's extent at and below the eyes (where the
    68-point jaw line runs); from the nose bridge's lower point (68-point #29) as far up as the
    chin lies below it, down to the chin plus ``margin``. #29 is taken halfway between
    mediapipe's 195 and 5: on the five test portraits dlib's #29 lay 1.9-3.4 px below 195 and
    1.6-2.7 px above 5, and every edge of the box then sits within 0.06 of the eye distance of
    the box dlib's 68 points give (0.11 on the open mouth, whose chins differ)."""
    oval = points[T.FACE_OVAL]
    eyes_y = (points[T.LEFT_EYE_UPPER[0]][1] + points[T.RIGHT_EYE_UPPER[0]][1]) / 2
    jaw = oval[oval[:, 1] >= eyes_y]
    chin_y = oval[:, 1].max()
    bridge_y = (points[195][1] + points[5][1]) / 2
    x0 = int(np.clip(np.floor(jaw[:, 0].min()), 0, width - 2))
    x1 = int(np.clip(np.ceil(jaw[:, 0].max()), x0 + 2, width))
    y0 = int(np.clip(np.floor(bridge_y - (chin_y - bridge_y)), 0, height - 2))
    y1 = int(np.clip(np.ceil(chin_y) + margin, y0 + 2, height))
    return x0, y0, x1, y1


def _crop_padded(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` with black where the box leaves the image (as PIL crops)."""
    height, width = image.shape[:2]
    out = np.zeros((y1 - y0, x1 - x0, *image.shape[2:]), image.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


class _Paste:
    """Where the face box sits in the framed portrait and how much of the generated face each
    pixel takes (``alpha``, H x W x 1), MuseTalk 1.5's way: around the box a square 1.5 times its
    longer side; the mask is the face-parsing "jaw" region of that square (or, without a parser,
    the face outline), kept inside the box and below the square's middle, then blurred."""

    def __init__(self, rig: FaceRig, parser: FaceParser | None):
        self.box = face_box(rig.points, rig.width, rig.height)
        x0, y0, x1, y1 = self.box
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        half = int(max(x1 - x0, y1 - y0) // 2 * 1.5)
        sx0, sy0, sx1, sy1 = cx - half, cy - half, cx + half, cy + half
        if parser is not None:
            square = _crop_padded(rig.base, sx0, sy0, sx1, sy1)
            region = jaw_mask(parser.labels(square))
            region = cv2.resize(region, (sx1 - sx0, sy1 - sy0), interpolation=cv2.INTER_LINEAR)
        else:
            region = np.zeros((sy1 - sy0, sx1 - sx0), np.uint8)
            oval = np.round(rig.points[T.FACE_OVAL] - [sx0, sy0]).astype(np.int32)
            cv2.fillPoly(region, [oval], 255)
        keep = np.zeros_like(region)
        keep[y0 - sy0 : y1 - sy0, x0 - sx0 : x1 - sx0] = region[
            y0 - sy0 : y1 - sy0, x0 - sx0 : x1 - sx0
        ]
        keep[: (sy1 - sy0) // 2] = 0
        kernel = int(0.05 * (sx1 - sx0) // 2 * 2) + 1
        keep = cv2.GaussianBlur(keep, (kernel, kernel), 0)
        alpha = np.zeros((rig.height, rig.width), np.float32)
        fx0, fy0 = max(sx0, 0), max(sy0, 0)
        fx1, fy1 = min(sx1, rig.width), min(sy1, rig.height)
        alpha[fy0:fy1, fx0:fx1] = keep[fy0 - sy0 : fy1 - sy0, fx0 - sx0 : fx1 - sx0] / 255.0
        self.alpha = alpha[..., None]
        self.parsed = parser is not None

    def crop(self, frame: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return cv2.resize(frame[y0:y1, x0:x1], (CROP, CROP), interpolation=cv2.INTER_LANCZOS4)

    def paste(self, frame: np.ndarray, face: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        pasted = frame.astype(np.float32)
        pasted[y0:y1, x0:x1] = cv2.resize(face, (x1 - x0, y1 - y0))
        blend = frame * (1 - self.alpha) + pasted * self.alpha
        return np.clip(blend + 0.5, 0, 255).astype(np.uint8)


class NeuralFaceEngine:
    """The GPU face engine (runs on the CPU too, slowly). ``animate`` yields RGB uint8 frames."""

    name = "neural"

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        dtype: str | None = None,
    ):
        self.weights = weights
        self.batch_size = batch_size
        self.device, self.dtype = device, dtype

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
        motion: str = DEFAULT_MOTION,
    ) -> Iterator[np.ndarray]:
        del words
        head, _ = motion_style(motion)  # the mouth is the model's own
        folder = weights_dir(self.weights)
        with _lock:
            models = load_models(str(folder.resolve()), self.device, self.dtype)
            rig = prepared_rig(portrait_path, landmarks, size)
            paste = _Paste(rig, models.parser)
        samples, rate = read_wav(audio_wav)
        frames = frame_count(len(samples) / rate, fps)
        windows = frame_audio_windows(audio_features(models, samples, rate), frames, fps)
        windows += positional_encoding(windows.shape[1], windows.shape[2])
        opening = mouth_openness(samples, rate, fps, frames, phonemes)
        blinks = blink_schedule(frames, fps)
        motion = head * head_motion(frames, fps, opening, scale=min(size) / 512)
        batch = self.batch_size or (16 if models.device.startswith("cuda") else 4)
        latent_in = reference_latents(models, paste.crop(rig.base))
        for first in range(0, frames, batch):
            count = min(batch, frames - first)
            faces = generate(models, latent_in, windows[first : first + count])
            for k in range(count):
                i = first + k
                base = paste.paste(rig.base, faces[k])
                yield rig.render(0.0, float(blinks[i]), tuple(motion[i]), base=base)
            if progress is not None:
                progress(min(1.0, (first + count) / frames))


def reference_latents(models: NeuralModels, crop: np.ndarray):
    """The UNet's image input for a CROP x CROP RGB face: latents of the face with its lower
    half black, then of the whole face (1, 8, CROP / 8, CROP / 8)."""
    import torch

    masked = crop.copy()
    masked[CROP // 2 :] = 0
    pixels = torch.from_numpy(np.stack([masked, crop])).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.inference_mode():
        dist = models.vae.encode(pixels.to(models.device, models.dtype)).latent_dist
        latents = dist.mode() * models.latent_scale  # the mean: the same frames every run
    return torch.cat([latents[:1], latents[1:]], dim=1)


def generate(models: NeuralModels, latent_in, windows: np.ndarray) -> np.ndarray:
    """Faces (n, CROP, CROP, 3) uint8 RGB for n frames' audio ``windows`` (positions added)."""
    import torch

    audio = torch.from_numpy(np.ascontiguousarray(windows)).to(models.device, models.dtype)
    with torch.inference_mode():
        latents = models.unet(
            latent_in.expand(len(windows), -1, -1, -1), 0, encoder_hidden_states=audio
        ).sample
        images = models.vae.decode(latents / models.latent_scale).sample
    faces = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return faces.permute(0, 2, 3, 1).cpu().numpy()
