"""``python -m engine``: render, speak, animate, probe and check consent clips from the command
line.

Each command prints one JSON object on stdout; bad input exits with status 2 and one line on
stderr that says what to fix. ``check-clip`` exits 0 with ``"passed": false`` and its reasons
when a clip was checked and failed. An option that the chosen engine would ignore (a voice sample
for festival, a weights directory for an engine that loads none) is a usage error, status 2. The
engines' settings come from options (``speak``, ``animate``) or the spec (``render``), never from
the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

from engine import __version__
from engine.errors import EngineError, FaceWeightsMissing, VoiceWeightsMissing


def _cmd_render(args: argparse.Namespace) -> dict:
    from engine.pipeline import render
    from engine.spec import RenderSpec

    spec_path = Path(args.spec)
    if not spec_path.is_file():
        raise EngineError(f"The spec file {spec_path} does not exist.")
    try:
        spec = RenderSpec.from_json(spec_path.read_text())
    except (ValueError, TypeError) as error:
        message = f"The spec file {spec_path.name} is not a valid render spec: {error}"
        raise EngineError(message) from error
    cache = None
    if args.cache:
        from engine.segment_cache import LocalSegmentCache

        cache = LocalSegmentCache(Path(args.cache))
    return render(spec, args.out, cache=cache).to_dict()


def _cmd_speak(args: argparse.Namespace) -> dict:
    from engine.voice import get_voice_engine

    for sample in args.voice_sample:
        if not Path(sample).is_file():
            raise EngineError(f"The voice sample {sample} does not exist.")
    lexicon = {}
    if args.lexicon:
        try:
            entries = json.loads(Path(args.lexicon).read_text()).items()
        except (OSError, ValueError, AttributeError) as error:
            raise EngineError(f"The lexicon {args.lexicon} is not a JSON object.") from error
        lexicon = {str(word): str(spelling) for word, spelling in entries}
    engine = get_voice_engine(args.engine, **_given(args, "weights_dir", "device"))
    speech = engine.speak(
        args.text,
        args.voice_sample,
        args.out,
        voice_profile_path=args.voice_profile,
        lexicon=lexicon,
    )
    timings = Path(args.out).with_suffix(".json")
    timings.write_text(
        json.dumps({"words": speech.words, "phonemes": speech.phonemes}, indent=1) + "\n"
    )
    return {
        "duration": round(speech.seconds, 3),
        "engine": engine.name,
        "sample_rate": speech.sample_rate,
        "wav": str(args.out),
        "timings": str(timings),
        "words": len(speech.words),
        **({"starting_voice": speech.starting_voice} if speech.starting_voice else {}),
    }


def _cmd_animate(args: argparse.Namespace) -> dict:
    from engine.audio import read_wav
    from engine.face import inspect_portrait
    from engine.face.framing import portrait_output_size
    from engine.face.landmarks import load_rgb
    from engine.pipeline import write_talking_head

    samples, rate = read_wav(args.audio)
    if args.footage:  # a footage avatar: its own motion, mouths from it; no portrait to warp
        from engine.face.footage import _probe

        probe = _probe(Path(args.footage))  # NotAVideo, before any work
        args.engine, landmarks = "footage", []
        width, height = probe.width, probe.height
    else:
        if not args.portrait:
            raise ValueError("give --portrait (a photo) or --footage (a video) to animate")
        if args.landmarks:
            landmarks = json.loads(Path(args.landmarks).read_text())
        else:
            landmarks = inspect_portrait(args.portrait).landmarks
        height, width = load_rgb(args.portrait).shape[:2]
    # Without --size: the portrait's (or footage's) own resolution, up to 1080p.
    size = (args.size, args.size) if args.size else portrait_output_size(width, height)
    frames = write_talking_head(
        args.out,
        portrait_path=args.portrait or "",
        landmarks=landmarks,
        audio_wav=args.audio,
        fps=args.fps,
        size=size,
        face_engine=args.engine,
        face_weights_dir=args.weights_dir or "",
        footage_path=args.footage or "",
        start_fraction=0.0,
    )
    return {
        "frames": frames,
        "width": size[0],
        "height": size[1],
        "fps": args.fps,
        "seconds": round(frames / args.fps, 3),
        "audio_seconds": round(len(samples) / rate, 3),
        "video": str(args.out),
    }


def _given(args: argparse.Namespace, *names: str) -> dict[str, str]:
    """The engine options among ``names`` given on the command line (the rest keep the engine's
    defaults)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


# Per command, its options that only some engines read -> what each is to the engine: an input
# of ``speak`` or a keyword option of the engine's factory (``engine.voice``, ``engine.face``).
ENGINE_OPTIONS = {
    "speak": {
        "--voice-sample": "voice_samples",
        "--voice-profile": "voice_profile",
        "--weights-dir": "weights_dir",
        "--device": "device",
    },
    "animate": {"--weights-dir": "weights_dir"},
}


