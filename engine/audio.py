"""Mono float audio: read, write, pad, and the loudness envelope that drives the mouth."""

from __future__ import annotations

import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
import wave
from pathlib import Path

import numpy as np

from engine.errors import CorruptAudio
from engine.tools import require_tool


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples as float32 mono in [-1, 1] and the sample rate. PCM WAV natively, else ffmpeg."""
    path = Path(path)
    if not path.is_file():
        raise CorruptAudio(f"The audio file {path.name} does not exist.")
    if path.stat().st_size == 0:
        raise CorruptAudio(f"The audio file {path.name} is empty; record it again.")
    try:
        return _read_pcm_wav(path)
    except (wave.Error, EOFError, ValueError):
        return _decode_with_ffmpeg(path)


def recorded_sample_rate(path: str | Path) -> int:
    """The sample rate the file's sound was stored at (Hz): the WAV header's, or a video's or
    compressed file's first audio stream's (``read_wav`` decodes those at 16 kHz, which says
    nothing of what was recorded). CorruptAudio when the file has no sound."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getframerate()
    except (wave.Error, EOFError, OSError):
        pass
    cmd = [require_tool("ffprobe"), "-v", "error", "-select_streams", "a:0"]
    cmd += ["-show_entries", "stream=sample_rate", "-of", "csv=p=0", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    rate = proc.stdout.strip().split(",")[0] if proc.returncode == 0 else ""
    if not rate.isdigit():
        raise CorruptAudio(
            f"The file {path.name} has no sound to take a voice from; upload a recording of the "
            "subject speaking (or a video with its sound)."
        )
    return int(rate)


def _read_pcm_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    elif width == 3:
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        ints = (
            bytes3[:, 0].astype(np.int32)
            | (bytes3[:, 1].astype(np.int32) << 8)
            | (bytes3[:, 2].astype(np.int32) << 16)
        )
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float32) / float(1 << 23)
    else:
        raise ValueError(f"unsupported sample width {width}")
    if rate <= 0 or channels <= 0:
        raise ValueError("bad header")
    usable = len(samples) - len(samples) % channels
    samples = samples[:usable].reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32), rate


def _decode_with_ffmpeg(path: Path, rate: int = 16000) -> tuple[np.ndarray, int]:
    ffmpeg = require_tool("ffmpeg")
    cmd = [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate)]
    cmd += ["-f", "s16le", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    if proc.returncode != 0 or not proc.stdout:
        raise CorruptAudio(
            f"The file {path.name} is not audio we can read; upload a WAV recording."
        )
    samples = np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0
    return samples, rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write mono 16-bit PCM."""
    pcm = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    pcm16 = np.round(pcm * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm16.tobytes())


def pad_with_silence(samples: np.ndarray, rate: int, before: float, after: float) -> np.ndarray:
    """Silence of ``before`` and ``after`` seconds around the samples."""
    head = np.zeros(round(before * rate), dtype=np.float32)
    tail = np.zeros(round(after * rate), dtype=np.float32)
    return np.concatenate([head, samples.astype(np.float32), tail])


def frame_levels_db(samples: np.ndarray, rate: int, hop_seconds: float) -> np.ndarray:
    """RMS level in dBFS of consecutive windows of ``hop_seconds`` (window centred on the hop)."""
    hop = max(1, round(rate * hop_seconds))
    count = max(1, int(np.ceil(len(samples) / hop)))
    padded = np.zeros(count * hop + hop, dtype=np.float32)
    padded[hop // 2 : hop // 2 + len(samples)] = samples
    windows = padded[: count * hop].reshape(count, hop)
    # Overlap each window with half of its neighbours so short consonants are not lost.
    energy = (windows.astype(np.float64) ** 2).mean(axis=1)
    energy = np.convolve(energy, [0.25, 0.5, 0.25], mode="same")
    return 10.0 * np.log10(energy + 1e-12)


def resampled(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono samples at ``rate`` Hz resampled to ``target`` Hz, as contiguous float64 (what WORLD,
    the voice analysis and the recogniser read)."""
    samples = np.asarray(samples, dtype=np.float64)
    if rate != target:
        from scipy.signal import resample_poly  # slow to import; most users never resample

        divisor = np.gcd(rate, target)
        samples = resample_poly(samples, target // divisor, rate // divisor)
    return np.ascontiguousarray(samples)


def duration_seconds(path: str | Path) -> float:
    samples, rate = read_wav(path)
    return len(samples) / rate
