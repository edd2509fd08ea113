"""Speech and face per segment, each made once and kept in the segment cache.

A segment's speech (WAV and word/phone timings) is cached under a key of everything that makes
it: the voice engine and its version, the speaker's files (by hash), the text with its markup,
and the lexicon entries for its words. Its face frames (lossless H.264 in RGB, so a hit gives the
same pixels) are cached under the portrait, its landmarks, the face engine, the segment's padded
audio (by hash), its timings, the size and the frame rate. The caller checks consent before
anything here runs: a cache hit is never a way around the policy.

Every segment's audio is padded to a whole number of frames, so frames and sound of a timeline
made of many segments never drift apart, and faded in and out over a few milliseconds, so a join
never clicks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess  # nosec B404: runs ffmpeg with argument lists, never through a shell
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import __version__
from engine.audio import read_wav, write_wav
from engine.errors import EngineError
from engine.segment_cache import NullSegmentCache, SegmentCache, segment_key
from engine.tools import require_tool

Timing = tuple[str, float, float]
log = logging.getLogger(__name__)

EDGE_FADE_SECONDS = 0.004  # a join is faded out and in this fast: no click, nothing heard


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Speaker:
    """What the voice is made from: the engine and the subject's files (hashed once)."""

    voice_engine: str
    sample_paths: tuple[str, ...]
    profile_path: str = ""
    options: tuple[tuple[str, str], ...] = ()  # the engine's settings that change its output

    def fingerprint(self) -> dict:
        return {
            "engine": self.voice_engine,
            "samples": [file_sha256(p) for p in self.sample_paths],
            "profile": file_sha256(self.profile_path) if self.profile_path else "",
            "options": list(self.options),
        }


@dataclass(frozen=True)
class Presenter:
    """What the face is made from."""

    face_engine: str
    portrait_path: str
    landmarks: tuple[tuple[float, ...], ...]
    options: tuple[tuple[str, str], ...] = ()
    motion: str = "natural"  # engine.face.drive.MOTION_STYLES
    footage_path: str = ""  # a footage avatar's video (the "footage" engine animates from it)

    def fingerprint(self) -> dict:
        points = np.asarray(self.landmarks, dtype=np.float32).round(3).tobytes()
        key = {
            "engine": self.face_engine,
            "portrait": file_sha256(self.portrait_path),
            "landmarks": hashlib.sha256(points).hexdigest(),
            "options": list(self.options),
            "motion": self.motion,
        }
        if self.footage_path:  # only then, so keys of photo avatars stay as they were
            key["footage"] = file_sha256(self.footage_path)
        return key


@dataclass
class SpokenSegment:
    """A segment's padded audio on its own clock (0 = its first sample) and its timings."""

    wav_path: Path
    rate: int
    frames: int  # video frames it lasts; the audio is exactly frames / fps long
    words: list[Timing] = field(default_factory=list)
    phonemes: list[Timing] = field(default_factory=list)
    text: str = ""
    cached: bool = False
    global_words: list[Timing] = field(default_factory=list)  # on the timeline's clock
    personal: bool = False  # engine.timeline.Segment.personal: see engine.segment_cache.CachePlaces


def fetch_entry(cache: SegmentCache, key: str, folder: Path) -> bool:
    """A cache that cannot be read is a miss: the segment is made again, the render goes on."""
    try:
        return cache.fetch(key, folder)
    except Exception:
        log.warning("The segment cache could not be read; making the segment again.", exc_info=True)
        for stale in folder.iterdir():
            stale.unlink()
        return False


def store_entry(cache: SegmentCache, key: str, folder: Path) -> None:
    """A cache that cannot be written costs the next render time, never this one its video."""
    try:
        cache.store(key, folder)
    except Exception:
        log.warning("The segment cache could not be written.", exc_info=True)


def lexicon_for(text: str, lexicon: Mapping[str, str]) -> dict[str, str]:
    """The lexicon entries that can change how ``text`` is spoken (its words, any case)."""
    words = {w.casefold() for w in re.findall(r"[\w'\u2019-]+", text)}
    return {k: v for k, v in sorted(lexicon.items()) if k.casefold() in words}


def speak_segment(
    text: str,
    *,
    voice,
    speaker: Speaker,
    speaker_key: dict,
    lexicon: Mapping[str, str],
    before: float,
    after: float,
    fps: int,
    folder: Path,
    name: str,
    cache: SegmentCache,
    namespace: str,
) -> SpokenSegment:
    """The segment spoken (from the cache when it was spoken before), then padded with
    ``before`` and ``after`` seconds of silence up to a whole number of frames."""
    key = segment_key(
        namespace,
        stage="speech",
        version=__version__,
        speaker=speaker_key,
        text=text,
        lexicon=lexicon_for(text, lexicon),
    )
    entry = folder / f"{name}-speech"
    entry.mkdir(parents=True, exist_ok=True)
    cached = fetch_entry(cache, key, entry)
    if not cached:
        speech = voice.speak(
            text,
            list(speaker.sample_paths),
            str(entry / "speech.wav"),
            voice_profile_path=speaker.profile_path or None,
            lexicon=dict(lexicon),
        )
        if Path(speech.wav_path) != entry / "speech.wav":
            Path(speech.wav_path).replace(entry / "speech.wav")
        timings = {"words": speech.words, "phonemes": speech.phonemes}
        (entry / "timings.json").write_text(json.dumps(timings))
        store_entry(cache, key, entry)
    samples, rate = read_wav(entry / "speech.wav")
    timings = json.loads((entry / "timings.json").read_text())
    padded, frames = pad_to_frames(samples, rate, before, after, fps)
    out = folder / f"{name}.wav"
    write_wav(out, padded, rate)
    return SpokenSegment(
        wav_path=out,
        rate=rate,
        frames=frames,
        words=shifted(timings["words"], before),
        phonemes=shifted(timings["phonemes"], before),
        text=text,
        cached=cached,
    )


