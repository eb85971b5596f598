"""Scores for one question and for a whole run (SQuAD conventions for answers).

Every rate of a run comes with its count and a 95% Wilson interval (``rates``): 23 of 30 is
0.767 [0.59, 0.88], which cannot be told from 0.6 or from 0.85. A difference between two runs is
only claimed where it is larger than the intervals.
"""

from __future__ import annotations

import math
import re
import statistics
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation) | {"’", "‘", "“", "”", "—", "–"}


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no a/an/the, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]", "", text)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return max((float(normalize(prediction) == normalize(g)) for g in golds), default=0.0)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    predicted = normalize(prediction).split()
    best = 0.0
    for gold in golds:
        wanted = normalize(gold).split()
        common = sum((Counter(predicted) & Counter(wanted)).values())
        if common:
            precision, recall = common / len(predicted), common / len(wanted)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(text: str, golds: Sequence[str]) -> bool:
    haystack = f" {normalize(text)} "
    return any(normalize(g) and f" {normalize(g)} " in haystack for g in golds)


def key_points_covered(text: str, key_points: Sequence[Sequence[str]]) -> float:
    """The share of key points that the answer states (any of a point's phrasings, SQuAD-normalised)."""
    if not key_points:
        return float("nan")
    plain = strip_markers(text)
    return sum(contains_gold(plain, point) for point in key_points) / len(key_points)


def sides_given(text: str, sides: Sequence[Sequence[str]]) -> int:
    """How many sides of a disagreement the answer states (any of a side's phrasings)."""
    plain = strip_markers(text)
    return sum(contains_gold(plain, side) for side in sides)


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_CALENDAR_DATE = re.compile(rf"\b(?:[0-3]?\d(?:st|nd|rd|th)?\s+{_MONTH}|{_MONTH}\s+[0-3]?\d\b|\d{{4}}-\d\d-\d\d)")


def states_a_date(text: str) -> bool:
    """Does the answer say on which day ("on 29 October 2026", "Oct. 5", "2026-10-29")? A weekday
    alone ("on Thursday") does not: a reader weeks later cannot tell which Thursday."""
    return bool(_CALENDAR_DATE.search(strip_markers(text)))


def in_date_order(days: Sequence[str]) -> bool:
    """Are the days (YYYY-MM-DD, one per sentence of a timeline; "" for a sentence of no known day)
    in order, earliest first? Sentences of no known day are left out."""
    known = [day for day in days if day]
    return all(a <= b for a, b in pairwise(known))


def answered_wrongly(row: dict[str, Any]) -> bool:
    """An answer was given (no abstention) and it is wrong: no gold answer in it, or the question
    has no answer in the articles."""
    return not row["abstained"] and (not row["answerable"] or row["scores"]["contains"] < 1.0)


def score_answer(answerable: bool, abstained: bool, answer_text: str, golds: Sequence[str]) -> dict[str, float]:
    """EM, F1 and containment; on an unanswerable question an abstention scores 1, an answer 0."""
    if not answerable:
        value = 1.0 if abstained else 0.0
        return {"em": value, "f1": value, "contains": value}
    if abstained:
        return {"em": 0.0, "f1": 0.0, "contains": 0.0}
    text = strip_markers(answer_text)
    return {
        "em": exact_match(text, golds),
        "f1": token_f1(text, golds),
        "contains": float(contains_gold(text, golds)),
    }


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


@dataclass(frozen=True)
class Rate:
    """``hits`` of ``total`` questions, with the 95% Wilson score interval of the share."""

    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        """The Wilson interval: unlike value ± 1.96·SE it stays inside [0, 1] and is honest at 0/n
        and n/n, which small eval sets hit often."""
        if not self.total:
            return (float("nan"), float("nan"))
        z, n, p = 1.959964, self.total, self.hits / self.total
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (max(0.0, centre - half), min(1.0, centre + half))


def _reply_right(row: dict[str, Any]) -> bool:
    """The model's own reply, before the checks, holds a gold answer."""
    return contains_gold(strip_markers(row.get("raw") or ""), row.get("gold") or ())


def _answerable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["answerable"]]


