"""Reports that disagree on the figure a question asks for, so that an answer gives both sides.

Two outlets often count differently: "about 1,200 people were evacuated" (Valley Courier) and
"some 1,500 residents left their homes" (Northern Wire), three paintings stolen or four. A small
model given both picks one and the reader never learns that the count is disputed. Here the
evidence is read for such a pair before the answer is composed; when the model's answer states
one side only, citeqa adds the other as a sentence of its own, in the source's words and cited
to it ("Northern Wire reported some 1,500 residents [2]."), rather than asking the model to.

A pair is a disagreement when, for a "how many" or "how much" question:
- two sources come from different articles (copies of one story were already merged,
  ``qa.copies``) published within ``SAME_DAYS`` of each other, and each names everything the
  question names ("Dunmere", "Storm Greta"): the same event, not a look-alike elsewhere;
- each states a quantity whose unit is the thing asked about, by meaning ("residents" for
  "people", "households" for "homes": MiniLM cosine at least ``SAME_UNIT``; "euros" for "people"
  is 0.21, "homes" for "people" 0.37, "residents" 0.51, "households" for "homes" 0.69);
- the two sentences tell the same event (MiniLM cosine at least ``SAME_EVENT``: the news-weeks
  fixture's three disagreeing pairs measure 0.59 to 0.71; "some 14,000 soldiers passed through its
  camps" and "five veterans" of one news-long story 0.49. Chosen on those five pairs, so the
  fixture's "both sides given" is not an unbiased figure for it);
- and the two quantities differ.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from index.embeddings import MiniLMEmbedder
from qa.citations import names
from qa.evidence import Source

__all__ = ["SAME_DAYS", "SAME_EVENT", "SAME_UNIT", "Side", "disputed_sides", "missing_side", "other_side"]

SAME_DAYS = 3
SAME_UNIT = 0.45
SAME_EVENT = 0.55
_ASKS_HOW_MANY = re.compile(r"\bhow (?:many|much) (?P<thing>[a-z]+)", re.IGNORECASE)
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip
_QUANTITY = re.compile(
    r"(?<![\w.,])(?P<hedge>(?:about|some|nearly|almost|around|roughly|more than|at least) )?"
    r"(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")"
    r"(?: (?P<scale>million|billion))? (?P<unit>[a-z]+)",
    re.IGNORECASE,
)
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_MONTH_BEFORE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s*$")


@dataclass(frozen=True)
class Side:
    """One source's figure: ``words`` as the source writes it ("some 1,500 residents")."""

    source: Source
    words: str
    number: str
    """The figure as written ("1,500", "three")."""
    value: float

    def sentence(self) -> str:
        """What citeqa adds for this side: "Northern Wire reported some 1,500 residents."."""
        who = self.source.passage.publisher or "Another report"
        words = self.words[0].lower() + self.words[1:] if not self.words[:1].isdigit() else self.words
        return f"{who} reported {words}."

    def stated_in(self, answer: str) -> bool:
        """Does ``answer`` give this figure ("1,500", "1500"; "three" or "3")?"""
        whole = int(self.value)
        forms = {self.number.lower(), f"{whole:,}", str(whole)} if self.value == whole else {self.number.lower()}
        forms |= {word for word, number in _WORDS.items() if number == self.value}
        text = answer.lower()
        return any(re.search(rf"(?<![\w,.]){re.escape(form)}(?![\w,]|\.\d)", text) for form in forms)


def _figures(source: Source, thing: str, embedder: MiniLMEmbedder) -> list[Side]:
    """The quantities of the thing asked about in a source, in order."""
    found = [m for m in _QUANTITY.finditer(source.text) if not _MONTH_BEFORE.search(source.text[: m.start()])]
    if not found:
        return []  # ("Oct. 11" above is a day, not a count)
    vectors = embedder.embed([thing] + [m.group("unit").lower() for m in found])
    return [
        Side(source, m.group(0), m.group("number"), _value(m.group("number"), m.group("scale")))
        for m, vector in zip(found, vectors[1:], strict=True)
        if float(vector @ vectors[0]) >= SAME_UNIT
    ]


def _value(number: str, scale: str | None) -> float:
    base = float(_WORDS[number.lower()]) if number.lower() in _WORDS else float(number.replace(",", ""))
    return base * {"million": 1e6, "billion": 1e9}.get((scale or "").lower(), 1.0)


def _days_apart(a: Source, b: Source) -> int:
    """Days between two sources' articles (0 when either is not dated to the day)."""
    days = [a.passage.published, b.passage.published]
    if not all(len(d) == 10 for d in days):
        return 0
    first, second = (date.fromisoformat(d) for d in days)
    return abs((first - second).days)


def disputed_sides(question: str, sources: Sequence[Source], answer: str, embedder: MiniLMEmbedder) -> list[Side]:
    """The figures in dispute for a "how many" question: the side ``answer`` gives first, then
    each other article's differing figure of the same event; empty when there is no dispute."""
    asked = _ASKS_HOW_MANY.search(question)
    if not asked:
        return []
    answer = _MARKERS.sub("", answer)  # "[4]" is a citation, not four of anything
    wanted = names(question)
    sides: dict[str, Side] = {}  # each article's first figure of the thing asked about
    for source in sources:
        if source.article_id in sides or not wanted <= names(source.text):
            continue
        figures = _figures(source, asked.group("thing"), embedder)
        if figures:
            sides[source.article_id] = figures[0]
    given = next((side for side in sides.values() if side.stated_in(answer)), None)
    if given is None:
        return []
    disputed = [given]
    for side in sides.values():
        if side.value != given.value and _days_apart(side.source, given.source) <= SAME_DAYS:
            vectors = embedder.embed([given.source.text, side.source.text])
            if float(vectors[0] @ vectors[1]) >= SAME_EVENT:
                disputed.append(side)
    return disputed if len(disputed) > 1 else []


def missing_side(sides: Sequence[Side], answer: str) -> Side | None:
    """The first of the ``disputed_sides`` whose figure ``answer`` does not give (None: all given)."""
    answer = _MARKERS.sub("", answer)
    return next((side for side in sides[1:] if not side.stated_in(answer)), None)


def other_side(question: str, sources: Sequence[Source], answer: str, embedder: MiniLMEmbedder) -> Side | None:
    """The side of a disagreement that ``answer`` leaves out, when the sources hold one and the
    answer gives another; None otherwise."""
    return missing_side(disputed_sides(question, sources, answer, embedder), answer)
