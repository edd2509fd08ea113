"""Watermark robustness: marked clips through the attacks of issue 7, and unmarked clips for false
positives. Prints one JSON object.

Run: ``python -m bench.watermark_robustness [--clips N] [--unmarked M]`` from the repository root.

Clips are 4 s at 512x512, 25 fps: the drawn demo presenter and photos shipped with scikit-image
(a portrait, a cat, coffee, a rocket...), with a moving mouth-sized region, festival speech as the
soundtrack, a random 64-bit id each. The marked clip is encoded once (x264 crf 20, AAC 128k) like
a render, then every attack re-encodes that file with ffmpeg. Per attack: ``exact`` is the share of
clips whose payload came back exactly (CRC valid), ``bit_accuracy`` the share of the 64 (video) or
32 (audio) decoded bits that are right, read even when the CRC fails. False positives: unmarked
clips (other photos, crops, noise, gradients, at several sizes, through H.264) and unmarked speech
(festival + noise) for which the detector reported any payload. ``audio_short_render``: a one-line
script as a render speaks it (2 s of speech framed by 0.4 s and 0.6 s of silence), one payload
per clip, through AAC. ``audio_quality``: does the mark harm the speech? Word error rate of
Moonshine (which no mark parameter was chosen by) on Harvard sentences, unmarked and marked, and
the speech-to-mark energy ratio. Speeds are wall time in this
process on a shared machine: compare them only within one run; ``load_average`` is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from bench.sentences import HARVARD_1
from engine.audio import pad_with_silence, read_wav, write_wav
from engine.demo import write_demo_assets
from engine.voice import get_voice_engine
from engine.watermark import (
    VideoWatermarker,
    audio_payload,
    detect_audio,
    embed_audio,
    read_audio_mark,
    read_video_mark,
)

SIZE, FPS, SECONDS = 512, 25, 4
HARVARD = HARVARD_1[:8]
PHOTOS = [
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "cat",
    "camera",
    "immunohistochemistry",
]

VIDEO_ATTACKS = {
    "h264_crf23": "-c:v libx264 -crf 23",
    "h264_crf28": "-c:v libx264 -crf 28",
    "h264_crf35": "-c:v libx264 -crf 35",
    "downscale50_crf28": "-vf scale=iw/2:ih/2 -c:v libx264 -crf 28",
    "downscale_360p": "-vf scale=-2:360 -c:v libx264 -crf 23",
    "crop10_each_border": "-vf crop=iw*0.8:ih*0.8 -c:v libx264 -crf 23",
    "fps25_to_30": "-r 30 -c:v libx264 -crf 23",
    "brightness_contrast_10": "-vf eq=brightness=0.04:contrast=1.1 -c:v libx264 -crf 23",
    "trim_3s": "-ss 0.6 -t 3 -c:v libx264 -crf 23",
}
AUDIO_ATTACKS = {
    "aac_64k": ("-c:a aac -b:a 64k", "m4a"),
    "mp3_128k": ("-c:a libmp3lame -b:a 128k", "mp3"),
    "resample_16k": ("-ar 16000", "wav"),
    "noise_20db_snr": (None, "wav"),
    "trim_3s": ("-ss 0.6 -t 3 -c:a aac -b:a 64k", "m4a"),
}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-nostdin", *args], check=True)


def source_images(folder: Path) -> list[tuple[str, np.ndarray]]:
    demo = np.asarray(Image.open(write_demo_assets(folder / "demo").portrait_path).convert("RGB"))
    images = [("demo_presenter", demo)]
    for name in PHOTOS:
        image = getattr(data, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        images.append((name, image[..., :3]))
    return [
        (n, cv2.resize(np.ascontiguousarray(i).astype(np.uint8), (SIZE, SIZE))) for n, i in images
    ]


def clip_frames(image: np.ndarray, seed: int) -> np.ndarray:
    """A still with a mouth-sized region that moves, like a talking head."""
    rng = np.random.default_rng(seed)
    frames = np.repeat(image[None], SECONDS * FPS, axis=0).copy()
    x0 = int(rng.integers(150, 300))
    for i, frame in enumerate(frames):
        top = 280 + int(8 * np.sin(i / 2.0))
        region = frame[top : top + 24, x0 : x0 + 70]
        region[...] = (region * (0.65 + 0.1 * np.sin(i))).astype(np.uint8)
    return frames


def encode(frames: np.ndarray, wav: Path | None, out: Path, crf: int = 20) -> None:
    _, h, w, _ = frames.shape
    cmd = ["ffmpeg", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{w}x{h}", "-framerate", str(FPS), "-i", "pipe:0"]
    if wav is not None:
        cmd += ["-i", str(wav), "-c:a", "aac", "-b:a", "128k", "-shortest"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    subprocess.run([*cmd, str(out)], input=frames.tobytes(), check=True)


def bit_accuracy(decoded: int | None, truth: int, bits: int) -> float:
    if decoded is None:
        return 0.5  # nothing decoded: as good as a coin
    return 1.0 - bin((decoded ^ truth) & ((1 << bits) - 1)).count("1") / bits


def speech_track(folder: Path) -> tuple[np.ndarray, int]:
    text = (
        "Welcome to this short lesson about keeping customer data safe. First, we will look at "
        "where personal information lives in our systems, and then practise spotting a "
        "suspicious email."
    )
    speech = get_voice_engine("festival").speak(text, [], str(folder / "speech.wav"))
    samples, rate = read_wav(speech.wav_path)
    return samples[: rate * SECONDS], rate


def measure(clips: int, unmarked: int, folder: Path) -> dict:
    rng = np.random.default_rng(2026)
    images = source_images(folder)
    speech, rate = speech_track(folder)
    video_results = {name: [] for name in ["clean_crf20", *VIDEO_ATTACKS]}
    joint_results = {name: [] for name in ["clean_crf20", *VIDEO_ATTACKS]}
    audio_results = {name: [] for name in ["clean_aac128k", *AUDIO_ATTACKS]}
    psnrs, embed_fps, detect_seconds, detect_frames = [], [], [], []
    per_source = {}
    for index in range(clips):
        name, image = images[index % len(images)]
        payload = int(rng.integers(0, 2**63)) | (int(rng.integers(0, 2)) << 63)
        plain = clip_frames(image, index)
        marked = plain.copy()
        marker = VideoWatermarker(payload, SIZE, SIZE)
        started = time.perf_counter()
        for frame in marked:
            marker.apply(frame)
        embed_fps.append(len(marked) / (time.perf_counter() - started))
        psnrs.append(10 * np.log10(255**2 / np.mean((plain.astype(np.float64) - marked) ** 2)))
        wav = folder / f"marked-{index}.wav"
        write_wav(wav, embed_audio(speech, rate, audio_payload(payload)), rate)
        original = folder / f"marked-{index}.mp4"
        encode(marked, wav, original)
        started = time.perf_counter()
        mark = read_video_mark(original)
        detect_seconds.append(time.perf_counter() - started)
        detect_frames.append(SECONDS * FPS)
        video_results["clean_crf20"].append((mark.payload == payload, mark.raw_bits, payload))
        joint_results["clean_crf20"].append((mark.payload == payload, mark.raw_bits, payload))
        audio = read_audio_mark(original)
        truth = audio_payload(payload)
        audio_results["clean_aac128k"].append((audio.payload == truth, audio.raw_bits, truth))
        for attack, options in VIDEO_ATTACKS.items():
            out = folder / f"a-{index}-{attack}.mp4"
            args = options.split()
            if attack == "trim_3s":  # seek before the input: any 3 s stretch, not the start
                ffmpeg(*args[:4], "-i", str(original), *args[4:], str(out))
            else:
                ffmpeg("-i", str(original), *args, "-pix_fmt", "yuv420p", str(out))
            heard = read_audio_mark(out)
            prefix = heard.payload if heard is not None else None
            mark = read_video_mark(out, known_prefix=prefix)
            alone = mark.payload == payload and not mark.used_audio_prefix
            video_results[attack].append((alone, mark.raw_bits, payload))
            joint_results[attack].append((mark.payload == payload, mark.raw_bits, payload))
            per_source.setdefault(name, {}).setdefault(attack, []).append(mark.payload == payload)
        for attack, (options, ext) in AUDIO_ATTACKS.items():
            out = folder / f"a-{index}-{attack}.{ext}"
            if options is None:
                samples, _ = read_wav(wav)
                noise = np.random.default_rng(index).normal(size=samples.shape)
                noise *= np.sqrt(np.mean(samples**2) / 100.0)  # 20 dB below the signal
                found = detect_audio(samples + noise, rate)
            else:
                args = options.split()
                if attack == "trim_3s":
                    ffmpeg(*args[:4], "-i", str(original), *args[4:], "-vn", str(out))
                else:
                    ffmpeg("-i", str(original), "-vn", *args, str(out))
                found = read_audio_mark(out)
            audio_results[attack].append((found.payload == truth, found.raw_bits, truth))
        for path in folder.glob(f"a-{index}-*"):
            path.unlink()
        exact = {a: int(r[-1][0]) for a, r in video_results.items()}
        print(f"clip {index} ({name}): video exact {exact}", file=sys.stderr, flush=True)

    def summarise(results: dict, bits: int) -> dict:
        return {
            attack: {
                "payload_exact": round(float(np.mean([r[0] for r in rows])), 3),
                "bit_accuracy": round(
                    float(np.mean([bit_accuracy(r[1], r[2], bits) for r in rows])), 4
                ),
                "clips": len(rows),
            }
            for attack, rows in results.items()
        }

    false_video, false_audio, fp_seconds = unmarked_trials(folder, unmarked, speech, rate)
    short_render = short_render_trials(folder, clips)
    return {
        "clips": clips,
        "clip": f"{SECONDS} s, {SIZE}x{SIZE}, {FPS} fps, x264 crf 20 + AAC 128k before attacks",
        "sources": [n for n, _ in images[: min(clips, len(images))]],
        "video": summarise(video_results, 64),
        # The same files, the frames' decoder given the 32 bits the file's audio mark carries.
        "video_with_audio_prefix": {
            attack: values["payload_exact"]
            for attack, values in summarise(joint_results, 64).items()
        },
        "audio": summarise(audio_results, 32),
        "audio_short_render": short_render,
        "audio_quality": audio_quality(folder),
        "video_exact_by_source": {
            name: {a: round(float(np.mean(v)), 2) for a, v in attacks.items()}
            for name, attacks in per_source.items()
        },
        "false_positives": {
            "video": {"unmarked_clips": unmarked, "payloads_reported": false_video},
            "audio": {"unmarked_clips": unmarked, "payloads_reported": false_audio},
        },
        "psnr_db": {"mean": round(float(np.mean(psnrs)), 2), "min": round(float(min(psnrs)), 2)},
        "speed": {
            "embed_fps_512": round(float(np.median(embed_fps)), 1),
            "detect_seconds_per_clip": round(float(np.median(detect_seconds)), 2),
            "detect_fps": round(float(np.sum(detect_frames) / np.sum(detect_seconds)), 1),
            "false_positive_trial_seconds": round(fp_seconds, 1),
            "cv2_threads": cv2.getNumThreads(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }


def short_render_trials(folder: Path, count: int) -> dict:
    """A one-line render's soundtrack, one random payload per trial, through AAC 128k and 64k."""
    speech = get_voice_engine("festival").speak(
        "Hello. This video is synthetic.", [], str(folder / "short.wav")
    )
    samples, rate = read_wav(speech.wav_path)
    samples = pad_with_silence(samples, rate, 0.4, 0.6)
    rng = np.random.default_rng(11)
    exact = {"aac_128k": 0, "aac_64k": 0}
    marked = folder / "short-marked.wav"
    for _ in range(count):
        payload = int(rng.integers(0, 2**32))
        write_wav(marked, embed_audio(samples, rate, payload), rate)
        for attack in exact:
            out = folder / f"short-{attack}.m4a"
            ffmpeg("-i", str(marked), "-c:a", "aac", "-b:a", attack[4:], str(out))
            exact[attack] += read_audio_mark(out).payload == payload
    return {
        "track_seconds": round(len(samples) / rate, 2),
        **{attack: round(hits / count, 3) for attack, hits in exact.items()},
        "clips": count,
    }


