"""Slide decks into slides: a PDF is read as it is, a PPTX is turned into a PDF by LibreOffice
(headless, in a process group of its own, killed whole past the time limit) and its speaker
notes are read as the slides' scripts.

Everything is checked before anything is kept: the size, the ZIP's own directory (a ZIP bomb
named .pptx is refused by what it says it unpacks to, before anything is unpacked), the PDF's
pages (none, too many, a password, damage). ``read_deck`` works in a folder of its own and
returns plain data; the caller saves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess  # nosec B404: LibreOffice runs with an argument list, never through a shell
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium

from core.errors import UserError

PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted OOXML file, or an old .ppt


class DeckRefused(UserError):
    """The deck cannot be imported; the message says why and what to do."""

    code = "deck_refused"


@dataclass(frozen=True)
class DeckLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_slides: int = 50
    max_unpacked_bytes: int = 300 * 1024 * 1024  # what a PPTX's parts add up to, unpacked
    max_ratio: int = 200  # unpacked / packed, for any part larger than 1 MB unpacked
    max_parts: int = 5000
    convert_seconds: float = 120.0
    soffice: str = "soffice"


@dataclass
class Slide:
    page: int  # 1 = the first
    title: str = ""
    notes: str = ""


@dataclass
class ReadDeck:
    pdf_path: Path  # inside the caller's folder
    slides: list[Slide] = field(default_factory=list)


def read_deck(data_path: Path, name: str, folder: Path, limits: DeckLimits) -> ReadDeck:
    """Read the deck at ``data_path`` (uploaded as ``name``) into ``folder``: a PDF and one
    Slide per page, with a PPTX's notes. DeckRefused with a message for anything else."""
    size = data_path.stat().st_size
    if size == 0:
        raise DeckRefused(f"“{name}” is empty.")
    if size > limits.max_bytes:
        raise DeckRefused(
            f"“{name}” is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{limits.max_bytes / 1024 / 1024:.0f} MB."
        )
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        pdf = folder / "deck.pdf"
        pdf.write_bytes(data_path.read_bytes())
        slides = _pdf_slides(pdf, name, limits)
        return ReadDeck(pdf, slides)
    if suffix == ".pptx":
        notes = _check_pptx(data_path, name, limits)
        pdf = _convert(data_path, folder, name, limits)
        slides = _pdf_slides(pdf, name, limits)
        for slide in slides:
            slide.notes = notes.get(slide.page, "")
        return ReadDeck(pdf, slides)
    raise DeckRefused(f"“{name}” is not a PDF or a PPTX file.")


def _pdf_slides(pdf: Path, name: str, limits: DeckLimits) -> list[Slide]:
    try:
        document = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError as error:
        # PDFium's error code can be stale (left by an earlier document), so what pyHanko reads
        # of the file decides; the code only where pyHanko cannot read it either.
        pages, encrypted = _pdf_facts(pdf)
        if pages == 0:  # PDFium will not open a document without pages
            raise DeckRefused(f"“{name}” has no pages.") from error
        if encrypted or (
            encrypted is None and getattr(error, "err_code", None) == PDFIUM_PASSWORD_ERROR
        ):
            raise DeckRefused(
                f"“{name}” is protected by a password; save it without one and upload it again."
            ) from error
        raise DeckRefused(f"“{name}” cannot be read as a PDF; it may be damaged.") from error
    try:
        pages = len(document)
        if pages == 0:
            raise DeckRefused(f"“{name}” has no pages.")
        if pages > limits.max_slides:
            raise DeckRefused(
                f"“{name}” has {pages} slides; a lesson takes at most {limits.max_slides} from "
                "one deck. Split it and import the parts."
            )
        slides = []
        for number in range(pages):
            page = document[number]
            try:
                width, height = page.get_size()
                if not (width > 0 and height > 0):
                    raise DeckRefused(f"Page {number + 1} of “{name}” has no size.")
                slides.append(Slide(number + 1, title=_first_line(page)))
            finally:
                page.close()
        return slides
    finally:
        document.close()


