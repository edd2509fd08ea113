"""Speed of the neural face engine (MuseTalk 1.5) by batch size and precision.

    .venv/bin/python -m bench.face_neural --device cuda --weights DIR [--out result.json]
    .venv/bin/python -m bench.face_neural --tiny            # CPU, a tiny random release

``DIR`` is MuseTalk's ``models/`` folder (the site's ``FACE_NEURAL_WEIGHTS_DIR``). For each
precision (fp32, fp16 and bf16 where the device supports them) and batch size (1, 4, 8, 16, 32)
it times what a render repeats per frame: one UNet pass and one VAE decode per face, the faces
brought back to the host as uint8 (``engine.face.neural.generate``), after one warm-up batch.
Work done once per render (the reference latents, Whisper over one second of audio) is reported
apart as ``setup_seconds``; the face-parsing mask (once per render) is not timed, nor the paste
and the warp rig's head motion, which run on the CPU per frame.

Prints one JSON object: ``device``, ``weights``, and per precision ``{"BATCH": {"fps": f,
"seconds_per_batch": s}, "setup_seconds": s}``. ``--tiny`` writes a tiny random copy of the
release (``tests/engine/tiny_musetalk.py``) so the script can be checked without a GPU or
weights; its figures say nothing about real speed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BATCHES = (1, 4, 8, 16, 32)
PRECISIONS = ("float32", "float16", "bfloat16")


def _supported(device: str, dtype: str) -> bool:
    import torch

    if dtype == "float32":
        return True
    if device.startswith("cuda"):
        return dtype == "float16" or torch.cuda.is_bf16_supported()
    return dtype == "bfloat16"  # fp16 convolutions are not implemented on every CPU build


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(weights: Path, device: str, batches=BATCHES, precisions=PRECISIONS, repeats=3):
    """Frames per second of ``generate`` for each supported precision and batch size."""
    from engine.face.neural import (
        AUDIO_CONTEXT,
        CROP,
        audio_features,
        generate,
        load_models,
        positional_encoding,
        reference_latents,
    )

    result = {"device": device, "weights": str(weights), "precisions": {}}
    face = np.full((CROP, CROP, 3), 128, np.uint8)
    for dtype in precisions:
        if not _supported(device, dtype):
            result["precisions"][dtype] = "unsupported on this device"
            continue
        models = load_models(str(weights), device, dtype)
        start = time.perf_counter()
        latent_in = reference_latents(models, face)
        states = audio_features(models, np.zeros(16000, np.float32), 16000)
        _sync(device)
        figures = {"setup_seconds": round(time.perf_counter() - start, 4)}
        tokens = 2 * (sum(AUDIO_CONTEXT) + 1) * states.shape[1]
        dim = states.shape[-1]
        rng = np.random.default_rng(0)
        for batch in batches:
            windows = rng.normal(size=(batch, tokens, dim)).astype(np.float32)
            windows += positional_encoding(tokens, dim)
            generate(models, latent_in, windows)  # warm-up: kernels, allocator
            _sync(device)
            start = time.perf_counter()
            for _ in range(repeats):
                generate(models, latent_in, windows)
            _sync(device)
            seconds = (time.perf_counter() - start) / repeats
            figures[str(batch)] = {
                "fps": round(batch / seconds, 2),
                "seconds_per_batch": round(seconds, 4),
            }
        result["precisions"][dtype] = figures
        load_models.cache_clear()  # one precision's models in memory at a time
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--weights", help="MuseTalk's models/ folder (FACE_NEURAL_WEIGHTS_DIR)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random release (checks)")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    batches = tuple(int(b) for b in args.batches.split(","))
    from engine.errors import EngineError
    from engine.face.neural import weights_dir

    with tempfile.TemporaryDirectory() as scratch:
        try:
            if args.tiny:
                from tests.engine.tiny_musetalk import write_tiny_release

                folder = write_tiny_release(Path(scratch) / "models")
            else:
                folder = weights_dir(args.weights)
            result = measure(folder, args.device, batches, repeats=args.repeats)
        except EngineError as error:
            print(error, file=sys.stderr)
            return 2
    result["tiny"] = args.tiny
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