def _factoid(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answerable questions scored by their gold answers (synthesis ones are scored by key points)."""
    return [r for r in _answerable(rows) if "key_points_covered" not in r]


def _given(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers given: neither declined nor lost to an error."""
    return [r for r in rows if not r["abstained"] and not r.get("error")]


def _found(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in _answerable(rows) if "article_in_passages" in r]


RATES: dict[
    str, tuple[Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]], Callable[[dict[str, Any]], bool]]
] = {
    "answer_contains_gold": (_factoid, lambda r: r["scores"]["contains"] >= 1.0),
    "answered_but_wrong": (_given, answered_wrongly),
    "cited_passage_has_gold": (
        lambda rows: [r for r in _answerable(rows) if not r["abstained"]],
        lambda r: bool(r["cited_passage_has_gold"]),
    ),
    "abstention_precision": (lambda rows: [r for r in rows if r["abstained"]], lambda r: not r["answerable"]),
    "abstention_recall": (lambda rows: [r for r in rows if not r["answerable"]], lambda r: bool(r["abstained"])),
    "false_abstention": (_answerable, lambda r: bool(r["abstained"])),
    "article_in_passages": (_found, lambda r: bool(r["article_in_passages"])),
    "evidence_recall": (
        lambda rows: [r for r in _found(rows) if r["article_in_passages"]],
        lambda r: bool(r["evidence_has_gold"]),
    ),
    "answerable_answered_wrong": (_factoid, lambda r: not r["abstained"] and r["scores"]["contains"] < 1.0),
    "second_reading": (_given, lambda r: bool(r.get("first_reply"))),
    "reply_contains_gold": (lambda rows: [r for r in _factoid(rows) if "raw" in r], _reply_right),
    "right_reply_declined": (
        lambda rows: [r for r in _factoid(rows) if _reply_right(r)],
        lambda r: bool(r["abstained"]),
    ),
}
"""Each rate of a run: which questions it counts (the denominator) and which of them are hits."""


def rates(rows: Sequence[dict[str, Any]]) -> dict[str, Rate]:
    """The run's rates with their counts (a rate whose denominator is empty is left out)."""
    out = {}
    for name, (counted, hit) in RATES.items():
        members = counted(rows)
        if members:
            out[name] = Rate(sum(1 for r in members if hit(r)), len(members))
    return out


def decline_reasons(rows: Sequence[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Why the run declined, counted separately for answerable questions (each one a right answer
    lost) and unanswerable ones."""
    out: dict[str, Counter[str]] = {"answerable": Counter(), "unanswerable": Counter()}
    for row in rows:
        if row.get("abstained"):
            kind = "answerable" if row["answerable"] else "unanswerable"
            out[kind][row.get("reason") or "(no reason given)"] += 1
    return out


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Run-level metrics from per-question result rows (see ``evals.runner``)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    ranks = [r.get("gold_rank") for r in answerable if "gold_rank" in r]
    synthesis = [r for r in rows if r.get("key_points_covered") is not None]
    markers = sum(r["markers_written"] for r in rows)
    out = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "em": _mean([r["scores"]["em"] for r in rows]),
        "f1": _mean([r["scores"]["f1"] for r in rows]),
        "answerable_em": _mean([r["scores"]["em"] for r in answerable]),
        "answerable_f1": _mean([r["scores"]["f1"] for r in answerable]),
        **dict.fromkeys(RATES, float("nan")),
        "citations_verified": (sum(r["markers_verified"] for r in rows) / markers) if markers else float("nan"),
        "ttft_p50": percentile([r["timings"].get("first_token_s", 0.0) for r in rows], 0.5),
        "ttft_p95": percentile([r["timings"].get("first_token_s", 0.0) for r in rows], 0.95),
        "total_p50": percentile([r["timings"].get("total_s", 0.0) for r in rows], 0.5),
        "total_p95": percentile([r["timings"].get("total_s", 0.0) for r in rows], 0.95),
    }
    if synthesis:
        out["key_points_covered"] = _mean([r["key_points_covered"] for r in synthesis])
        supported = [r["sentences_supported"] for r in synthesis if r.get("sentences_supported") is not None]
        out["synthesis_sentences_supported"] = _mean(supported)
        out["synthesis_sentences"] = _mean([float(len(r.get("sentences", []))) for r in synthesis])
    cited = [r for r in rows if "cited_right_source" in r]
    if cited:
        out["cited_right_source"] = _mean([float(r["cited_right_source"]) for r in cited])
    copies = [r for r in rows if "duplicates_cited" in r]
    if copies:
        out["duplicates_cited_once"] = _mean([float(r["duplicates_cited"] == 1) for r in copies])
    updated = [r for r in rows if "newest_version_used" in r]
    if updated:
        out["newest_version_used"] = _mean([float(r["newest_version_used"]) for r in updated])
    disagreements = [r for r in rows if "sides_given" in r]
    if disagreements:
        out["both_sides_given"] = _mean([float(r["sides_given"] >= 2) for r in disagreements])
    dated = [r for r in rows if "date_stated" in r]
    if dated:
        out["date_stated"] = _mean([float(r["date_stated"]) for r in dated])
    timelines = [r for r in rows if "timeline_in_order" in r]
    if timelines:
        out["timeline_in_order"] = _mean([float(r["timeline_in_order"]) for r in timelines])
    injections = [r for r in rows if "obeyed_injection" in r]
    if injections:
        out["injection_obeyed"] = _mean([float(r["obeyed_injection"]) for r in injections])
    out.update({name: rate.value for name, rate in rates(rows).items()})
    if ranks:
        out.update(retrieval_scores(ranks))
    return out


def retrieval_scores(ranks: Sequence[int | None], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """recall@k and MRR from the gold article's 1-based rank per question (None: not found)."""
    out = {f"recall@{k}": _mean([float(r is not None and r <= k) for r in ranks]) for k in ks}
    out["mrr"] = _mean([1.0 / r if r else 0.0 for r in ranks])
    return out
