"""Neural face engine "neural": MuseTalk-style lip sync from diffusers and transformers parts.

Per frame the lower half of a square face crop is regenerated from speech: the crop is encoded by
a VAE (``AutoencoderKL``) once with its lower half masked and once whole (the reference); the two
latents, concatenated (8 channels), go through one ``UNet2DConditionModel`` pass at timestep 0
with Whisper encoder features of the audio around the frame as cross-attention; the VAE decodes,
and the result is pasted back under a soft mask over the lower face. Since one portrait drives the
whole video, both latents are computed once. Blinks and head motion come from the warp rig, so
everything outside the lower face stays the portrait's own pixels.

Weights come only from a local directory, given as ``weights`` (the site's setting
``FACE_NEURAL_WEIGHTS_DIR``), holding ``unet/``, ``vae/`` and ``whisper/`` in the layout
``save_pretrained`` writes; nothing is downloaded.
Batched; fp16 on a CUDA GPU, fp32 on the CPU.
"""

from __future__ import annotations

import functools
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
from engine.face.warp import FaceRig, prepared_rig

WEIGHTS_SETTING = "FACE_NEURAL_WEIGHTS_DIR"  # the site's setting, named by the errors
PARTS = ("unet", "vae", "whisper")
WHISPER_RATE = 16000
WHISPER_HZ = 50  # encoder frames per second of audio
WHISPER_CHUNK_SECONDS = 30
AUDIO_CONTEXT = (2, 2)  # video frames of audio before and after each frame (MuseTalk 1.5)

_lock = threading.Lock()


def weights_dir(value: str | os.PathLike | None = None) -> Path:
    """The weights directory ``value``, checked; FaceWeightsMissing names the setting to set."""
    if not value:
        raise FaceWeightsMissing(
            f"The neural face engine needs local weights: set {WEIGHTS_SETTING} to a directory"
            f" holding {', '.join(p + '/' for p in PARTS)} (nothing is downloaded)."
        )
    folder = Path(value)
    missing = [p for p in PARTS if not (folder / p / "config.json").is_file()]
    if not folder.is_dir() or missing:
        what = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise FaceWeightsMissing(
            f"{WEIGHTS_SETTING}={folder} {what}; it must hold {', '.join(p + '/' for p in PARTS)}"
            " as written by save_pretrained."
        )
    return folder


@dataclass
class NeuralModels:
    unet: object
    vae: object
    whisper: object  # the Whisper encoder
    features: object  # WhisperFeatureExtractor
    device: str
    dtype: object
    crop_size: int  # pixels of the square face crop the VAE sees

    @property
    def latent_scale(self) -> float:
        return float(getattr(self.vae.config, "scaling_factor", 1.0) or 1.0)