def silent_segment(
    seconds: float, *, rate: int, fps: int, folder: Path, name: str
) -> SpokenSegment:
    """Silence for a scene that lasts longer than its speech (the presenter idles)."""
    padded, frames = pad_to_frames(np.zeros(0, np.float32), rate, seconds, 0.0, fps)
    out = folder / f"{name}.wav"
    write_wav(out, padded, rate)
    return SpokenSegment(wav_path=out, rate=rate, frames=frames, cached=True)


def pad_to_frames(
    samples: np.ndarray, rate: int, before: float, after: float, fps: int
) -> tuple[np.ndarray, int]:
    """``samples`` with silence before and after, faded at both edges, lasting a whole number
    of frames (rounded up); returns the audio and its frame count."""
    samples = np.asarray(samples, dtype=np.float32)
    lead = round(before * rate)
    wanted = lead + samples.size + round(after * rate)
    frames = max(1, -(-wanted * fps // rate))  # ceil
    total = round(frames * rate / fps)
    out = np.zeros(total, dtype=np.float32)
    out[lead : lead + samples.size] = samples[: max(0, total - lead)]
    fade = min(round(EDGE_FADE_SECONDS * rate), total // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out, frames


def shifted(timings: Sequence, offset: float) -> list[Timing]:
    """``timings`` moved ``offset`` seconds later."""
    return [(label, round(s + offset, 4), round(e + offset, 4)) for label, s, e in timings]


def face_key(
    spoken: SpokenSegment, presenter_key: dict, size: tuple[int, int], fps: int, namespace: str
) -> str:
    """The cache key of a segment's face frames: everything they are made from."""
    return segment_key(
        namespace,
        stage="face",
        version=__version__,
        presenter=presenter_key,
        audio=file_sha256(spoken.wav_path),
        words=spoken.words,
        phonemes=spoken.phonemes,
        size=list(size),
        fps=fps,
    )


class FaceFrames:
    """A segment's face frames: from the cache (a lossless file decoded exactly), or made by the
    face engine and, when a cache is kept, written to one as they pass."""

    def __init__(
        self,
        spoken: SpokenSegment,
        *,
        face,
        presenter: Presenter,
        presenter_key: dict,
        size: tuple[int, int],
        fps: int,
        folder: Path,
        name: str,
        cache: SegmentCache,
        namespace: str,
        progress: Callable[[float], None] | None = None,
    ):
        self.spoken, self.face, self.presenter = spoken, face, presenter
        self.size, self.fps, self.cache, self.progress = size, fps, cache, progress
        self.key = face_key(spoken, presenter_key, size, fps, namespace)
        self.entry = folder / f"{name}-face"
        self.entry.mkdir(parents=True, exist_ok=True)
        self.cached = fetch_entry(cache, self.key, self.entry)

    @property
    def count(self) -> int:
        return self.spoken.frames

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.cached:
            yield from _read_lossless(self.entry / "frames.mkv", self.size, self.count)
            return
        keep = not isinstance(self.cache, NullSegmentCache)
        writer = _LosslessWriter(self.entry / "frames.mkv", self.size, self.fps) if keep else None
        made = 0
        try:
            for frame in self.face.animate(
                self.presenter.portrait_path,
                [list(p) for p in self.presenter.landmarks],
                str(self.spoken.wav_path),
                self.fps,
                self.size,
                words=self.spoken.words,
                phonemes=self.spoken.phonemes,
                progress=self.progress,
                motion=self.presenter.motion,
            ):
                if made == self.count:
                    break  # an engine that rounds up: the audio decides the length
                if writer is not None:
                    writer.write(frame)
                made += 1
                yield frame
            while made < self.count:  # an engine that rounds down: hold the last frame
                if writer is not None:
                    writer.write(frame)
                made += 1
                yield frame
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if writer is not None:
            writer.finish()
            store_entry(self.cache, self.key, self.entry)


class _LosslessWriter:
    """Frames into a lossless file (x264 in RGB at qp 0: decoding gives back the same bytes).
    FFV1 was lossless too but took twice as long to decode (3.6 against 1.9 ms a frame at 274 px),
    and a re-render decodes every cached frame."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int):
        width, height = size
        command = [require_tool("ffmpeg"), "-y", "-v", "error", "-nostdin"]
        command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
        command += ["-framerate", str(fps), "-i", "pipe:0"]
        command += ["-c:v", "libx264rgb", "-preset", "ultrafast", "-qp", "0", "-threads", "1"]
        command += [str(path)]
        self.path = path
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours

    def write(self, frame: np.ndarray) -> None:
        self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))

    def finish(self) -> None:
        self._proc.stdin.close()
        error = self._proc.stderr.read()
        if self._proc.wait() != 0:
            raise EngineError(f"Caching a segment's frames failed: {error.decode()[-200:]}")

    def abort(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self.path.unlink(missing_ok=True)


def _read_lossless(path: Path, size: tuple[int, int], count: int) -> Iterator[np.ndarray]:
    width, height = size
    command = [require_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path)]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # nosec B603: an argument list with the tool's absolute path (require_tool), no shell; paths are ours
    frame_bytes = width * height * 3
    try:
        for _ in range(count):
            data = proc.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                raise EngineError(f"A cached segment ({path.parent.name}) ended early.")
            yield np.frombuffer(bytearray(data), dtype=np.uint8).reshape(height, width, 3)
    finally:
        proc.kill()
        proc.wait()
