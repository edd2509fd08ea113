"""Verification: what a file says about itself, matched against this site's provenance records."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from core.errors import UserError
from core.files import upload_to_local
from engine.c2pa import TRAINED_ALGORITHMIC_MEDIA
from engine.errors import EngineError
from engine.keys import ensure_site_identity
from engine.probe import MediaLimits, probe
from provenance.models import ProvenanceRecord

log = logging.getLogger(__name__)

# A stream's facts the public report shows; bandwidth_hz: where the sound ends, as measured.
PUBLIC_STREAM_KEYS = (
    "type",
    "codec",
    "duration",
    "width",
    "height",
    "fps",
    "sample_rate",
    "channels",
    "bandwidth_hz",
)
# IPTC digital source types that say a generative model made the media (in whole or in part).
AI_SOURCE_TYPES = {
    TRAINED_ALGORITHMIC_MEDIA,
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
}
MAX_NAME_CHARS = 120


class VerificationRefused(UserError):
    """The file cannot be checked; the message says why, for the user."""

    code = "verification_refused"


@dataclass
class Verification:
    report: dict

    @property
    def record(self) -> dict | None:
        return self.report["record"]


def trust_anchor() -> bytes:
    return ensure_site_identity(settings.SITE_KEYS_DIR, site_name=settings.SITE_NAME).root_pem()


def upload_name(upload) -> str:
    """The name the visitor gave the file, without any folder, cut to a readable length."""
    name = Path(str(upload.name or "")).name.strip() or "The upload"
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def verify_limits() -> MediaLimits:
    """What one public check may cost: checked before the file is decoded."""
    side = settings.VERIFY_MAX_SIDE
    return MediaLimits(
        max_bytes=settings.VERIFY_MAX_BYTES,
        max_seconds=settings.VERIFY_MAX_SECONDS,
        max_side=side,
        max_pixels=side * side,
        tool_seconds=settings.VERIFY_TOOL_SECONDS,
    )


def verify_upload(upload) -> Verification:
    """Check an uploaded file (a Django UploadedFile) and return the public report."""
    if upload.size > settings.VERIFY_MAX_BYTES:
        raise VerificationRefused(
            f"The file is larger than {settings.VERIFY_MAX_BYTES // (1024 * 1024)} MB."
        )
    suffix = Path(upload.name or "").suffix.lower()[:8]
    with tempfile.TemporaryDirectory(prefix="verify-") as folder:
        path = Path(folder) / f"upload{suffix if suffix.isascii() else ''}"
        upload_to_local(upload, path)
        return verify_path(path, name=upload_name(upload))


def verify_path(path: Path, *, name: str | None = None) -> Verification:
    """The report on the file at ``path`` (``name``: the visitor's name for it). Refuses, with a
    reason, what is not a video or audio file we can read, or is beyond ``verify_limits``."""
    name = name or path.name
    try:
        info = probe(path, trust_anchor_pem=trust_anchor(), limits=verify_limits(), name=name)
    except EngineError as error:
        raise VerificationRefused(str(error)) from error
    return Verification(public_report(info, name=name))


@dataclass
class Match:
    """What a file points to: its record and how we know, or only the lineage its frames carry
    (``lineage``: the frame mark, ``lineage_videos``: how many renders share it)."""

    record: ProvenanceRecord | None = None
    matched_by: str | None = None
    lineage: str | None = None
    lineage_videos: int = 0


def _find_record(info: dict) -> Match:
    """The record the file points to, and how we know: the strongest evidence first. A trusted
    manifest names the render; the frames' mark names a render or a lineage of renders (which
    share frames), among which the audio mark picks the render; never a guess between two."""
    manifest = info["c2pa"]
    marks = info["watermark"] or {}
    prefix = (marks.get("audio") or {}).get("payload")
    if manifest["valid"] and manifest["trusted"] and manifest["provenance"]:
        payload = manifest["provenance"].get("provenance_id")
        record = ProvenanceRecord.objects.filter(payload_id=str(payload)).first()
        if record:
            return Match(record, "c2pa")
    frame_mark = marks.get("provenance_id")
    if frame_mark:
        lineage = list(ProvenanceRecord.objects.filter(frame_mark_id=str(frame_mark))[:2])
        if len(lineage) == 1:
            return Match(lineage[0], "video watermark")
        if lineage:
            renders = ProvenanceRecord.objects.filter(frame_mark_id=str(frame_mark))
            if prefix:
                picked = list(renders.filter(audio_prefix=prefix)[:2])
                if len(picked) == 1:
                    return Match(picked[0], "audio watermark")
            return Match(None, "video watermark (lineage)", str(frame_mark), renders.count())
    if prefix:
        matches = list(ProvenanceRecord.objects.filter(audio_prefix=prefix)[:2])
        if len(matches) == 1:  # 32 bits: unique in practice, but never guess between two
            return Match(matches[0], "audio watermark")
    return Match()


def ai_evidence(manifest: dict, marks: dict) -> list[dict]:
    """What says the file is AI-generated: a valid manifest declaring a generative source, or a
    watermark found (with its confidence). An unreadable manifest store is never evidence."""
    evidence = []
    if (
        manifest["store"] == "manifest"
        and manifest["valid"]
        and manifest["digital_source_type"] in AI_SOURCE_TYPES
    ):
        evidence.append(
            {"kind": "c2pa", "signer": manifest["signer"], "trusted": manifest["trusted"]}
        )
    for kind in ("video", "audio"):
        mark = marks.get(kind)
        if mark and mark["found"]:
            evidence.append({"kind": f"{kind} watermark", "confidence": mark["confidence"]})
    return evidence


def public_report(info: dict, *, name: str | None = None) -> dict:
    """The probe's findings, trimmed to what is safe to show anyone, plus the matched record."""
    match = _find_record(info)
    record = match.record
    manifest = info["c2pa"]
    marks = info["watermark"] or {}
    video_mark, audio_mark = marks.get("video"), marks.get("audio")
    label = info.get("visible_label")
    evidence = ai_evidence(manifest, marks)
    return {
        "file": {
            "name": name or Path(info["path"]).name,
            "format": info["format"],
            "duration": info["duration"],
            "size_bytes": info["size_bytes"],
            "streams": [
                {k: s.get(k) for k in PUBLIC_STREAM_KEYS if s.get(k) is not None}
                for s in info["streams"]
            ],
        },
        "c2pa": {
            key: manifest[key]
            for key in (
                "store",
                "present",
                "valid",
                "trusted",
                "state",
                "signer",
                "issuer",
                "signed_at",
                "generator",
                "digital_source_type",
                "errors",
            )
        },
        "watermark": {"video": video_mark, "audio": audio_mark},
        "visible_label": ({"found": label["found"], "corner": label["corner"]} if label else None),
        "synthetic_metadata": info["synthetic"],
        "marked": bool(evidence),
        "evidence": evidence,
        "matched_by": match.matched_by,
        "record": record.public_summary() if record else None,
        # Only the frames' mark was read, and it is shared by several renders (a campaign's
        # variants): the file is one of them, which one its sound would have said.
        "lineage": (
            {"frame_mark_id": match.lineage, "videos": match.lineage_videos}
            if match.lineage
            else None
        ),
    }
