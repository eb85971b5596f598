"""Time in a question ("last week", "yesterday", "on Friday", "the latest on…") as the publication
dates its answer can come from.

A news question names time relative to when it is asked: "What did the bank do last week?" means
one week on 4 November and another on 22 October, and an answer from the wrong week is wrong
however well it is cited. The question is read against a reference day (today, or the ``as_of``
day a question is asked) and gives:

- a window of publication dates for the search (``QuestionTime.window``), from the first day the
  question names to the reference day: what happened last week may be reported this week ("doctors
  reported 94 cases last week", published on Thursday), but nothing published before last week
  reports it. Read: "today", "tonight", "this morning", "yesterday", a weekday ("on Friday", "last
  Wednesday"; not "until Saturday" or "next Friday", which point ahead), "this week", "last week",
  "the past week", "the past few days", "this weekend", "last weekend", and a day of the month
  without a year ("on October 12", "12 October"), each also after "since".
- ``latest``: the question asks for the newest state of a story ("the latest", "now", "currently",
  "so far"), so the newest of the passages about as relevant as the best come first.

A month or a year ("in early October", "last month", "in 2019", "in July last year") sets nothing:
it names when something happened, which any later article may tell (the seed article of 2024 tells
what happened in July 2023), and read against today it would shut out an archive's own months.
Articles of unknown date are never excluded by a window (``ChunkFilter.keep_undated``): a question
cannot say whether an undated text is from last week.

Why by hand and not with dateparser's ``search_dates``: on the project's 368 eval questions it found
a date in 80, most of them not time at all ("Sun" of Sun Weidong, the verb "may", "50%", "Th1", "the
9th"), so its finds would need this same list of expressions to be trusted; it reads the same
periods (day, week) for the expressions above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from index.dates import MONTH_NAMES, WEEKDAYS, long_date
from index.metadata import date_bounds
from qa.copies import merge_copies
from qa.passages import BadFilterError, Passage
from qa.retriever import Filters, Retriever

__all__ = [
    "QuestionTime",
    "about_time",
    "narrowed",
    "parse_as_of",
    "prefer_newest",
    "read_question_time",
    "search_in_time",
]

_MONTH_PATTERN = "|".join(MONTH_NAMES)
_LATEST = re.compile(
    r"\b(latest|most recent|newest|recent news|now|currently|current|so far|up to date|update on)\b", re.IGNORECASE
)
_DAY_WORD = re.compile(r"\b(today|tonight|yesterday|this morning)\b", re.IGNORECASE)
_PERIOD = re.compile(
    r"\b(?P<which>this|last|past|previous)\s+(?P<unit>week|few days|(?:seven|7) days|weekend)\b", re.IGNORECASE
)
_WEEKDAY = re.compile(
    r"\b(?:(?P<last>last)\s+)?(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:'s)?\b",
    re.IGNORECASE,
)
_AHEAD = re.compile(r"\b(until|till|by|next|before|from|coming)\s+$", re.IGNORECASE)
"""Words before a weekday that point ahead ("until Saturday", "next Friday"): no day to search from."""
_MONTH_DAY = re.compile(
    rf"\b(?:(?P<month>{_MONTH_PATTERN})\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?|(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<month2>{_MONTH_PATTERN}))\b"
    r"(?:,?\s+(?P<year>(?:19|20)\d\d))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionTime:
    """What a question says about time, read against ``reference``."""

    reference: date
    published_from: date | None = None
    """The first day an answer's article may be published (None: the question names no time)."""
    latest: bool = False
    words: str = ""
    """The question's words that set the window ("last week"), for a UI to say what it searched."""

    @property
    def window(self) -> tuple[date, date] | None:
        """The publication dates an answer may come from (None: any)."""
        if self.published_from is None:
            return None
        return self.published_from, self.reference

    def describe(self) -> str:
        """ "last week (12 October to 21 October 2026)", or "" when the question names no time."""
        window = self.window
        if window is None:
            return ""
        first, last = window
        span = long_date(first) if first == last else f"{long_date(first)} to {long_date(last)}"
        return f"{self.words} ({span})"


@lru_cache(maxsize=256)
def read_question_time(question: str, reference: date) -> QuestionTime:
    """The window and the preference for the newest that ``question`` asks for, on ``reference``
    (cached: the answer's status line and its search both read it)."""
    latest = bool(_LATEST.search(question))
    found = _first_day(question, reference)
    if found is None or found[0] > reference:
        return QuestionTime(reference, latest=latest)
    first, words = found
    return QuestionTime(reference, first, latest, words)


