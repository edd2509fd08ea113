"""Cursor pagination, newest first: the cursor is the last id seen, opaque to clients."""

import base64

from ninja import Schema

from api.errors import validation_error

MAX_ID = 2**63 - 1  # the largest id a database column holds; larger ids name nothing


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        pk = int(number)
    except (ValueError, UnicodeDecodeError):
        pk, prefix = 0, ""
    if prefix != "id" or not 0 < pk <= MAX_ID:
        raise validation_error("The cursor is not one this API gave; start again without it.")
    return pk


class Page(Schema):
    next_cursor: str | None


def paginate(queryset, *, limit: int, cursor: str | None, out) -> dict:
    """``{"items": [...], "next_cursor": ...}`` of ``queryset`` newest first; ``out`` turns
    each object into its JSON."""
    queryset = queryset.order_by("-pk")
    if cursor:
        queryset = queryset.filter(pk__lt=_decode(cursor))
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [out(row) for row in rows],
        "next_cursor": _encode(rows[-1].pk) if more and rows else None,
    }


def in_workspace(queryset, request, pk: int, what: str):
    """The object of the token's workspace with this id, or a 404 problem (another workspace's
    id is as unknown as one that never existed)."""
    from api.errors import not_found

    if not 0 < pk <= MAX_ID:
        raise not_found(what)
    found = queryset.filter(workspace=request.auth.workspace, pk=pk).first()
    if found is None:
        raise not_found(what)
    return found
