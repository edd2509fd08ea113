"""PDF pages as pictures (a document background): count the pages, rasterise one fitted into a
frame. pypdfium2 (PDFium, Apache-2.0) reads the PDF; nothing else is installed for it.

A page is rendered straight at the size it is shown at, so a 200x200-inch poster costs no more
than a slide: the rasterisation is capped by the frame's size, never by the page's.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium

from engine.errors import TimelineError

# A frame is at most 4096x4096 (OutputFormat.check); a page is never rasterised larger.
MAX_SIDE = 4096


def page_count(path: str | Path) -> int:
    """The number of pages of the PDF at ``path``; TimelineError if it cannot be read."""
    document = _open(Path(path))
    try:
        return len(document)
    finally:
        document.close()


def render_page(
    path: str | Path,
    page: int,
    width: int,
    height: int,
    background: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """Page ``page`` (1 = the first, as in a timeline) of the PDF at ``path`` as an RGB uint8
    array of exactly ``height`` x ``width`` x 3: the page fitted inside, centred, and the bars
    left over filled with ``background``. TimelineError for a PDF that cannot be read or a page
    it does not have."""
    path = Path(path)
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise TimelineError(f"A document page is rendered at 1 to {MAX_SIDE} pixels a side.")
    document = _open(path)
    try:
        pages = len(document)
        if not 1 <= page <= pages:
            raise TimelineError(f"{path.name} has {pages} pages; there is no page {page}.")
        picture = _rasterise(document[page - 1], width, height, path)
    finally:
        document.close()
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = background
    h, w = picture.shape[:2]
    top, left = (height - h) // 2, (width - w) // 2
    frame[top : top + h, left : left + w] = picture
    return frame


def _open(path: Path) -> pdfium.PdfDocument:
    if not path.is_file():
        raise TimelineError(f"The document {path.name} is missing.")
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise TimelineError(
                f"The document {path.name} is protected by a password; upload it unprotected."
            ) from error
        raise TimelineError(
            f"The document {path.name} cannot be read as a PDF; it may be damaged or empty."
        ) from error
    if len(document) == 0:
        document.close()
        raise TimelineError(f"The document {path.name} has no pages.")
    return document


def _rasterise(page: pdfium.PdfPage, width: int, height: int, path: Path) -> np.ndarray:
    """The page fitted inside width x height, at most that many pixels."""
    page_width, page_height = page.get_size()  # PDF points, 1/72 inch
    if page.get_rotation() in (90, 270):
        page_width, page_height = page_height, page_width
    if not (page_width > 0 and page_height > 0):
        raise TimelineError(f"A page of {path.name} has no size.")
    scale = min(width / page_width, height / page_height)
    fitted = (
        max(1, min(width, round(page_width * scale))),
        max(1, min(height, round(page_height * scale))),
    )
    try:
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), rev_byteorder=True)
        # A copy: the array would otherwise point into PDFium's memory, freed with the bitmap.
        pixels = np.array(bitmap.to_numpy())
        bitmap.close()
    except pdfium.PdfiumError as error:
        raise TimelineError(f"A page of {path.name} cannot be drawn.") from error
    finally:
        page.close()
    if pixels.ndim == 2:  # a greyscale bitmap
        pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    pixels = np.ascontiguousarray(pixels[..., :3])
    if (pixels.shape[1], pixels.shape[0]) != fitted:  # PDFium rounds the bitmap's size itself
        pixels = cv2.resize(pixels, fitted, interpolation=cv2.INTER_AREA)
    return pixels
