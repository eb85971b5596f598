"""Publication dates as news exports write them, normalised to a partial ISO date.

An article's ``published`` is kept as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: the string says how
sure the date is (a year, a month, a day), and ``index.metadata.date_bounds`` turns it into the
range a date filter compares. Exports and feeds write dates in many forms, so a JSON record's
``published`` may be any of:

- ISO 8601, with or without a time: ``2024-03-12``, ``2024-03-12T09:30:00Z``, ``2024-03``, ``2024``;
- year first with slashes or dots: ``2022/06/12``, ``2022.06.12``;
- month names: ``June 12, 2022``, ``Jun. 12 2022``, ``12 June 2022``, ``June 2022``;
- RFC 2822, as RSS feeds write it: ``Sun, 12 Jun 2022 10:00:00 GMT`` (read by the standard
  library's ``email.utils``).

A date with the day and month both numeric and day first or month first (``06/12/2022``) is
refused: it means 6 December in most of the world and June 12 in the United States, and a
wrong date is worse than an error that asks for ``2022-06-12``. Before this module, ``2022/06/12``
was read as the whole of 2022 (the day lost) and the other forms were refused.
"""

from __future__ import annotations

import json
import re
from datetime import date
from email.utils import parsedate_to_datetime

from index.errors import CiteqaError

__all__ = ["MONTH_NAMES", "WEEKDAYS", "DateError", "date_precision", "long_date", "normalize_date"]

MONTH_NAMES = (
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
)
"""English month names, January first: how a date is written for a reader."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Weekday names as ``date.weekday()`` numbers them (Monday is 0), lower case."""


def long_date(day: date) -> str:
    """A day as a reader writes it: "5 March 2026"."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def reader_date(published: str) -> str:
    """A stored date as a reader writes it: 2024-03-12 -> "12 March 2024", 2024-03 -> "March 2024",
    2024 -> "2024" (anything else as it is)."""
    parts = published.split("-")
    try:
        if len(parts) == 3:
            return long_date(date(int(parts[0]), int(parts[1]), int(parts[2])))
        if len(parts) == 2:
            return f"{MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return published


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_FORMS = (
    # 2024, 2024-03, 2024-03-12, with an optional ISO time and zone after the day.
    re.compile(rf"{_YEAR}(?:-(?P<mm>[01]\d)(?:-(?P<dd>[0-3]\d)(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?)?)?"),
    re.compile(rf"{_YEAR}[/.](?P<mm>[01]?\d)[/.](?P<dd>[0-3]?\d)"),
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}"),
    re.compile(rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}"),
    re.compile(rf"{_MONTH},?\s+{_YEAR}"),
)
_NUMERIC_DAY_MONTH = re.compile(r"[0-3]?\d[/.-][0-3]?\d[/.-](?:19|20)?\d\d")


class DateError(CiteqaError, ValueError):
    """A publication date that cannot be read; the message says which forms can."""


def normalize_date(raw: str) -> str:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` for ``raw``; "" for an empty one.

    Raises ``DateError`` for text that is not a date in a known form, or not a real day.
    """
    text = " ".join(str(raw or "").split())
    if not text:
        return ""
    for form in _FORMS:
        match = form.fullmatch(text)
        if match:
            return _checked(match.groupdict(), text)
    try:  # RFC 2822 ("Sun, 12 Jun 2022 10:00:00 GMT"), as RSS feeds write it
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return parsed.date().isoformat()
    if _NUMERIC_DAY_MONTH.fullmatch(text):
        raise DateError(f"{_quoted(text)} could be day/month or month/day; write it year first, as YYYY-MM-DD")
    raise DateError(f"{_quoted(text)} is not a date; use YYYY-MM-DD (or YYYY-MM, YYYY, 'June 12, 2022', RFC 2822)")


def date_precision(published: str) -> str:
    """How sure a normalised date is: "day", "month", "year", or "" when there is none."""
    return {10: "day", 7: "month", 4: "year"}.get(len(published or ""), "")


def _checked(parts: dict[str, str | None], text: str) -> str:
    year = int(parts["year"] or 0)
    month_name = parts.get("month")
    if month_name:
        month = _MONTHS.get(month_name.lower())
        if month is None:
            raise DateError(f"{_quoted(text)}: {_quoted(month_name)} is not a month name")
    else:
        month = int(parts["mm"]) if parts.get("mm") else None
    day = parts.get("day") or parts.get("dd")
    try:
        if day is not None:
            return date(year, month or 0, int(day)).isoformat()
        if month is not None:
            return date(year, month, 1).isoformat()[:7]
    except ValueError:
        raise DateError(f"{_quoted(text)} is not a real day; check the day and the month") from None
    return f"{year:04d}"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
