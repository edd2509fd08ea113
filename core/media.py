"""Serving private media after the view checked permission.

Local files stream through Django with byte ranges (so players can seek); files in an S3-compatible
store are never public: the response redirects to a signed URL that expires
(MEDIA_URL_EXPIRE_SECONDS). Encrypted likeness files (core.crypto) always stream, decrypted here.
"""

import mimetypes
import re

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _chunks(handle, start: int, length: int):
    with handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def serve_file(request, field_file, *, filename: str, content_type=None, as_attachment=False):
    """The whole file, or the one byte range asked for (206); 416 for a range outside it."""
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    # An encrypted file streams its plaintext through Django: a signed URL would hand out the
    # ciphertext (and the store never sees the key).
    encrypted = getattr(field_file, "encrypted", False)
    if not encrypted and not isinstance(field_file.storage, FileSystemStorage):
        return _signed_redirect(
            field_file, filename=filename, content_type=content_type, as_attachment=as_attachment
        )
    size = field_file.size
    header = request.headers.get("Range", "").strip()
    match = RANGE.match(header) if header else None
    if match is None or as_attachment:
        response = FileResponse(
            field_file.open("rb"),
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename,
        )
    else:
        first, last = match.groups()
        if first == "":  # "bytes=-N": the last N bytes
            start, end = max(size - int(last or 0), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        response = StreamingHttpResponse(
            _chunks(field_file.open("rb"), start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    return response


def _signed_redirect(field_file, *, filename: str, content_type: str, as_attachment: bool):
    disposition = "attachment" if as_attachment else "inline"
    url = field_file.storage.url(
        field_file.name,
        parameters={
            "ResponseContentDisposition": f'{disposition}; filename="{filename}"',
            "ResponseContentType": content_type,
        },
    )
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response