def _pdf_facts(pdf: Path) -> tuple[int | None, bool | None]:
    """(pages, encrypted) of a PDF that PDFium refused, as pyHanko reads them; None where it
    cannot tell."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        with open(pdf, "rb") as handle:
            reader = PdfFileReader(handle, strict=False)
            if reader.encrypted:
                return None, True
            return int(reader.root["/Pages"]["/Count"]), False
    except Exception:  # pyHanko raises many kinds for a damaged file
        return None, None


def _first_line(page) -> str:
    """The page's first line of text (a slide's title, most often), or ""."""
    try:
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
    except pdfium.PdfiumError:
        return ""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _check_pptx(path: Path, name: str, limits: DeckLimits) -> dict[int, str]:
    """The ZIP's directory checked against the limits (nothing unpacked yet), then the notes of
    each slide, by slide number."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        raise DeckRefused(
            f"“{name}” is protected by a password (or is an old .ppt file); save it as an "
            "unprotected .pptx and upload it again."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_parts:
                raise DeckRefused(f"“{name}” has {len(infos)} parts; that is not a slide deck.")
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
                    1, info.compress_size
                ):
                    raise DeckRefused(
                        f"“{name}” unpacks to far more than its size (a ZIP bomb?); it was not "
                        "opened."
                    )
            if total > limits.max_unpacked_bytes:
                raise DeckRefused(
                    f"“{name}” unpacks to {total / 1024 / 1024:.0f} MB; the limit is "
                    f"{limits.max_unpacked_bytes / 1024 / 1024:.0f} MB."
                )
            if "ppt/presentation.xml" not in archive.namelist():
                raise DeckRefused(f"“{name}” is not a PowerPoint presentation.")
    except zipfile.BadZipFile as error:
        raise DeckRefused(f"“{name}” cannot be read as a PPTX; it may be damaged.") from error
    return _notes(path, name)


def _notes(path: Path, name: str) -> dict[int, str]:
    from pptx import Presentation  # python-pptx: only after the ZIP passed the checks above

    try:
        presentation = Presentation(str(path))
    except Exception as error:  # python-pptx raises many kinds for a damaged package
        raise DeckRefused(f"“{name}” cannot be read as a PPTX; it may be damaged.") from error
    notes = {}
    for number, slide in enumerate(presentation.slides, 1):
        if slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            text = frame.text if frame is not None else ""
            notes[number] = " ".join(text.split())
    return notes


def _convert(path: Path, folder: Path, name: str, limits: DeckLimits) -> Path:
    """The PPTX as a PDF by LibreOffice, headless, with a profile of its own (so a running
    LibreOffice of the machine's user is never joined), in its own process group: past the time
    limit the whole group is killed, LibreOffice's helper processes too."""
    source = folder / "deck.pptx"
    source.write_bytes(path.read_bytes())
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-", dir=folder))
    command = [
        limits.soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
        str(source),
    ]
    try:
        process = subprocess.Popen(  # nosec B603: an argument list, no shell; the file is ours
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=folder,
        )
    except OSError as error:
        raise DeckRefused(
            "PPTX files cannot be imported here: LibreOffice is not installed. Upload a PDF."
        ) from error
    try:
        process.communicate(timeout=limits.convert_seconds)
    except subprocess.TimeoutExpired as error:
        _kill_group(process)
        raise DeckRefused(
            f"Converting “{name}” took longer than {limits.convert_seconds:g} seconds and was "
            "stopped; try a smaller deck or upload it as a PDF."
        ) from error
    finally:
        _kill_group(process)  # helpers left behind by a LibreOffice that has exited
    pdf = folder / "deck.pdf"
    if process.returncode != 0 or not pdf.is_file():
        raise DeckRefused(
            f"LibreOffice could not convert “{name}”; it may be damaged. Upload it as a PDF."
        )
    return pdf


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait()
