"""C2PA: sign an MP4 with the site's certificate chain, and read a file's manifest back.

The manifest opens with ``c2pa.created`` (digitalSourceType trainedAlgorithmicMedia, the engine as
software agent) and carries ``likeness.provenance``: the provenance record's id, the watermark
payload and a hash of the consent grant. It never carries the subject's name or biometrics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import c2pa

from engine import __version__
from engine.errors import EngineError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PROVENANCE_LABEL = "likeness.provenance"
SOFTWARE_AGENT = {"name": "Likeness engine", "version": __version__}


def manifest_definition(title: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """The manifest JSON: what made the file, and a link to its provenance record."""
    return {
        "claim_generator_info": [SOFTWARE_AGENT],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": SOFTWARE_AGENT,
                            "description": "Synthetic presenter video: AI-generated face and "
                            "voice, made with the subject's recorded consent.",
                        }
                    ]
                },
            },
            {"label": PROVENANCE_LABEL, "data": dict(provenance)},
        ],
    }


def sign_mp4(
    source: str | Path,
    dest: str | Path,
    *,
    chain_pem: bytes,
    key_pem: bytes,
    provenance: dict[str, Any],
    title: str = "video.mp4",
) -> None:
    """Write ``dest``: ``source`` with an embedded C2PA manifest signed ES256 by ``chain_pem``."""
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, None)
    dest = Path(dest)
    partial = dest.with_name(f".{dest.name}.c2pa")
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(manifest_definition(title, provenance)) as builder,
            open(source, "rb") as src,
            open(partial, "w+b") as out,
        ):
            builder.sign(signer, "video/mp4", src, out)
        os.replace(partial, dest)
    except c2pa.C2paError as error:
        partial.unlink(missing_ok=True)
        raise EngineError(f"Could not sign the video's C2PA manifest: {error}") from error


def _context(trust_anchor_pem: bytes | None) -> c2pa.Context | None:
    if not trust_anchor_pem:
        return None
    settings = {
        "verify": {"verify_trust": True},
        "trust": {"trust_anchors": trust_anchor_pem.decode("ascii")},
    }
    return c2pa.Context.from_dict(settings)


def read_manifest(path: str | Path, trust_anchor_pem: bytes | None = None) -> dict[str, Any]:
    """What the file's C2PA manifest says, JSON-ready.

    ``store``: "absent" (no C2PA data), "manifest" (a manifest was read), "unreadable" (C2PA data
    or the file around it could not be parsed) or "unsupported" (a kind of file C2PA cannot
    read); only "manifest" sets ``present``. ``valid``: its signature and hashes check out (a
    changed byte makes it invalid); ``trusted``: the signer chains to ``trust_anchor_pem``;
    ``state``: the reader's own word (Invalid, Valid, Trusted); ``errors``: failure codes, or why
    the store could not be read.
    """
    result: dict[str, Any] = {
        "store": "absent",
        "present": False,
        "valid": False,
        "trusted": False,
        "state": None,
        "signer": None,
        "issuer": None,
        "signed_at": None,
        "generator": None,
        "digital_source_type": None,
        "provenance": None,
        "errors": [],
    }
    context = _context(trust_anchor_pem)
    try:
        kwargs = {} if context is None else {"context": context}
        with c2pa.Reader(str(path), **kwargs) as reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state()
    except c2pa.C2paError as error:
        text = str(error)
        if "ManifestNotFound" in text or "JumbfNotFound" in text or "no JUMBF" in text.lower():
            return result
        # Not a manifest: nothing was read, so nothing is claimed (random bytes land here).
        result["store"] = "unsupported" if "NotSupported" in text else "unreadable"
        printable = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
        result["errors"] = [printable[:300]]
        return result
    active = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    if not active:
        return result
    result["store"] = "manifest"
    failures = [
        s.get("code")
        for s in store.get("validation_status") or []
        if s.get("code") and not _benign(s.get("code"))
    ]
    untrusted = any("untrusted" in (code or "").lower() for code in failures)
    hard_failures = [c for c in failures if "untrusted" not in c.lower()]
    signature = active.get("signature_info") or {}
    result.update(
        present=True,
        state=state,
        valid=not hard_failures,
        trusted=bool(trust_anchor_pem) and not hard_failures and not untrusted,
        signer=signature.get("common_name") or signature.get("issuer"),
        issuer=signature.get("issuer"),
        signed_at=signature.get("time"),
        generator=_generator(active),
        errors=failures,
    )
    for assertion in active.get("assertions", []):
        label = assertion.get("label", "")
        if label.startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                if action.get("action") == "c2pa.created":
                    result["digital_source_type"] = action.get("digitalSourceType")
        elif label == PROVENANCE_LABEL:
            result["provenance"] = assertion.get("data")
    return result


def _benign(code: str) -> bool:
    # Timestamps are optional: no time-stamp authority is reachable from an offline site.
    return code.startswith("timeStamp.")


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info, list):
        first = info[0]
        return " ".join(str(first.get(k, "")) for k in ("name", "version")).strip() or None
    return manifest.get("claim_generator")