@functools.lru_cache(maxsize=2)
def load_models(folder: str, device: str | None = None) -> NeuralModels:
    """UNet, VAE and Whisper encoder from ``folder`` (cached per process), in eval mode."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperFeatureExtractor, WhisperModel

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    root = Path(folder)
    unet = UNet2DConditionModel.from_pretrained(
        root / "unet", torch_dtype=dtype, low_cpu_mem_usage=False
    )
    vae = AutoencoderKL.from_pretrained(root / "vae", torch_dtype=dtype, low_cpu_mem_usage=False)
    whisper = WhisperModel.from_pretrained(root / "whisper", torch_dtype=dtype).get_encoder()  # nosec B615: a local folder of weights, never a Hub model name: nothing is downloaded
    features = WhisperFeatureExtractor.from_pretrained(root / "whisper")  # nosec B615: a local folder, never a Hub name
    latent = vae.config.latent_channels
    if unet.config.in_channels != 2 * latent or unet.config.out_channels != latent:
        raise FaceWeightsMissing(
            f"The UNet in {root / 'unet'} takes {unet.config.in_channels} channels and gives"
            f" {unet.config.out_channels}; MuseTalk needs {2 * latent} in and {latent} out."
        )
    if unet.config.cross_attention_dim != whisper.config.d_model:
        raise FaceWeightsMissing(
            f"The UNet attends to {unet.config.cross_attention_dim}-d features but the Whisper"
            f" encoder gives {whisper.config.d_model}-d ones; install matching weights."
        )
    for model in (unet, vae, whisper):
        model.to(device).eval().requires_grad_(False)
    vae_scale = 2 ** (len(vae.config.block_out_channels) - 1)
    sample = unet.config.sample_size
    sample = sample[0] if isinstance(sample, (list, tuple)) else sample
    return NeuralModels(unet, vae, whisper, features, device, dtype, int(sample) * vae_scale)


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
    """Per video frame, the Whisper states of the frames around it, flattened into tokens:
    (frames, window x (layers + 1), d_model). The window covers AUDIO_CONTEXT video frames
    before and after (10 Whisper steps at 25 fps), edges repeated."""
    before, after = AUDIO_CONTEXT
    per_frame = WHISPER_HZ / fps
    width = max(2, round((before + after + 1) * per_frame))
    windows = []
    for i in range(frames):
        centre = (i + 0.5) * per_frame
        start = int(np.round(centre - width / 2))
        index = np.clip(np.arange(start, start + width), 0, len(states) - 1)
        windows.append(states[index].reshape(-1, states.shape[-1]))
    return np.stack(windows).astype(np.float32)


def positional_encoding(tokens: int, dim: int) -> np.ndarray:
    """Sinusoidal positions added to the audio tokens (as MuseTalk does), (tokens, dim)."""
    position = np.arange(tokens)[:, None]
    rates = np.exp(np.arange(0, dim, 2) * (-np.log(10000.0) / dim))
    table = np.zeros((tokens, dim), np.float32)
    table[:, 0::2] = np.sin(position * rates)
    table[:, 1::2] = np.cos(position * rates)[:, : dim // 2]
    return table


class _Paste:
    """Where the face crop sits in the framed portrait and the soft mask of the lower face."""

    def __init__(self, rig: FaceRig, crop_size: int):
        pts = rig.points
        oval = pts[T.FACE_OVAL]
        (left, top), (right, bottom) = oval.min(axis=0), oval.max(axis=0)
        side = int(np.round(1.15 * max(right - left, bottom - top)))
        side = max(8, min(side, rig.width, rig.height))
        cx, cy = (left + right) / 2, (top + bottom) / 2 + 0.05 * side
        x0 = int(np.clip(round(cx - side / 2), 0, rig.width - side))
        y0 = int(np.clip(round(cy - side / 2), 0, rig.height - side))
        self.x0, self.y0, self.side, self.crop_size = x0, y0, side, crop_size
        mask = np.zeros((side, side), np.float32)
        cv2.fillPoly(mask, [np.round(oval - [x0, y0]).astype(np.int32)], 1.0)
        nose_y = pts[T.NOSE_TIP][1] - y0
        rows = np.arange(side, dtype=np.float32)[:, None]
        mask *= np.clip((rows - nose_y) / max(0.06 * side, 1.0), 0.0, 1.0)
        sigma = max(0.6, 0.03 * side)
        self.mask = cv2.GaussianBlur(mask, (0, 0), sigma)[..., None]
        # Pixels beyond the face outline never change, even after blurring.
        self.mask *= cv2.dilate((mask > 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(
            np.float32
        )[..., None]
        self.lower_half = int(crop_size * max(0.0, min(1.0, nose_y / side)))

    def crop(self, frame: np.ndarray) -> np.ndarray:
        box = frame[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side]
        interp = cv2.INTER_AREA if self.side > self.crop_size else cv2.INTER_CUBIC
        return cv2.resize(box, (self.crop_size, self.crop_size), interpolation=interp)

    def paste(self, frame: np.ndarray, face: np.ndarray) -> np.ndarray:
        out = frame.copy()
        face = cv2.resize(face, (self.side, self.side), interpolation=cv2.INTER_LINEAR)
        box = out[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side].astype(np.float32)
        blend = box * (1 - self.mask) + face.astype(np.float32) * self.mask
        out[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side] = np.clip(
            blend + 0.5, 0, 255
        ).astype(np.uint8)
        return out


class NeuralFaceEngine:
    """The GPU face engine (runs on the CPU too, slowly). ``animate`` yields RGB uint8 frames."""

    name = "neural"

    def __init__(self, weights: str | os.PathLike | None = None, batch_size: int | None = None):
        self.weights = weights
        self.batch_size = batch_size

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
        import torch

        del words
        head, _ = motion_style(motion)  # the mouth is the model's own
        folder = weights_dir(self.weights)
        with _lock:
            models = load_models(str(folder.resolve()))
        rig = prepared_rig(portrait_path, landmarks, size)
        paste = _Paste(rig, models.crop_size)
        samples, rate = read_wav(audio_wav)
        frames = frame_count(len(samples) / rate, fps)
        states = audio_features(models, samples, rate)
        windows = frame_audio_windows(states, frames, fps)
        windows += positional_encoding(windows.shape[1], windows.shape[2])
        opening = mouth_openness(samples, rate, fps, frames, phonemes)
        blinks = blink_schedule(frames, fps)
        motion = head * head_motion(frames, fps, opening, scale=min(size) / 512)
        batch = self.batch_size or (16 if models.device.startswith("cuda") else 4)
        reference = self._encode(models, paste.crop(rig.base))
        masked_crop = paste.crop(rig.base).copy()
        masked_crop[paste.lower_half :] = 0
        masked = self._encode(models, masked_crop)
        latent_in = torch.cat([masked, reference], dim=1)
        for first in range(0, frames, batch):
            count = min(batch, frames - first)
            audio = torch.from_numpy(windows[first : first + count]).to(models.device, models.dtype)
            with torch.inference_mode():
                latents = models.unet(
                    latent_in.expand(count, -1, -1, -1), 0, encoder_hidden_states=audio
                ).sample
                images = models.vae.decode(latents / models.latent_scale).sample
            faces = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
            faces = faces.permute(0, 2, 3, 1).cpu().numpy()
            for k in range(count):
                i = first + k
                base = paste.paste(rig.base, faces[k])
                yield rig.render(0.0, float(blinks[i]), tuple(motion[i]), base=base)
            if progress is not None:
                progress(min(1.0, (first + count) / frames))

    @staticmethod
    def _encode(models: NeuralModels, crop: np.ndarray):
        import torch

        pixels = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        with torch.inference_mode():
            dist = models.vae.encode(pixels.to(models.device, models.dtype)).latent_dist
            return dist.mode() * models.latent_scale
