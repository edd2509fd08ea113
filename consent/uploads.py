"""Checks of the files members upload as consent evidence: the scan of a consent signed on paper,
and the subject's written request to revoke. Each check is cheap first (name, size), then reads
the content: the first bytes must be the type the name says, and the file must open. Nothing is
stored until a file passes; every refusal says what to upload instead."""

from __future__ import annotations

import email
import email.policy
import io
from dataclasses import dataclass
from pathlib import PurePath

from django.template.defaultfilters import filesizeformat

from consent.models import ConsentError


class EvidenceFileError(ConsentError):
    """An evidence upload that cannot be kept; the message names the file and what to do."""


# Extension -> kind. A signed paper consent is a scan or a PDF; a written request may also be the
# email the subject sent (saved as .eml) or its text.
SIGNED_DOCUMENT_TYPES = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
WRITTEN_REQUEST_TYPES = {**SIGNED_DOCUMENT_TYPES, ".eml": "email", ".txt": "text"}

KIND_LABELS = {
    "pdf": "a PDF",
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "email": "an email message",
    "text": "a text file",
}
KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "email": "EML", "text": "TXT"}
# A scan at 600 dpi of an A4 page is ~35 megapixels; more is not a scan.
MAX_IMAGE_PIXELS = 60_000_000


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # a key of KIND_LABELS


def describe_types(types: dict[str, str]) -> str:
    """ "PDF, JPEG or PNG": the kinds a set of extensions allows, for messages and help."""
    names = list(dict.fromkeys(KIND_NAMES[kind] for kind in types.values()))
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def sniff(head: bytes) -> str | None:
    """The kind the first bytes announce, for the binary kinds; None for anything else."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def check_evidence_file(upload, *, types: dict[str, str], max_bytes: int, what: str) -> CheckedFile:
    """Refuse (EvidenceFileError) a file of another type than its name says, too large, empty or
    damaged; return its kind (the service that keeps it records its SHA-256). The upload is
    left at its start."""
    name = PurePath(upload.name or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in types:
        raise EvidenceFileError(
            f"The {what} must be a {describe_types(types)} file; “{name}” is not."
        )
    if upload.size == 0:
        raise EvidenceFileError(f"“{name}” is empty; upload the {what} again.")
    if upload.size > max_bytes:
        raise EvidenceFileError(
            f"“{name}” is {filesizeformat(upload.size)}; the {what} may be at most "
            f"{filesizeformat(max_bytes)}. Scan it at a lower resolution or in grey."
        )
    upload.seek(0)
    data = b"".join(upload.chunks())
    upload.seek(0)
    kind = types[suffix]
    found = sniff(data[:16])
    if kind in ("pdf", "jpeg", "png") and found != kind:
        is_really = f"it is {KIND_LABELS[found]}" if found else "its content is not"
        raise EvidenceFileError(
            f"“{name}” is not {KIND_LABELS[kind]}: {is_really}. Upload the file as the scanner "
            "or the subject made it, with its own extension."
        )
    if kind in ("email", "text") and found is not None:
        raise EvidenceFileError(
            f"“{name}” is not {KIND_LABELS[kind]}: it is {KIND_LABELS[found]}. Upload it with "
            "its own extension."
        )
    OPENERS[kind](data, name)
    return CheckedFile(kind=kind)


def _open_pdf(data: bytes, name: str) -> None:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise EvidenceFileError(
                f"“{name}” is protected by a password; upload a copy without the protection."
            )
        pages = int(reader.root["/Pages"]["/Count"])
    except EvidenceFileError:
        raise
    # A damaged PDF fails in the parser in many ways; each means the same to the person uploading.
    except (PdfError, KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise EvidenceFileError(
            f"“{name}” is a damaged PDF that cannot be opened; scan or export it again."
        ) from error
    if pages < 1:
        raise EvidenceFileError(f"“{name}” has no pages; scan or export it again.")


def _open_image(data: bytes, name: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise EvidenceFileError(
                    f"“{name}” is {width} x {height} pixels; scan it at 300 dpi (at most "
                    f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels)."
                )
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except EvidenceFileError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise EvidenceFileError(
            f"“{name}” is a damaged image that cannot be opened; scan it again."
        ) from error


def _decoded_text(data: bytes, name: str, what: str) -> str:
    if b"\x00" in data:
        raise EvidenceFileError(f"“{name}” is not {what}: it holds binary data.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older mail and text files: every byte is a character


def _open_text(data: bytes, name: str) -> None:
    if not _decoded_text(data, name, "a text file").strip():
        raise EvidenceFileError(f"“{name}” holds no text; upload the subject's request itself.")


def _open_email(data: bytes, name: str) -> None:
    _decoded_text(data, name, "an email message")
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not message["From"] or not (message["Date"] or message["Subject"]):
        raise EvidenceFileError(
            f"“{name}” is not an email message (it has no sender or date); save the subject's "
            "email from your mail program as .eml, or upload it as a PDF."
        )
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None or not body.get_content().strip():
        raise EvidenceFileError(f"“{name}” has no text; save the subject's email again.")


OPENERS = {
    "pdf": _open_pdf,
    "jpeg": _open_image,
    "png": _open_image,
    "email": _open_email,
    "text": _open_text,
}