def _first_day(question: str, today: date) -> tuple[date, str] | None:
    """The first day of the first time the question names, and its words."""
    match = _DAY_WORD.search(question)
    if match:
        return today - timedelta(days=match.group(1).lower() == "yesterday"), match.group(0)
    match = _MONTH_DAY.search(question)
    if match and not match.group("year"):
        month = MONTH_NAMES.index((match.group("month") or match.group("month2")).capitalize()) + 1
        day_of_month = int(match.group("day") or match.group("day2"))
        year = today.year if (month, day_of_month) <= (today.month, today.day) else today.year - 1
        try:
            return date(year, month, day_of_month), match.group(0)
        except ValueError:
            return None
    match = _PERIOD.search(question)
    if match:
        return _period_start(match.group("which").lower(), match.group("unit").lower(), today), match.group(0)
    match = _WEEKDAY.search(question)
    if match and not _AHEAD.search(question[: match.start()]):
        back = (today.weekday() - WEEKDAYS.index(match.group("weekday").lower())) % 7
        if match.group("last") and back == 0:
            back = 7
        return today - timedelta(days=back), match.group(0)
    return None


def _period_start(which: str, unit: str, today: date) -> date:
    if unit in ("few days", "seven days", "7 days") or (which in ("past", "previous") and unit == "week"):
        return today - timedelta(days=7)
    if unit == "weekend":
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if which in ("last", "past", "previous") and saturday + timedelta(days=1) >= today:
            saturday -= timedelta(days=7)
        return saturday
    monday = today - timedelta(days=today.weekday())
    return monday if which == "this" else monday - timedelta(days=7)


NEWEST_AMONG = 0.75
"""A passage is close enough to the best to be preferred for being newer when its fused score is
at least this share of the best one's (a judgement, not tuned: the news set is where it is reported)."""


def prefer_newest(passages: Sequence[Passage], k: int) -> list[Passage]:
    """The ``k`` passages for a question that asks for the latest: of those about as relevant as the
    best, the newest first, then the rest in their order; ranks renumbered. Undated passages keep
    their order, so a question over undated text ("Who is the current president?") is unchanged."""
    if not passages:
        return []
    best = max(p.fused_score for p in passages)
    close = [p for p in passages if p.fused_score >= NEWEST_AMONG * best]
    rest = [p for p in passages if p.fused_score < NEWEST_AMONG * best]
    by_date = sorted(close, key=lambda p: date_bounds(p.published)[1], reverse=True)
    return [replace(p, rank=rank) for rank, p in enumerate([*by_date, *rest][:k], 1)]


_ABOUT_TIME = re.compile(
    r"\bwhen (?:did|does|do|is|was|were|will|has|have|are|can|could)\b|\b(?:timeline|chronolog\w*|unfold\w*|"
    r"so far|since|until|recent\w*|changed?|changes|developments?|what happened|happening|updates?)\b",
    re.IGNORECASE,
)
"""Asks about time in words: "when did", "a timeline", "how did it unfold", "what happened", "changed"."""


def about_time(question: str, when: QuestionTime) -> bool:
    """Whether the answer turns on when things were reported: the question names a time or asks
    for the latest, or asks when, for a timeline, or what happened or changed. Only then are the
    sources shown with their publishers and dates, in date order. Shown for every dated question,
    the lines cost about 100 prompt tokens a question (468 to 566 on news-weeks) and helped no
    report set: news-long 28 of 43 gold answers with them for all, 30 with them for these only."""
    return when.window is not None or when.latest or bool(_ABOUT_TIME.search(question))


def narrowed(filters: Filters | None, when: QuestionTime, as_of: date | None) -> Filters:
    """``filters`` narrowed to the window ``when`` names, or else (a question asked on an ``as_of``
    day) to what was published by that day: an article from after it was not there to be read."""
    narrow = filters or Filters()
    if when.window is not None:
        return narrow.within(*when.window)
    if as_of is not None:
        return narrow.within(None, as_of)
    return narrow


def search_in_time(
    retriever: Retriever,
    query: str,
    k: int,
    filters: Filters | None = None,
    as_of: date | None = None,
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
    by_story: bool = True,
) -> tuple[list[Passage], QuestionTime]:
    """The ``k`` passages for ``query`` read in time (against ``as_of``, or today): within the
    window it names, each story once (``qa.copies``: a syndicated copy or an earlier version
    gives its place to the newest, which names the other outlets; ``by_story=False`` keeps every
    copy), and for "the latest", the newest of those about as relevant as the best first. The
    one timed search of ``citeqa search`` and of the answers' evidence."""
    when = read_question_time(query, as_of or date.today())
    narrow = narrowed(filters, when, as_of)
    passages = retriever.search(query, k=k, filters=narrow, mode=mode)
    newest = when.latest and len({p.published for p in passages if len(p.published) == 10}) > 1
    if not by_story:
        return (prefer_newest(passages, k) if newest else passages), when
    merged = merge_copies(passages)
    if newest or len(merged) < len(passages):
        # Reports of several days, or copies of one story that took several places: look wider,
        # keep each story once, then (for "the latest") the newest of the relevant first.
        merged = merge_copies(retriever.search(query, k=2 * k, filters=narrow, mode=mode))
        merged = prefer_newest(merged, k) if newest else merged[:k]
    return merged, when


def parse_as_of(text: str | date | None) -> date | None:
    """The day a question is asked as a front door receives it ("" or None: today), or
    ``BadFilterError`` naming the value."""
    if isinstance(text, date) or text is None:
        return text
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilterError(f"as_of {text!r} is not a day: use YYYY-MM-DD, or leave it empty for today") from None
