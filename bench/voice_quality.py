"""Voice quality of the default voice engine on target voices of both sexes and two recording
qualities.

Targets (real people's recorded voices or a synthetic female, none of them the subject of a
render):
- flite's ``awb`` (Scottish English male), ``rms`` (US English male), ``kal16`` (US English male,
  diphones): Debian ``flite``;
- festival's ``ked`` (US English male, diphones, Debian ``festvox-kdlpc16k``) and espeak-ng's
  ``en-us+f3`` (``f3``, a female formant voice): voices no engine setting was chosen on;
- ``NAME-8k``: each of those enrolled from a phone-band copy (8 kHz, 300 Hz high-pass), as a
  voice message or a phone call records it.

Each target is held out of the engine's starting voices (``engine.voice.starting``): a voice of
the same speaker is never where its conversion starts. For each target:
- enrollment: ENROLL sentences spoken by the target (at its recording quality), one sample and
  a voice profile;
- held out: HELD_OUT other sentences of the target (full band), the reference for similarity;
- test: TEST sentences (in neither set) spoken by plain festival, by the ``world`` engine, and by
  the target itself (full band): the ``ceiling``, what the target's own speech scores.

Prints one JSON object: per target and mean of ``similarity_before`` (plain festival vs held-out
target speech, resemblyzer cosine), ``similarity_after`` (converted speech vs held-out target
speech), ``ceiling``, ``wer`` (word error rate of the converted speech as Moonshine hears it,
``engine.voice.intelligibility``; ``wer_before`` for plain festival), ``starting_voice``,
``realtime_factor`` (wall seconds of ``speak`` / seconds of speech, festival included) and
``cpu_realtime_factor`` (CPU seconds / seconds of speech); ``goals`` checks the targets of issue
18 (similarity >= 0.80 on every target, mean within 0.08 of the ceiling, WER within 0.03 of plain
festival's). The conversion is never tuned on these similarity scores, nor on what the
recogniser hears of these sentences.

    .venv/bin/python -m bench.voice_quality [--targets awb,rms-8k] [--out result.json]

Issue 18, one machine (2 CPUs, loaded): similarity after conversion, main before the issue
(every conversion from festival's slt) -> now (the nearest starting voice, narrow-band pitch
and band edges, pull 0.4 from a flite voice); the ceiling; word error rate (plain festival
0.069):
    awb 0.823 -> 0.823 (0.897; 0.042 -> 0.042)     awb-8k   0.645 -> 0.673 (0.119 -> 0.105)
    rms 0.816 -> 0.775 (0.923; 0.069 -> 0.187)     rms-8k   0.565 -> 0.568 (0.161 -> 0.105)
    kal16 0.770 -> 0.729 (0.903; 0.111 -> 0.104)   kal16-8k 0.640 -> 0.645 (0.362 -> 0.216)
    ked 0.774 -> 0.770 (0.917; 0.234 -> 0.115)     ked-8k   0.604 -> 0.675 (0.434 -> 0.161)
    f3  0.732 -> 0.732 (0.903; 0.153 -> 0.153)     f3-8k    0.603 -> 0.648 (0.216 -> 0.069)
    mean 0.697 -> 0.704 (ceiling 0.909), WER 0.190 -> 0.126, CPU real-time factor 0.149 -> 0.169.
With the flite voices pulled 0.8 (the festival pull, which the dev-WER rule refuses for them):
mean 0.727, WER 0.150 (rms 0.817 / 0.237, ked 0.798 / 0.059, ked-8k 0.697 / 0.147). None of
the issue's goals is met yet (lowest 0.568, 0.205 from the ceiling, WER +0.057).
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
from engine.audio import read_wav, resampled, write_wav
from engine.biometrics.speaker import speaker_embedding_of_samples, voice_similarity
from engine.voice import get_voice_engine
from engine.voice.intelligibility import transcribe_samples, word_error_rate
from engine.voice.profile import compute_voice_profile
from engine.voice.starting import installed_starting_voices, starting_voice_profile
from engine.voice.world import WorldVoice

RATE = 16000
PHONE_RATE = 8000
VOICES = ["awb", "rms", "kal16", "ked", "f3"]
TARGETS = [*VOICES, *(f"{voice}-8k" for voice in VOICES)]
# Who recorded each target: the engine's starting voices of that speaker are held out.
SPEAKERS = {"awb": "awb", "rms": "rms", "kal16": "kal", "ked": "ked", "f3": "espeak-f3"}
FESTIVAL_VOICES = {"ked": "voice_ked_diphone"}
ESPEAK_VOICES = {"f3": "en-us+f3"}
GOAL_SIMILARITY = 0.80
GOAL_CEILING_GAP = 0.08
GOAL_WER_MARGIN = 0.03
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


def say(voice: str, text: str, out: Path) -> np.ndarray:
    """``text`` spoken by the target ``voice`` (full band), 16 kHz float32."""
    if voice in FESTIVAL_VOICES:
        command = [_tool("text2wave"), "-eval", f"({FESTIVAL_VOICES[voice]})", "-o", str(out)]
        subprocess.run(command, input=text.encode(), check=True, capture_output=True)
    elif voice in ESPEAK_VOICES:
        subprocess.run([_tool("espeak-ng"), "-v", ESPEAK_VOICES[voice], "-w", str(out), text])
    else:
        subprocess.run([_tool("flite"), "-voice", voice, "-t", text, "-o", str(out)], check=True)
    samples, rate = read_wav(out)
    return resampled(samples, rate, RATE).astype(np.float32)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


def phone_band(samples: np.ndarray) -> np.ndarray:
    """``samples`` (RATE) as a phone line carries them: 8 kHz, 300 Hz high-pass."""
    from scipy.signal import butter, sosfilt

    narrow = resampled(samples, RATE, PHONE_RATE)
    return sosfilt(butter(4, 300, "highpass", fs=PHONE_RATE, output="sos"), narrow).astype(
        np.float32
    )


def joined(pieces: list[np.ndarray], rate: int = RATE, gap: float = 0.3) -> np.ndarray:
    silence = np.zeros(round(gap * rate), dtype=np.float32)
    return np.concatenate([p for piece in pieces for p in (piece, silence)])


def world_engine(target: str) -> WorldVoice:
    """The default engine with the target's own speaker held out of its starting voices."""
    speaker = SPEAKERS[target.removesuffix("-8k")]
    names = [v.name for v in installed_starting_voices() if v.speaker != speaker]
    return WorldVoice(starting_voices=names)