def audio_quality(folder: Path) -> dict:
    from engine.voice.intelligibility import transcribe_samples, word_error_rate

    errors = {"unmarked": [], "marked": []}
    ratios = []
    for index, text in enumerate(HARVARD):
        speech = get_voice_engine("festival").speak(text, [], str(folder / f"h{index}.wav"))
        samples, rate = read_wav(speech.wav_path)
        marked = embed_audio(samples, rate, 0x5EED0000 + index)
        ratios.append(10 * np.log10(np.sum(samples**2) / np.sum((marked - samples) ** 2)))
        for name, audio in (("unmarked", samples), ("marked", marked)):
            heard = transcribe_samples(np.asarray(audio, np.float32), rate)
            errors[name].append(word_error_rate(text, heard))
    return {
        "sentences": len(HARVARD),
        "wer_unmarked": round(float(np.mean(errors["unmarked"])), 3),
        "wer_marked": round(float(np.mean(errors["marked"])), 3),
        "speech_to_mark_db": round(float(np.mean(ratios)), 1),
    }


def unmarked_trials(folder: Path, count: int, speech: np.ndarray, rate: int):
    """Unmarked video (photos, crops, noise, gradients, several sizes, through H.264) and audio."""
    rng = np.random.default_rng(7)
    names = [n for n in dir(data) if n in [*PHOTOS, "coins", "moon", "page", "text", "brick"]]
    started = time.perf_counter()
    false_video = false_audio = 0
    for trial in range(count):
        kind = trial % 4
        width, height = [(320, 240), (384, 384), (512, 512), (640, 360)][trial % 4]
        if kind == 3:  # smooth gradient plus sensor-like noise
            base = np.linspace(40, 220, width)[None, :, None] + rng.normal(0, 6, (height, width, 3))
            image = np.clip(base, 0, 255).astype(np.uint8)
        else:
            photo = np.asarray(getattr(data, names[trial % len(names)])())
            if photo.dtype != np.uint8:  # binary or float images
                photo = (255 * (photo.astype(np.float64) / max(1e-9, photo.max()))).astype(np.uint8)
            if photo.ndim == 2:
                photo = np.stack([photo] * 3, axis=-1)
            photo = photo[..., :3]
            scale = rng.uniform(1.0, 2.0)
            photo = cv2.resize(photo, None, fx=scale, fy=scale)
            y = int(rng.integers(0, max(1, photo.shape[0] - height)))
            x = int(rng.integers(0, max(1, photo.shape[1] - width)))
            image = cv2.resize(
                np.ascontiguousarray(photo[y : y + height, x : x + width]), (width, height)
            )
        frames = np.repeat(image[None], 8, axis=0)
        out = folder / "unmarked.mp4"
        encode(np.ascontiguousarray(frames), None, out, crf=int(rng.integers(18, 36)))
        if read_video_mark(out).payload is not None:
            false_video += 1
        # Audio: the same speech, unmarked, shifted, with noise at a random level.
        start = int(rng.integers(0, rate))
        noisy = speech[start:] + rng.normal(0, rng.uniform(0.001, 0.03), len(speech) - start)
        if detect_audio(noisy, rate).payload is not None:
            false_audio += 1
    return false_video, false_audio, time.perf_counter() - started


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=9, help="marked clips (default 9)")
    parser.add_argument("--unmarked", type=int, default=200, help="unmarked clips (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-") as folder:
        return measure(args.clips, args.unmarked, Path(folder))


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
