"""Real-time factor of the Chatterbox voice engine (engine.voice.chatterbox) on one device.

    .venv/bin/python -m bench.voice_neural --device cuda --weights DIR   # the released weights
    .venv/bin/python -m bench.voice_neural --device cpu --tiny           # random, small T3

``--weights`` defaults to the environment's VOICE_CHATTERBOX_WEIGHTS_DIR. ``--tiny`` writes
random weights in the release's layout (T3 of 1 layer, S3Gen and the voice encoder at their
sizes) to a temporary folder: the figures then time the code path, not the real model (a random
T3 rarely says "stop", so each sentence runs to the engine's bound on tokens). ``--sample``: the
subject's voice sample (WAV); without one, a synthetic vowel-like voice is made.

Prints one JSON object: load seconds, conditioning included in the first sentence, and per
sentence seconds of speech, wall seconds and their ratio (the real-time factor; below 1 is faster
than real time), with their totals after the first (warm).

Measured: ``--tiny --device cpu --sentences 2`` on this project's 2-CPU machine, loaded by other
work: load 9.8 s, real-time factor 44.8 for the first sentence (conditioning included) and 31.2
warm (random T3 running to its bound, 5.7-5.8 s of speech a sentence). No GPU was lent to measure
``--device cuda`` with the released weights, which this machine does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.audio import write_wav
from engine.voice.chatterbox import ChatterboxVoice, load_model, write_random_weights

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
]


def synthetic_voice(path: Path, seconds: float = 6.0, rate: int = 16000) -> None:
    """A pulse train at a wandering 120 Hz through two vowel-like resonances: voice enough for
    the model's conditioning to run, never a person's."""
    from scipy.signal import lfilter

    t = np.arange(round(seconds * rate)) / rate
    pitch = 120 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    pulses = (np.diff(np.floor(np.cumsum(pitch) / rate), prepend=0) > 0).astype(np.float64)
    out = pulses
    for formant, width in ((700, 80), (1200, 90)):
        radius = np.exp(-np.pi * width / rate)
        theta = 2 * np.pi * formant / rate
        out = lfilter([1.0], [1, -2 * radius * np.cos(theta), radius**2], out)
    write_wav(path, (0.3 * out / np.abs(out).max()).astype(np.float32), rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--weights", default=os.environ.get("VOICE_CHATTERBOX_WEIGHTS_DIR", ""))
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--sample", default="")
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voice-neural-") as tmp:
        folder = Path(tmp)
        weights = write_random_weights(folder / "weights") if args.tiny else Path(args.weights)
        sample = Path(args.sample) if args.sample else folder / "sample.wav"
        if not args.sample:
            synthetic_voice(sample)
        started = time.perf_counter()
        voice = ChatterboxVoice(weights, device=args.device, seed=0)
        load_model(str(voice.weights_dir), voice.device)
        load_seconds = time.perf_counter() - started
        rows = []
        for number, text in enumerate(SENTENCES[: args.sentences]):
            started = time.perf_counter()
            speech = voice.speak(text, [str(sample)], str(folder / f"{number}.wav"))
            wall = time.perf_counter() - started
            rows.append(
                {
                    "text": text,
                    "speech_seconds": round(speech.seconds, 3),
                    "wall_seconds": round(wall, 3),
                    "realtime_factor": round(wall / max(speech.seconds, 1e-6), 3),
                }
            )
    warm = rows[1:] or rows
    print(
        json.dumps(
            {
                "device": voice.device,
                "tiny": args.tiny,
                "load_seconds": round(load_seconds, 2),
                "sentences": rows,
                "warm_realtime_factor": round(
                    sum(r["wall_seconds"] for r in warm) / sum(r["speech_seconds"] for r in warm),
                    3,
                ),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
