"""Serving private media after the permission check, with byte ranges so players can seek."""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

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


def serve_file(request, field_file, *, content_type: str, filename: str, as_attachment=False):
    """The whole file, or the one byte range asked for (206); 416 for a range outside it."""
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
