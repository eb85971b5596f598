"""Recorded model replies for tests, taken from real eval runs, never written by hand.

A row of ``results.jsonl`` holds what the real pipeline did for one question: the sources the
model was shown (with their passages), and its raw reply. ``python -m evals.record RUN ID
--expect answer`` (or ``decline``, or ``second-reading`` for an answer given after the checks
rejected the first reply, which is recorded too; ``dated-answer``, ``timeline`` and ``other-side``
for the news checks) prints that as one JSON line for ``tests/data/recorded_replies.jsonl``;
``replayed_sources`` turns it back into the ``Source`` objects the checks read, so a test can
replay the reply against the checks of today.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.runner import load_rows
from qa.evidence import Source
from qa.passages import Passage

__all__ = ["recorded_case", "replayed_sources"]


def recorded_case(row: dict[str, Any], run: str, expect: str, note: str = "") -> dict[str, Any]:
    """The parts of an eval row a replay needs, with what the checks should make of it."""
    if "raw" not in row or "sources" not in row:
        raise ValueError(f"{row.get('id')}: the row has no reply to record (a retrieval-only run, or an error)")
    return {
        "id": row["id"],
        "run": run,
        "question": row.get("standalone_question") or row["question"],
        "gold": row["gold"],
        "answerable": row["answerable"],
        "sources": row["sources"],
        "passages": row["passages"],
        "source_passages": row.get("source_passages", []),
        "raw": row["raw"],
        "first_reply": row.get("first_reply", ""),
        "expect": expect,
        "note": note,
    }


def replayed_sources(case: dict[str, Any]) -> list[Source]:
    """The case's sources as the checks saw them, each inside the passage it was cut from."""
    shown = case["passages"] + case.get("source_passages", [])  # retrieved passages, then whole articles
    passages = [
        Passage(
            p["text"],
            p["article_id"],
            "",
            "",
            p.get("publisher", ""),
            p.get("published", ""),
            "",
            p["start"],
            p["end"],
            rank,
            1.0,
        )
        for rank, p in enumerate(shown, 1)
    ]
    sources = []
    for s in case["sources"]:
        passage = next(
            (p for p in passages if p.article_id == s["article_id"] and p.start <= s["start"] and s["end"] <= p.end),
            None,
        )
        if passage is None:
            raise ValueError(f"{case['id']}: source [{s['number']}] lies in none of the recorded passages")
        dates = tuple(s.get("dates") or ())  # relative days read as dates, shown beside the sentence
        sources.append(Source(s["number"], s["text"], s["start"], s["end"], passage, 1.0, dates))
    return sources


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an eval run folder (with results.jsonl)")
    parser.add_argument("ids", nargs="+", help="question ids to record")
    parser.add_argument(
        "--expect",
        choices=("answer", "decline", "second-reading", "dated-answer", "timeline", "other-side"),
        required=True,
        help="what the checks should make of the reply: kept, withheld, kept on a second reading; "
        "kept and saying on which day; a timeline kept in date order; one side of a disagreement, "
        "the other found in the sources",
    )
    parser.add_argument("--name", default="", help="how the run is named in the record (default: its folder)")
    parser.add_argument("--note", default="", help="why the case is recorded")
    args = parser.parse_args(argv)
    rows = {row["id"]: row for row in load_rows(args.run)}
    for wanted in args.ids:
        if wanted not in rows:
            parser.error(f"{args.run}/results.jsonl has no question {wanted}")
        print(
            json.dumps(
                recorded_case(rows[wanted], args.name or args.run.name, args.expect, args.note), ensure_ascii=False
            )
        )


if __name__ == "__main__":
    main()
