"""CSV that is safe to open in a spreadsheet: a cell that begins with = + - @ (or a tab or a
carriage return) would be read as a formula, so it gets a leading apostrophe (OWASP's advice)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """A header and the rows, every cell made safe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({field: safe_cell(row.get(field)) for field in fields})
    return out.getvalue()
