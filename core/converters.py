"""Path converters for the site's URLs."""

from django.urls import register_converter

MAX_ROW_ID = 2**63 - 1  # the largest id a 64-bit integer column holds (SQLite, PostgreSQL bigint)


class RowId:
    """``<id:name>``: a row's id in a URL. Digits beyond what the database can hold match no URL
    (a 404) instead of reaching a query that overflows (an OverflowError, a 500, on SQLite)."""

    regex = "[0-9]{1,30}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ROW_ID:
            raise ValueError(f"{value} is larger than any row id")  # Django: no match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowId, "id")