def _engine_reads(command: str, engine: str) -> frozenset[str] | None:
    """What the engine chosen for ``command`` reads; None for an unknown engine."""
    if command == "speak":
        from engine.voice import voice_engine_inputs, voice_engine_names, voice_engine_options

        if engine in voice_engine_names():
            return voice_engine_inputs(engine) | voice_engine_options(engine)
    elif command == "animate":
        from engine.face import face_engine_names, face_engine_options

        if engine in face_engine_names():
            return face_engine_options(engine)
    return None


def _refuse_ignored_options(args: argparse.Namespace) -> None:
    """Exit with status 2 when an option is given that the chosen engine would ignore (a voice
    sample for festival, a weights directory for an engine that loads none). ``render`` takes
    its engines and their settings from the spec alone."""
    options = ENGINE_OPTIONS.get(args.command, {})
    reads = _engine_reads(args.command, args.engine) if options else None
    if reads is None:
        return  # no engine options, or an unknown engine: the command names the known ones
    ignored = [
        option
        for option, use in options.items()
        if getattr(args, option[2:].replace("-", "_")) and use not in reads
    ]
    if ignored:
        args.command_parser.error(
            f"the {args.engine} engine does not use {', '.join(ignored)}; leave it out or"
            " choose an engine that does"
        )


def _command_line_hint(args: argparse.Namespace, error: Exception) -> str:
    """Where the command line takes the weights that a missing-weights error (written for the
    site) asks a setting for."""
    if not isinstance(error, (VoiceWeightsMissing, FaceWeightsMissing)):
        return ""
    if args.command == "render":
        field = (
            "voice_weights_dir" if isinstance(error, VoiceWeightsMissing) else "face_weights_dir"
        )
        return f' From the command line: "{field}" in the spec.'
    return " From the command line: --weights-dir DIR."


def _cmd_probe(args: argparse.Namespace) -> dict:
    from engine.probe import probe

    anchor_path = args.trust_anchor or os.environ.get("LIKENESS_TRUST_ANCHOR", "")
    anchor = None
    if anchor_path:
        if not Path(anchor_path).is_file():
            raise EngineError(f"The trust anchor file {anchor_path} does not exist.")
        anchor = Path(anchor_path).read_bytes()
    return probe(args.file, trust_anchor_pem=anchor)


def _existing(path: str, what: str) -> Path:
    if not Path(path).is_file():
        raise EngineError(f"The {what} {path} does not exist.")
    return Path(path)


def _cmd_compare_faces(args: argparse.Namespace) -> dict:
    from engine.biometrics.face import MATCH_DISTANCE, face_distance, image_or_video_embedding

    a = image_or_video_embedding(_existing(args.a, "image or video"))
    b = image_or_video_embedding(_existing(args.b, "image or video"))
    distance = face_distance(a, b)
    return {"distance": round(distance, 4), "match": distance <= MATCH_DISTANCE}


def _cmd_compare_voices(args: argparse.Namespace) -> dict:
    from engine.biometrics.speaker import MATCH_SIMILARITY, speaker_embedding, voice_similarity

    a = speaker_embedding(_existing(args.a, "recording"))
    b = speaker_embedding(_existing(args.b, "recording"))
    similarity = voice_similarity(a, b)
    return {"similarity": round(similarity, 4), "match": similarity >= MATCH_SIMILARITY}


def _cmd_check_clip(args: argparse.Namespace) -> dict:
    from engine.biometrics.consent_clip import check_consent_clip
    from engine.biometrics.liveness import LivenessChallenge

    clip = _existing(args.clip, "consent clip")
    photos = [_existing(p, "reference photo") for p in args.reference_photo]
    voices = [_existing(v, "voice sample") for v in args.voice_sample]
    if (args.challenge_kind is None) != (args.challenge_at is None):
        raise EngineError("Give both --challenge-kind and --challenge-at, or neither.")
    challenge = None
    if args.challenge_kind is not None:
        challenge = LivenessChallenge(kind=args.challenge_kind, at_seconds=args.challenge_at)
    check = check_consent_clip(
        clip,
        challenge=args.sentence,
        reference_faces=photos,
        reference_voices=voices,
        liveness_challenge=challenge,
    )
    return check.to_dict()


def _cmd_demo(args: argparse.Namespace) -> dict:
    from engine.demo import write_demo_assets

    assets = write_demo_assets(args.dir or tempfile.mkdtemp(prefix="likeness-demo-"))
    return {"portrait": assets.portrait_path, "voice_sample": assets.voice_sample_path}


