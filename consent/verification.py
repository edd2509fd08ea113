"""Worker side of consent verification: the clip checked in its own process under a time limit
(`python -m engine check-clip`), every number stored, the grant activated or sent for review."""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs this engine's own CLI with argument lists, never through a shell
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from consent import ledger
from consent.ledger import Event
from consent.models import ConsentGrant, ConsentVerification
from core.files import copy_to_local


def check_clip_in_subprocess(
    clip: Path, *, sentence: str, faces: list[Path], voices: list[Path], challenge: dict
) -> dict:
    """`python -m engine check-clip` under a time limit, so no clip can hold a worker for long.
    Returns its JSON; a refusal (bad input) or an overrun is a failed check with the reason."""
    command = [sys.executable, "-m", "engine", "check-clip", str(clip), "--sentence", sentence]
    for face in faces:
        command += ["--reference-photo", str(face)]
    for voice in voices:
        command += ["--voice-sample", str(voice)]
    if challenge:
        command += ["--challenge-kind", challenge["kind"]]
        command += ["--challenge-at", str(challenge["at_seconds"])]
    limit = settings.CONSENT_VERIFY_TIMEOUT_SECONDS
    try:
        result = subprocess.run(  # nosec B603: sys.executable -m engine with an argument list, no shell; the sentence is one argument
            command, capture_output=True, text=True, timeout=limit, cwd=settings.BASE_DIR
        )
    except subprocess.TimeoutExpired:
        reason = f"The automatic check did not finish within {limit} s; a person must review it."
        return {"passed": False, "reasons": [reason], "thresholds": {}}
    try:
        outcome = json.loads(result.stdout)
        if result.returncode == 0 and isinstance(outcome, dict) and "passed" in outcome:
            return outcome
    except ValueError:
        pass
    lines = result.stderr.strip().splitlines()
    reason = lines[-1] if lines else "The automatic check could not read the clip."
    return {"passed": False, "reasons": [reason], "thresholds": {}}


def run_verification(grant_id: int) -> str:
    """Worker side: score the clip, store every number, and activate or flag the grant."""
    grant = ConsentGrant.objects.get(pk=grant_id)
    if grant.status != ConsentGrant.Status.VERIFYING:
        return grant.status
    with tempfile.TemporaryDirectory(prefix=f"verify-{grant.pk}-") as folder:
        workdir = Path(folder)
        faces = [copy_to_local(grant.reference_portrait, workdir, "portrait")]
        voices = [copy_to_local(grant.reference_voice, workdir, "voice")]
        faces = [f for f in faces if f.stat().st_size]
        voices = [v for v in voices if v.stat().st_size]
        outcome = check_clip_in_subprocess(
            copy_to_local(grant.consent_clip, workdir, "clip"),
            sentence=grant.challenge_text,
            faces=faces,
            voices=voices,
            challenge=grant.liveness_challenge,
        )
    if not grant.liveness_challenge:
        outcome["passed"] = False
        outcome["reasons"] = [
            *outcome.get("reasons", []),
            "The clip was uploaded without the recording page's live challenge; a person must "
            "review it.",
        ]
    with transaction.atomic():
        locked = ConsentGrant.objects.select_for_update().get(pk=grant_id)
        verification = ConsentVerification.objects.create(
            grant=locked,
            passed=bool(outcome["passed"]),
            transcript=outcome.get("transcript", ""),
            word_error_rate=outcome.get("word_error_rate"),
            face_distance=outcome.get("face_distance"),
            voice_similarity=outcome.get("voice_similarity"),
            single_face_ratio=outcome.get("single_face_ratio"),
            frames_checked=outcome.get("frames_checked", 0),
            clip_seconds=outcome.get("seconds"),
            thresholds=outcome.get("thresholds") or {},
            reasons=outcome.get("reasons", []),
            liveness=outcome.get("liveness") or {},
        )
        locked.conclude_verification(passed=verification.passed)
        ledger.append(
            Event.VERIFIED,
            grant=locked,
            passed=verification.passed,
            scores={
                "word_error_rate": verification.word_error_rate,
                "face_distance": verification.face_distance,
                "voice_similarity": verification.voice_similarity,
                "single_face_ratio": verification.single_face_ratio,
                "lip_sync": verification.liveness.get("lip_sync_correlation"),
                "challenge_passed": verification.liveness.get("challenge_passed"),
            },
            thresholds=verification.thresholds,
            reasons=verification.reasons,
            status=locked.status,
        )
    return locked.status