def speak_for_target(target: str, work: Path) -> dict:
    """Enroll ``target`` and speak the TEST sentences toward it, timed (nothing else running)."""
    voice = target.removesuffix("-8k")
    enroll = joined([say(voice, s, work / f"{voice}-e{i}.wav") for i, s in enumerate(ENROLL)])
    held = joined([say(voice, s, work / f"{voice}-h{i}.wav") for i, s in enumerate(HELD_OUT)])
    own = [say(voice, s, work / f"{voice}-o{i}.wav") for i, s in enumerate(TEST)]
    sample = work / f"{target}-enroll.wav"
    if target.endswith("-8k"):
        write_wav(sample, phone_band(enroll), PHONE_RATE)
    else:
        write_wav(sample, enroll, RATE)
    profile_path = work / f"{target}.npz"
    compute_voice_profile([sample]).save(profile_path)

    engine = world_engine(target)
    outputs, spent, cpu, spoken, starts = [], 0.0, 0.0, 0.0, set()
    for i, text in enumerate(TEST):
        out = work / f"{target}-t{i}.wav"
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        speech = engine.speak(text, [str(sample)], str(out), voice_profile_path=str(profile_path))
        spent += time.perf_counter() - started
        cpu += _cpu_seconds() - cpu_started
        spoken += speech.seconds
        outputs.append(read_wav(out))
        starts.add(getattr(speech, "starting_voice", "slt"))
    return {
        "held_out": held,
        "own": own,
        "outputs": outputs,
        "spent": spent,
        "cpu": cpu,
        "spoken": spoken,
        "starting_voice": ",".join(sorted(starts)),
    }


def score_target(spoken: dict, plain: list[tuple[np.ndarray, int]]) -> dict:
    """Similarity and word error rate of what ``speak_for_target`` made, of plain festival and
    of the target's own speech of the same sentences (the ceiling)."""
    reference = speaker_embedding_of_samples(spoken["held_out"], RATE)

    def similarity(samples: np.ndarray, rate: int) -> float:
        return voice_similarity(speaker_embedding_of_samples(samples, rate), reference)

    before, after, ceiling, wer, wer_before = [], [], [], [], []
    for text, (converted, rate), (festival_samples, festival_rate), own in zip(
        TEST, spoken["outputs"], plain, spoken["own"], strict=True
    ):
        after.append(similarity(converted, rate))
        before.append(similarity(festival_samples, festival_rate))
        ceiling.append(similarity(own, RATE))
        wer.append(word_error_rate(text, transcribe_samples(converted, rate)))
        wer_before.append(
            word_error_rate(text, transcribe_samples(festival_samples, festival_rate))
        )
    return {
        "starting_voice": spoken["starting_voice"],
        "similarity_before": round(float(np.mean(before)), 3),
        "similarity_after": round(float(np.mean(after)), 3),
        "ceiling": round(float(np.mean(ceiling)), 3),
        "wer": round(float(np.mean(wer)), 3),
        "wer_before": round(float(np.mean(wer_before)), 3),
        "realtime_factor": round(spoken["spent"] / spoken["spoken"], 3),
        "cpu_realtime_factor": round(spoken["cpu"] / spoken["spoken"], 3),
    }


def goals(results: dict[str, dict], mean: dict) -> dict:
    """Issue 18's targets, each as measured and whether it is met."""
    lowest = min(r["similarity_after"] for r in results.values())
    gap = mean["ceiling"] - mean["similarity_after"]
    wer_excess = mean["wer"] - mean["wer_before"]
    return {
        "lowest_similarity": round(lowest, 3),
        "lowest_similarity_met": lowest >= GOAL_SIMILARITY,
        "mean_gap_to_ceiling": round(gap, 3),
        "mean_gap_to_ceiling_met": gap <= GOAL_CEILING_GAP,
        "wer_above_plain": round(wer_excess, 3),
        "wer_above_plain_met": wer_excess <= GOAL_WER_MARGIN,
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
    for voice in installed_starting_voices():  # measured once per machine and cached
        starting_voice_profile(voice)
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
        spoken = {target: speak_for_target(target, work) for target in args.targets.split(",")}
        for target, made in spoken.items():
            results[target] = score_target(made, plain)
    keys = [k for k, v in next(iter(results.values())).items() if isinstance(v, float)]
    mean = {k: round(float(np.mean([r[k] for r in results.values()])), 3) for k in keys}
    report = {
        "engine": "world",
        "targets": results,
        "mean": mean,
        "goals": goals(results, mean),
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