def _cmd_cache(args: argparse.Namespace) -> dict:
    from engine.segment_cache import LocalSegmentCache

    root = Path(args.dir)
    if not root.is_dir():
        raise EngineError(f"The cache folder {root} does not exist.")
    cache = LocalSegmentCache(root)
    if args.action == "stats":
        return cache.stats().to_dict()
    if args.max_bytes < 0:
        raise EngineError("--max-bytes cannot be negative.")
    deleted = cache.prune(args.max_bytes)
    after = cache.stats()
    return {"deleted": deleted, "entries": after.entries, "bytes": after.bytes}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"Likeness engine {__version__}")
    parser.add_argument("--verbose", action="store_true", help="keep native libraries' logs")
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="a whole render from a spec JSON file")
    render.add_argument("spec")
    render.add_argument("out")
    render.add_argument(
        "--cache",
        metavar="DIR",
        help="keep each segment's speech and face in this folder and reuse them next time",
    )
    render.set_defaults(run=_cmd_render)

    speak = commands.add_parser("speak", help="speech in the voice of the samples")
    speak.add_argument("--text", required=True)
    speak.add_argument("--voice-sample", action="append", default=[])
    speak.add_argument("--out", required=True)
    speak.add_argument(
        "--engine",
        default="world",
        help="world (the site's default: conversion toward the samples), festival (its own voice,"
        " no samples), xtts (cloning; needs --weights-dir)",
    )
    speak.add_argument("--voice-profile", help="a cached voice profile (.npz) of the samples")
    speak.add_argument("--lexicon", help="JSON file of word -> respelling")
    speak.add_argument(
        "--weights-dir", help="XTTS-v2's weights (xtts; the site's XTTS_WEIGHTS_DIR)"
    )
    speak.add_argument(
        "--device", help="cpu, cuda, ... (xtts; default auto; the site's XTTS_DEVICE)"
    )
    speak.set_defaults(run=_cmd_speak, command_parser=speak)

    animate = commands.add_parser(
        "animate", help="a talking head from one photo (or the subject's footage) and audio"
    )
    animate.add_argument("--portrait", help="the photo to animate")
    animate.add_argument(
        "--footage", help="a footage avatar's video: its own motion, mouths chosen from it"
    )
    animate.add_argument("--audio", required=True)
    animate.add_argument("--out", required=True)
    animate.add_argument("--engine", default="warp", help="warp (the site's default), neural")
    animate.add_argument("--fps", type=int, default=25)
    animate.add_argument(
        "--size", type=int, help="square output side in pixels (default: the portrait's size)"
    )
    animate.add_argument("--landmarks", help="JSON file of [x, y] landmarks (skip detection)")
    animate.add_argument(
        "--weights-dir", help="weights of the neural engine (the site's FACE_NEURAL_WEIGHTS_DIR)"
    )
    animate.set_defaults(run=_cmd_animate, command_parser=animate)

    probe = commands.add_parser("probe", help="what a file says about itself")
    probe.add_argument("file")
    probe.add_argument(
        "--trust-anchor",
        help="PEM root certificate that C2PA signatures must chain to (default: "
        "$LIKENESS_TRUST_ANCHOR); without one a valid manifest reads as untrusted",
    )
    probe.set_defaults(run=_cmd_probe)

    demo = commands.add_parser("demo-assets", help="write the drawn demo presenter and voice")
    demo.add_argument("--dir")
    demo.set_defaults(run=_cmd_demo)
    faces = commands.add_parser(
        "compare-faces", help="face distance of two images or videos (dlib; < 0.6: same person)"
    )
    faces.add_argument("a")
    faces.add_argument("b")
    faces.set_defaults(run=_cmd_compare_faces)

    voices = commands.add_parser(
        "compare-voices", help="speaker similarity of two WAV recordings (resemblyzer)"
    )
    voices.add_argument("a")
    voices.add_argument("b")
    voices.set_defaults(run=_cmd_compare_voices)

    clip = commands.add_parser(
        "check-clip",
        help="verify a consent clip: the sentence, the face and voice against references, and "
        "liveness (lip sync; the blink asked at --challenge-at, skipped without it)",
    )
    clip.add_argument("clip")
    clip.add_argument("--sentence", required=True, help="the challenge sentence shown")
    clip.add_argument("--reference-photo", action="append", required=True)
    clip.add_argument("--voice-sample", action="append", required=True)
    clip.add_argument("--challenge-kind", choices=["blink"])
    clip.add_argument(
        "--challenge-at", type=float, help="seconds into the recording the prompt was shown"
    )
    clip.set_defaults(run=_cmd_check_clip)

    cache = commands.add_parser("cache", help="the segment cache in a folder: stats, prune")
    cache_actions = cache.add_subparsers(dest="action", required=True)
    cache_stats = cache_actions.add_parser("stats", help="entries, bytes, namespaces, last uses")
    cache_stats.add_argument("--dir", required=True, help="the cache's folder")
    cache_prune = cache_actions.add_parser(
        "prune", help="delete the least recently used entries down to --max-bytes"
    )
    cache_prune.add_argument("--dir", required=True, help="the cache's folder")
    cache_prune.add_argument("--max-bytes", type=int, required=True)
    cache.set_defaults(run=_cmd_cache)
    return parser


@contextlib.contextmanager
def _quiet_native_logs(enabled: bool):
    """Hide what native libraries (mediapipe, TFLite) write straight to fd 2, so that a failure
    leaves exactly one line on stderr."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _refuse_ignored_options(args)
    try:
        with _quiet_native_logs(not args.verbose):
            result = args.run(args)
    except (EngineError, ValueError, OSError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}{_command_line_hint(args, error)}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0
