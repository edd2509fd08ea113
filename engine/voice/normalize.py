"""Numbers, dates, times, currencies and percentages written out as a presenter reads them.

Every voice engine gets the same words, so "$1,250.50" is "one thousand two hundred fifty
dollars and fifty cents" whatever the TTS would have guessed. English only for now.
"""

from __future__ import annotations

import re

from engine.numbers import ONES, number_words

_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_INDEX = {m.lower(): i for i, m in enumerate(_MONTHS)} | {
    m[:3].lower(): i for i, m in enumerate(_MONTHS)
}
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
}
_CODES = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_SCALE_WORDS = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion"}


def ordinal_words(n: int) -> str:
    """Ordinal words: 21 -> "twenty-first"."""
    words = number_words(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def year_words(year: int) -> str:
    """A year as read aloud: 1999 -> "nineteen ninety-nine", 2026 -> "twenty twenty-six"."""
    if 2000 <= year <= 2009:
        return number_words(year)
    high, low = divmod(year, 100)
    if 1000 <= year <= 9999 and low == 0:
        return f"{number_words(high)} hundred"
    if 1000 <= year <= 9999:
        return f"{number_words(high)} " + (f"oh {ONES[low]}" if low < 10 else number_words(low))
    return number_words(year)


def decimal_words(text: str) -> str:
    """ "3.14" -> "three point one four"; thousands separators are dropped."""
    whole, _, fraction = text.replace(",", "").partition(".")
    words = number_words(int(whole or "0"))
    if fraction:
        words += " point " + " ".join(ONES[int(d)] for d in fraction)
    return words


def _money(symbol: str, amount: str, scale: str | None) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[symbol]
    amount = amount.replace(",", "")
    if scale:
        return f"{decimal_words(amount)} {_SCALE_WORDS[scale.lower()]} {many}"
    whole, _, cents = amount.partition(".")
    units = int(whole or "0")
    words = f"{number_words(units)} {one if units == 1 else many}"
    if cents and sub_one:
        value = int((cents + "0")[:2])
        if value:
            cent_words = f"{number_words(value)} {sub_one if value == 1 else sub_many}"
            words = cent_words if units == 0 else f"{words} and {cent_words}"
    return words


def _date(day: int, month: int, year: int | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    words = f"{_MONTHS[month - 1]} {ordinal_words(day)}"
    return f"{words}, {year_words(year)}" if year is not None else words


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_RULES: list[tuple[re.Pattern, object]] = []


def _rule(pattern: str, flags: int = 0):
    def register(function):
        _RULES.append((re.compile(pattern, flags), function))
        return function

    return register


@_rule(r"(\d{4})-(\d{2})-(\d{2})\b")
def _iso_date(m):
    return _date(int(m.group(3)), int(m.group(2)), int(m.group(1)))


@_rule(
    r"\b("
    + "|".join(m for m in _MONTH_INDEX)
    + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b",
    re.IGNORECASE,
)
def _month_day_year(m):
    year = int(m.group(3)) if m.group(3) else None
    return _date(int(m.group(2)), _MONTH_INDEX[m.group(1).lower()] + 1, year)


@_rule(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+("
    + "|".join(m for m in _MONTH_INDEX)
    + r")\.?(?:,?\s+(\d{4}))?\b",
    re.IGNORECASE,
)
def _day_month_year(m):
    year = int(m.group(3)) if m.group(3) else None
    words = _date(int(m.group(1)), _MONTH_INDEX[m.group(2).lower()] + 1, year)
    return (
        f"the {words.split(' ', 1)[1].split(',')[0]} of {_MONTHS[_MONTH_INDEX[m.group(2).lower()]]}"
        + (f", {year_words(year)}" if year else "")
        if words
        else None
    )


@_rule(r"\b(\d{1,2}):(\d{2})\s*([ap])\.?m\b", re.IGNORECASE)
def _clock_12(m):
    hour, minute = int(m.group(1)), int(m.group(2))
    minutes = (
        ""
        if minute == 0
        else (f" oh {ONES[minute]}" if minute < 10 else f" {number_words(minute)}")
    )
    return f"{number_words(hour)}{minutes} {m.group(3).upper()} M"


@_rule(r"([$€£¥])\s?(" + _NUM + r")(?:\s?(bn|[kKmMbB])\b)?")
def _currency_symbol(m):
    return _money(m.group(1), m.group(2), m.group(3))


@_rule(r"\b(" + _NUM + r")\s?(USD|EUR|GBP|JPY)\b")
def _currency_code(m):
    return _money(_CODES[m.group(2)], m.group(1), None)


@_rule(r"(" + _NUM + r")\s?%")
def _percent(m):
    return f"{decimal_words(m.group(1))} percent"


@_rule(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
def _ordinal(m):
    return ordinal_words(int(m.group(1)))


@_rule(r"\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d)")
def _year_like(m):
    # A bare four-digit number from 1100 to 2099 is read as a year ("in 1999").
    return year_words(int(m.group(1)))


@_rule(r"(?<![\w.])-?(" + _NUM + r")")
def _plain_number(m):
    text = m.group(0)
    sign = "minus " if text.startswith("-") else ""
    return sign + decimal_words(m.group(1))


def normalize_text(text: str) -> str:
    """Text with numbers, dates, clock times, currencies, percentages and ordinals in words."""
    for pattern, function in _RULES:
        text = pattern.sub(lambda m, f=function: f(m) or m.group(0), text)
    return text
