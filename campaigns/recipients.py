"""A campaign's recipients from a CSV file or a paste: every row checked, every problem listed.

The file may be UTF-8 (with or without a byte order mark), UTF-16 (as Excel saves "Unicode
text") or Windows-1252 (as older Excel saves CSV); comma, semicolon or tab separated; quoted
fields. The header row names the columns: a column whose name is a field's (``First name`` reads
as ``first_name``) fills that field, ``first_name:say`` respells that field's value row by row,
and other columns are left out (they are not stored: a CRM export's e-mail and phone numbers
have no business here).

``read_recipients`` refuses a file it cannot read as a whole (``RecipientFileError``) and
otherwise returns every row with every problem found; the caller saves the rows only when there
is no problem at all, so a bad file saves nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.template.defaultfilters import filesizeformat

from core.errors import UserError
from core.merge_fields import LETTER_WORDS, MAX_RESPELLING, check_value
from core.spreadsheet import csv_text

DELIMITERS = (",", ";", "\t")
SAY_SUFFIX = ":say"


class RecipientFileError(UserError):
    code = "recipients_invalid"


@dataclass(frozen=True)
class RecipientField:
    """A merge field a campaign fills from its recipients; ``kind`` is a FIELD_KINDS key."""

    name: str
    kind: str = "text"
    required: bool = True


@dataclass
class Recipient:
    line: int  # in the file, the header being line 1
    values: dict[str, str]
    say: dict[str, str] = field(default_factory=dict)  # field -> how to say its value


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class RecipientList:
    rows: list[Recipient]
    problems: list[RowProblem]
    columns: list[str]  # the fields filled, in the file's order
    ignored_columns: list[str]
    encoding: str
    delimiter: str

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_csv(self) -> str:
        return csv_text(
            ["line", "column", "value", "problem"],
            (
                {"line": p.line, "column": p.column, "value": p.value, "problem": p.reason}
                for p in self.problems
            ),
        )


RowCheck = Callable[[Recipient], str | None]


def read_recipients(
    data: bytes,
    fields: Sequence[RecipientField],
    *,
    max_rows: int,
    max_bytes: int = 5 * 1024 * 1024,
    check_row: RowCheck | None = None,
) -> RecipientList:
    """Every row of a recipients file checked. ``check_row`` adds a check of a whole row (the
    merged script against the subject's forbidden topics, say): it returns a problem or None."""
    if len(data) > max_bytes:
        raise RecipientFileError(
            f"The file is {filesizeformat(len(data))}; the limit for a recipients file is "
            f"{filesizeformat(max_bytes)}."
        )
    text, encoding = decode_text(data)
    return read_recipient_text(
        text, fields, max_rows=max_rows, check_row=check_row, encoding=encoding
    )


def read_recipient_text(
    text: str,
    fields: Sequence[RecipientField],
    *,
    max_rows: int,
    check_row: RowCheck | None = None,
    encoding: str = "text",
) -> RecipientList:
    """As ``read_recipients``, for text already decoded (a paste)."""
    if "\x00" in text:
        raise RecipientFileError("The file holds NUL characters: it is not a text file.")
    lines = text.splitlines()
    header_line = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_line is None:
        raise RecipientFileError(
            "The file is empty: it needs a header row and one row a recipient."
        )
    delimiter = _delimiter(lines[header_line])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    by_name = {f.name: f for f in fields}
    try:
        header = next(row for row in reader if any(cell.strip() for cell in row))
        columns, say_columns, ignored = _map_header(header, by_name)
        rows, problems, seen = [], [], {}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + 1 > max_rows:
                raise RecipientFileError(
                    f"The file has more than {max_rows:,} recipients, the most a campaign takes "
                    "(CAMPAIGN_MAX_ROWS); split it into several campaigns."
                )
            line = reader.line_num
            recipient, found = _read_row(line, cells, header, columns, say_columns, by_name)
            if not found:
                key = tuple(recipient.values.get(name, "").casefold() for name in by_name)
                if key in seen:
                    found.append(RowProblem(line, "", "", f"repeats line {seen[key]}"))
                else:
                    seen[key] = line
            if not found and check_row is not None:
                reason = check_row(recipient)
                if reason:
                    # The whole row is the problem: its values say which row it is.
                    shown = ", ".join(v for v in recipient.values.values() if v)
                    found.append(RowProblem(line, "", _excerpt(shown), reason))
            rows.append(recipient)
            problems += found
    except csv.Error as error:
        raise RecipientFileError(
            f"Line {reader.line_num} cannot be read as CSV ({error}); check its quotes."
        ) from error
    if not rows:
        raise RecipientFileError("The file has a header row but no recipients.")
    return RecipientList(
        rows=rows,
        problems=problems,
        columns=[header[i].strip() for i in sorted(columns.values())],
        ignored_columns=ignored,
        encoding=encoding,
        delimiter=delimiter,
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        candidates = ["utf-16-le"]  # UTF-16 without its mark: a NUL after every ASCII letter
    elif len(data) >= 4 and data[0:4:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00":
        candidates = ["utf-16-be"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise RecipientFileError(
        "The file is not text in UTF-8, UTF-16 or Windows-1252; save it from your spreadsheet "
        "as CSV (UTF-8)."
    )


def _delimiter(header: str) -> str:
    counts = {d: _count_outside_quotes(header, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _column_name(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _map_header(
    header: list[str], fields: Mapping[str, RecipientField]
) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """(field -> column, field -> its respelling column, the columns left out)."""
    columns: dict[str, int] = {}
    say_columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        name = _column_name(cell)
        target = say_columns if name.endswith(SAY_SUFFIX) else columns
        name = name.removesuffix(SAY_SUFFIX)
        if name not in fields:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        if name in target:
            raise RecipientFileError(f'The header names the column "{cell.strip()}" twice.')
        target[name] = index
    missing = [f.name for f in fields.values() if f.required and f.name not in columns]
    if missing:
        found = ", ".join(c.strip() for c in header if c.strip()) or "nothing"
        raise RecipientFileError(
            f"The header has no column for {', '.join(missing)} (it names: {found}); the first "
            "row of the file must name the columns."
        )
    return columns, say_columns, ignored


def _read_row(
    line: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    say_columns: dict[str, int],
    fields: Mapping[str, RecipientField],
) -> tuple[Recipient, list[RowProblem]]:
    problems: list[RowProblem] = []
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        problems.append(
            RowProblem(line, "", "", f"has {len(cells)} cells; the header has {len(header)}")
        )
    recipient = Recipient(line=line, values={})
    for name, index in columns.items():
        value = cells[index].strip() if index < len(cells) else ""
        column = header[index].strip()
        reason = None
        if not value and fields[name].required:
            reason = f"is empty; every recipient needs a {name}"
        elif value:
            reason = check_value(fields[name].kind, value)
        if reason:
            problems.append(RowProblem(line, column, _excerpt(value), f"{column} {reason}"))
        recipient.values[name] = value
    for name, index in say_columns.items():
        value = cells[index].strip() if index < len(cells) else ""
        if not value:
            continue
        column = header[index].strip()
        if len(value) > MAX_RESPELLING or not LETTER_WORDS.fullmatch(value):
            problems.append(
                RowProblem(
                    line,
                    column,
                    _excerpt(value),
                    f"{column} is not a respelling: letters, spaces, hyphens and apostrophes, "
                    f"at most {MAX_RESPELLING} (e.g. SHAH-nuh)",
                )
            )
        recipient.say[name] = value
    return recipient, problems


def _excerpt(value: str, limit: int = 60) -> str:
    shown = "".join(c if c.isprintable() else "\ufffd" for c in value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"
