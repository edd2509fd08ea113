"""Small decks the lesson tests make: PDFs (plain pages, or pages with titles), a PPTX with
speaker notes, and the bad ones (zero pages, a password, a ZIP bomb named .pptx)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image


def plain_pdf(pages: int, size=(320, 180)) -> bytes:
    """``pages`` coloured pages, no text (Pillow)."""
    images = [Image.new("RGB", size, (40 + 50 * i % 200, 90, 160)) for i in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def titled_pdf(titles: list[str]) -> bytes:
    """A landscape page per title, the title written on it (WeasyPrint)."""
    from weasyprint import HTML

    pages = "".join(
        f"<section><h1>{title}</h1><p>Slide {n}</p></section>" for n, title in enumerate(titles, 1)
    )
    css = "@page { size: 320px 180px; margin: 10px } section { page-break-after: always }"
    return HTML(string=f"<style>{css}</style>{pages}").write_pdf()


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def password_pdf() -> bytes:
    """Two pages, encrypted with a user password (pyHanko)."""
    from pyhanko.pdf_utils.crypt import StandardSecurityHandler
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(plain_pdf(2)), strict=False))
    writer._assign_security_handler(StandardSecurityHandler.build_from_pw("secret", "secret"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pptx_with_notes(slides: list[tuple[str, str]]) -> bytes:
    """A deck of (title, speaker notes) slides (python-pptx)."""
    from pptx import Presentation

    presentation = Presentation()
    for title, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
        slide.shapes.title.text = title
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def zip_bomb_pptx(unpacked_mb: int = 64) -> bytes:
    """A small ZIP named .pptx whose one part unpacks to ``unpacked_mb`` MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", "<p/>")
        with archive.open("ppt/media/image1.bin", "w") as part:
            zeros = bytes(1024 * 1024)
            for _ in range(unpacked_mb):
                part.write(zeros)
    return out.getvalue()


OLE_PROTECTED = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an encrypted OOXML's header
