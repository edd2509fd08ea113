"""Voice quality of the default voice engine on target voices the repo can make.

Targets are flite's built-in voices (Debian ``flite``): ``awb`` (Scottish English male, CMU
ARCTIC), ``rms`` (US English male, CMU ARCTIC) and ``kal16`` (US English male, diphones). They are
real people's recorded voices, different from festival's ``slt`` (US English female) that the
engine speaks with. For each target:
- enrollment: ENROLL sentences spoken by the target, made into one sample and a voice profile;
- held out: HELD_OUT other sentences of the target, the reference for speaker similarity;
- test: TEST sentences (in neither set) spoken by plain festival and by the ``world`` engine.

Prints one JSON object: per target and mean of
``similarity_before`` (plain festival vs held-out target speech, resemblyzer cosine),
``similarity_after`` (converted speech vs held-out target speech), ``wer`` (word error rate of
the converted speech against its text as Moonshine hears it, ``engine.voice.intelligibility``;
``wer_before`` for plain festival),
``realtime_factor`` (wall seconds of ``speak`` / seconds of speech, festival included) and
``cpu_realtime_factor`` (CPU seconds, festival included, / seconds of speech: what the machine's
load does not change), plus the load average. The conversion is never tuned on these
similarity scores, nor on what the recogniser hears of these sentences.

    .venv/bin/python bench/voice_quality.py [--targets awb,rms] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sentences import HARVARD_1
from engine.audio import read_wav, write_wav
from engine.biometrics.speaker import speaker_embedding_of_samples, voice_similarity
from engine.voice import get_voice_engine
from engine.voice.intelligibility import transcribe_samples, word_error_rate
from engine.voice.profile import compute_voice_profile
from engine.voice.world import festival_profile

TARGETS = ["awb", "rms", "kal16"]
# Harvard sentences (IEEE 1969), public domain.
ENROLL = HARVARD_1
HELD_OUT = [
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
]
TEST = [
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
]


def flite_say(voice: str, text: str, out: Path) -> np.ndarray:
    flite = shutil.which("flite")
    if flite is None:
        raise SystemExit("flite is not installed (Debian package flite; scripts/setup.sh adds it)")
    subprocess.run([flite, "-voice", voice, "-t", text, "-o", str(out)], check=True)
    samples, rate = read_wav(out)
    assert rate == 16000, rate
    return samples


def joined(pieces: list[np.ndarray], rate: int = 16000, gap: float = 0.3) -> np.ndarray:
    silence = np.zeros(round(gap * rate), dtype=np.float32)
    return np.concatenate([p for piece in pieces for p in (piece, silence)])


def speak_for_target(voice: str, work: Path) -> dict:
    """Enroll ``voice`` and speak the TEST sentences toward it, timed (nothing else running)."""
    enroll = joined([flite_say(voice, s, work / f"{voice}-e{i}.wav") for i, s in enumerate(ENROLL)])
    held = joined([flite_say(voice, s, work / f"{voice}-h{i}.wav") for i, s in enumerate(HELD_OUT)])
    sample = work / f"{voice}-enroll.wav"
    write_wav(sample, enroll, 16000)
    profile_path = work / f"{voice}.npz"
    compute_voice_profile([sample]).save(profile_path)

    engine = get_voice_engine("world")
    outputs, spent, cpu, spoken = [], 0.0, 0.0, 0.0
    for i, text in enumerate(TEST):
        out = work / f"{voice}-t{i}.wav"
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        speech = engine.speak(text, [str(sample)], str(out), voice_profile_path=str(profile_path))
        spent += time.perf_counter() - started
        cpu += _cpu_seconds() - cpu_started
        spoken += speech.seconds
        outputs.append(read_wav(out))
    return {"held_out": held, "outputs": outputs, "spent": spent, "cpu": cpu, "spoken": spoken}


def score_target(spoken: dict, plain: list[tuple[np.ndarray, int]]) -> dict:
    """Similarity and word error rate of what ``speak_for_target`` made, and of plain festival."""
    reference = speaker_embedding_of_samples(spoken["held_out"], 16000)
    before, after, wer, wer_before = [], [], [], []
    for text, (converted, rate), (festival_samples, festival_rate) in zip(
        TEST, spoken["outputs"], plain, strict=True
    ):
        after.append(voice_similarity(speaker_embedding_of_samples(converted, rate), reference))
        wer.append(word_error_rate(text, transcribe_samples(converted, rate)))
        before.append(
            voice_similarity(
                speaker_embedding_of_samples(festival_samples, festival_rate), reference
            )
        )
        wer_before.append(
            word_error_rate(text, transcribe_samples(festival_samples, festival_rate))
        )
    return {
        "similarity_before": round(float(np.mean(before)), 3),
        "similarity_after": round(float(np.mean(after)), 3),
        "wer": round(float(np.mean(wer)), 3),
        "wer_before": round(float(np.mean(wer_before)), 3),
        "realtime_factor": round(spoken["spent"] / spoken["spoken"], 3),
        "cpu_realtime_factor": round(spoken["cpu"] / spoken["spoken"], 3),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (festival), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    festival_profile()  # measured once per machine and cached; not part of a render's cost
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="likeness-voice-bench-") as tmp:
        work = Path(tmp)
        festival = get_voice_engine("festival")
        plain = []
        for i, text in enumerate(TEST):
            speech = festival.speak(text, [], str(work / f"festival-t{i}.wav"))
            plain.append(read_wav(speech.wav_path))
        # Every target is spoken (and timed) before any recognition or embedding runs: their
        # thread pools must not spin while the engine is being timed.
        spoken = {voice: speak_for_target(voice, work) for voice in args.targets.split(",")}
        for voice, made in spoken.items():
            results[voice] = score_target(made, plain)
    keys = [
        "similarity_before",
        "similarity_after",
        "wer",
        "wer_before",
        "realtime_factor",
        "cpu_realtime_factor",
    ]
    mean = {k: round(float(np.mean([r[k] for r in results.values()])), 3) for k in keys}
    report = {
        "engine": "world",
        "targets": results,
        "mean": mean,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
