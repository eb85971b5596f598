"""Relative days in an article ("on Thursday", "yesterday", "last week") as calendar dates.

News copy names days relative to when it was written: wire style gives the weekday for anything
within a week of the dateline ("the union said on Monday", "a trip starting Thursday"). Read
months later, or beside an article from another week, "Thursday" says nothing; resolved against
the article's publication date it says 5 March 2026, and an answer can say so too.

Only an article dated to the day is resolved (a year or a month is not enough to count weekdays
from). A bare weekday is the publication day itself when the weekday is the same; otherwise it is
the nearest such day before or after, chosen by the nearest telling word before it in its
sentence: "will", "from", "until", "starting" and the like point ahead; "said", "was", a
past-tense verb point back ("on" and "to" tell nothing: "will strike on", "returned to X on");
without a cue nearby, the sentence decides: a "will" points ahead, a past tense back, and the
present ("the teams meet on Saturday") ahead. "last Friday" is the one before the publication day
and "next Friday" the first one after it (said on a Thursday: the next day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from index.dates import WEEKDAYS, long_date

__all__ = ["DateMention", "resolve_relative_dates"]

_MENTION = re.compile(
    r"\b(?:(?P<which>last|next|this|this coming|coming)\s+)?"
    r"(?:(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|(?P<unit>week|month|year)\b(?!-)"
    r"|(?P<day>today|tonight|yesterday|tomorrow))\b",
    re.IGNORECASE,
)
_AHEAD = re.compile(
    r"\b(will|would|shall|due|from|until|till|by|starting|starts|begins?|beginning|scheduled|"
    r"planned|plans?|expected|upcoming|ahead)\b",
    re.IGNORECASE,
)
_BACK = re.compile(
    r"\b(said|says|told|was|were|had|did|since|ago|won|lost|kept|met|began|went|took|gave|made|came|"
    r"left|held|rose|fell|struck|sent|led|paid|saw|got|\w{3,}ed)\b",
    re.IGNORECASE,
)
_WINDOW_WORDS = 5


@dataclass(frozen=True)
class DateMention:
    """A relative date in a text: its span, its words, and the days it can mean."""

    start: int
    end: int
    words: str
    first: date
    last: date

    def label(self) -> str:
        """ "Thursday: 5 March 2026", or a range for a week or a month."""
        if self.first == self.last:
            return f"{self.words}: {long_date(self.first)}"
        return f"{self.words}: {long_date(self.first)} to {long_date(self.last)}"


def resolve_relative_dates(text: str, published: str) -> list[DateMention]:
    """The relative dates in ``text``, resolved against ``published`` (YYYY-MM-DD); none without a day."""
    try:
        reference = date.fromisoformat(published) if len(published or "") == 10 else None
    except ValueError:
        reference = None
    if reference is None:
        return []
    mentions = []
    for match in _MENTION.finditer(text):
        which = (match.group("which") or "").lower()
        if match.group("unit") and which not in ("last", "next", "this"):
            continue  # "a week", "the year": not a date
        span = _days(match, which, text, reference)
        if span is not None:
            mentions.append(DateMention(match.start(), match.end(), match.group(0), *span))
    return mentions


def _days(match: re.Match[str], which: str, text: str, reference: date) -> tuple[date, date] | None:
    if match.group("day"):
        offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[match.group("day").lower()]
        day = reference + timedelta(days=offset)
        return day, day
    if match.group("unit"):
        return _period(match.group("unit").lower(), which, reference)
    weekday = WEEKDAYS.index(match.group("weekday").lower())
    back = (reference.weekday() - weekday) % 7 or 7
    ahead = (weekday - reference.weekday()) % 7 or 7
    if which == "last":
        day = reference - timedelta(days=back)
    elif which in ("next", "coming", "this coming"):
        day = reference + timedelta(days=ahead)
    elif weekday == reference.weekday():
        day = reference
    else:
        day = (
            reference + timedelta(days=ahead)
            if _points_ahead(text, match.start())
            else reference - timedelta(days=back)
        )
    return day, day


def _period(unit: str, which: str, reference: date) -> tuple[date, date]:
    step = {"last": -1, "this": 0, "next": 1}[which]
    if unit == "week":
        monday = reference - timedelta(days=reference.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(days=6)
    if unit == "month":
        year, month = divmod(reference.year * 12 + reference.month - 1 + step, 12)
        first = date(year, month + 1, 1)
        following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        return first, following - timedelta(days=1)
    year = reference.year + step
    return date(year, 1, 1), date(year, 12, 31)


def _points_ahead(text: str, at: int) -> bool:
    """Whether the words just before a weekday (in its sentence) speak of the future."""
    sentence_start = max(text.rfind(". ", 0, at), text.rfind("\n", 0, at)) + 1
    before = text[sentence_start:at].split()[-_WINDOW_WORDS:]
    for word in reversed(before):
        if _AHEAD.fullmatch(word.strip(",;:\"'“”")):
            return True
        if _BACK.fullmatch(word.strip(",;:\"'“”")):
            return False
    sentence_end = text.find(". ", at)
    sentence = text[sentence_start : sentence_end if sentence_end != -1 else len(text)]
    if re.search(r"\bwill\b", sentence):
        return True
    return not _BACK.search(sentence)  # "the teams meet on Saturday": the present speaks of what is to come
