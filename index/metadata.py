"""Title, publisher and date of a plain-text news article, read off its own text.

News copy carries these in conventional places: a headline line, a dateline such as
"(Bloomberg) --" or "WASHINGTON (Reuters) -", and a copyright line such as "©2024 Bloomberg L.P.".
Only the head and tail of the text are searched for dates, so a date mentioned in the body
("in June 2019") is not mistaken for the publication date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from index.dates import MONTH_NAMES
from index.sentences import split_sentences

MAX_HEADLINE_CHARS = 160
EDGE_CHARS = 400

_MONTH_NAMES = "|".join(MONTH_NAMES)
_MONTH_ABBREVIATIONS = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
_DATELINE = re.compile(
    # "(Bloomberg) --", "WASHINGTON (AP) —", "BERLIN (dpa) -", and the wire form with a date,
    # "ROTTERDAM, March 12 (Reuters) -" or "LONDON, Jan. 5 (Reuters) -".
    r"^\s*(?:[A-Z][A-Z .,'-]{1,40}?"
    rf"(?:,\s*(?P<month>{_MONTH_NAMES}|{_MONTH_ABBREVIATIONS})\.?\s+(?P<day>[0-3]?\d))?\s)?"
    r"\((?P<publisher>[A-Za-z][\w&.' ]{1,40})\)\s*(?:--|—|–|-)\s*",
    re.MULTILINE,
)
_BARE_DATELINE = re.compile(
    # Broadcasters' form without brackets: "New York CNN —", "WASHINGTON AP --". Only names that
    # are known to be written this way, since any capitalised word before a dash would match.
    r"^\s*(?:[A-Z][A-Za-z.'-]*\s+){1,4}(?P<publisher>CNN|AP|AFP|UPI|BBC|NPR|CBS|NBC|ABC)\s*(?:--|—|–)\s*",
    re.MULTILINE,
)
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?P<year>(?:19|20)\d\d)?\s*(?P<owner>[A-Z][\w&.,' -]*?)"
    r"(?:,?\s+(?:L\.P\.|LLC|Inc\.?|Ltd\.?|Limited|Corp\.?|plc|GmbH|S\.A\.))?\s*\.?\s*(?:All rights reserved\.?)?$",
    re.IGNORECASE | re.MULTILINE,
)
_MONTHS = [name.lower() for name in MONTH_NAMES]
_ISO_DATE = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")
_LONG_DATE = re.compile(r"\b(?P<month>" + _MONTH_NAMES + r")\.?\s+(?P<d>[0-3]?\d),\s+(?P<y>(?:19|20)\d\d)\b")


@dataclass(frozen=True)
class DetectedMetadata:
    title: str
    publisher: str
    published: str


def detect_metadata(text: str) -> DetectedMetadata:
    return DetectedMetadata(title=detect_title(text), publisher=detect_publisher(text), published=detect_date(text))


def detect_title(text: str) -> str:
    """The headline if the text opens with one, else its first sentence (without the dateline)."""
    lines = text.strip().splitlines()
    while lines and (not lines[0].strip() or _only_dateline(lines[0])):
        lines = lines[1:]  # a dateline on a line of its own ("New York CNN —") is not a headline
    first = lines[0].strip() if lines else ""
    headline = first.lstrip("#").strip()
    followed_by_break = len(lines) > 1 and not lines[1].strip()
    if (
        headline
        and len(headline) <= MAX_HEADLINE_CHARS
        and (first.startswith("#") or followed_by_break)
        and not headline.endswith((".", "?", "!", ":"))
    ) or first.startswith("#"):
        return headline
    body = _BARE_DATELINE.sub("", _DATELINE.sub("", first, count=1), count=1)
    sentences = split_sentences(body)
    title = body[sentences[0][0] : sentences[0][1]] if sentences else body
    return title.strip()


def _only_dateline(line: str) -> bool:
    return any(form.fullmatch(line.strip() + " ") for form in (_DATELINE, _BARE_DATELINE))


def detect_publisher(text: str) -> str:
    match = _DATELINE.search(text[:EDGE_CHARS]) or _BARE_DATELINE.search(text[:EDGE_CHARS])
    if match:
        return match.group("publisher").strip()
    for match in _COPYRIGHT.finditer(text[-EDGE_CHARS:]):
        owner = match.group("owner").strip(" .,")
        if owner:
            return owner
    return ""


def detect_date(text: str) -> str:
    edges = text[:EDGE_CHARS] + "\n" + text[-EDGE_CHARS:]
    iso = _ISO_DATE.search(edges)
    if iso:
        return iso.group(0)
    long = _LONG_DATE.search(edges)
    if long:
        month = _MONTHS.index(long.group("month").lower()) + 1
        return f"{long.group('y')}-{month:02d}-{int(long.group('d')):02d}"
    year = next((m.group("year") for m in _COPYRIGHT.finditer(text[-EDGE_CHARS:]) if m.group("year")), "")
    dateline = _DATELINE.search(text[:EDGE_CHARS])
    if year and dateline and dateline.group("month"):
        # A wire dateline gives the month and day ("March 12"); the copyright line the year.
        month = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith(dateline.group("month").lower()[:3]))
        day = int(dateline.group("day"))
        if date_bounds(f"{year}-{month:02d}-{day:02d}") != (0, 0):
            return f"{year}-{month:02d}-{day:02d}"
    return year


def date_bounds(published: str) -> tuple[int, int]:
    """The first and last day a partial date can mean, as YYYYMMDD integers (0, 0 if unknown).

    A year-only date spans the whole year, so a date filter can ask whether ranges overlap.
    """
    match = re.fullmatch(r"\s*((?:19|20)\d\d)(?:-(\d\d))?(?:-(\d\d))?.*", published or "")
    if not match:
        return (0, 0)
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month and not 1 <= int(month) <= 12:
        return (0, 0)
    if day:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            return (0, 0)
        value = int(f"{year}{month}{day}")
        return (value, value)
    if month:
        last_day = calendar.monthrange(int(year), int(month))[1]
        return (int(f"{year}{month}01"), int(f"{year}{month}{last_day:02d}"))
    return (int(f"{year}0101"), int(f"{year}1231"))
