"""PDF pages as pictures: counted, fitted and letterboxed; unreadable documents refused."""

from __future__ import annotations

import resource

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from engine.documents import page_count, render_page
from engine.timeline import TimelineError


@pytest.fixture
def two_pages(tmp_path):
    """A landscape red page, then a portrait blue one."""
    path = tmp_path / "slides.pdf"
    red = Image.new("RGB", (400, 300), (255, 0, 0))
    red.save(path, save_all=True, append_images=[Image.new("RGB", (300, 400), (0, 0, 255))])
    return path


def test_page_count_counts_the_pages(two_pages):
    assert page_count(two_pages) == 2


def test_page_two_renders_distinct_from_page_one(two_pages):
    first = render_page(two_pages, 1, 160, 90)
    second = render_page(two_pages, 2, 160, 90)
    assert np.abs(first[45, 80].astype(int) - (255, 0, 0)).max() <= 3
    assert np.abs(second[45, 80].astype(int) - (0, 0, 255)).max() <= 3


def test_a_page_is_fitted_centred_and_letterboxed_with_the_background(two_pages):
    frame = render_page(two_pages, 2, 160, 90, background=(0, 255, 0))
    assert frame.shape == (90, 160, 3) and frame.dtype == np.uint8
    assert frame.flags["C_CONTIGUOUS"]
    blue = np.all(np.abs(frame.astype(int) - (0, 0, 255)) <= 3, axis=2)
    columns = np.flatnonzero(blue.any(axis=0))
    # A 3:4 page 90 pixels high is 67-68 wide, in the middle; the bars are the background.
    assert 66 <= columns.size <= 69
    assert abs((columns[0] + columns[-1]) / 2 - 79.5) <= 1
    assert blue[:, columns[0] + 1 : columns[-1]].all()  # the page's whole height is shown
    assert (frame[:, : columns[0] - 1] == (0, 255, 0)).all()
    assert (frame[:, columns[-1] + 2 :] == (0, 255, 0)).all()


def test_a_huge_page_is_rasterised_at_the_frame_size_only(tmp_path):
    path = tmp_path / "poster.pdf"
    document = pdfium.PdfDocument.new()
    document.new_page(200 * 72, 200 * 72)  # 200 x 200 inches
    document.save(path)
    document.close()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    frame = render_page(path, 1, 320, 180)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert frame.shape == (180, 320, 3)
    assert grown_kib < 200_000  # at 72 dpi the page alone would be 3 GB


def test_a_page_the_document_lacks_is_refused(two_pages):
    with pytest.raises(TimelineError, match=r"slides\.pdf has 2 pages; there is no page 3"):
        render_page(two_pages, 3, 160, 90)


def test_a_corrupt_pdf_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    with pytest.raises(TimelineError, match=r"broken\.pdf"):
        page_count(path)


def test_a_zero_byte_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(TimelineError, match=r"empty\.pdf"):
        render_page(path, 1, 160, 90)


def test_a_pdf_without_pages_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "nothing.pdf"
    document = pdfium.PdfDocument.new()
    document.save(path)
    document.close()
    with pytest.raises(TimelineError, match=r"nothing\.pdf"):
        page_count(path)


def test_a_password_protected_pdf_is_refused_naming_the_file(two_pages, tmp_path):
    reader = pytest.importorskip("pyhanko.pdf_utils.reader")
    writer = pytest.importorskip("pyhanko.pdf_utils.writer")
    path = tmp_path / "locked.pdf"
    with two_pages.open("rb") as source:
        locked = writer.copy_into_new_writer(reader.PdfFileReader(source, strict=False))
        locked.encrypt("owner secret", "user secret")
        with path.open("wb") as out:
            locked.write(out)
    with pytest.raises(TimelineError, match=r"locked\.pdf is protected by a password"):
        page_count(path)
