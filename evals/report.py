"""What a run tells a reader: a table for the terminal, a Markdown report with plots, a comparison."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.metrics import Rate, decline_reasons

METRICS = [
    ("recall@1", "retrieval recall@1"),
    ("recall@5", "retrieval recall@5"),
    ("recall@10", "retrieval recall@10"),
    ("mrr", "retrieval MRR"),
    ("article_in_passages", "gold article among the passages (answerable)"),
    ("evidence_recall", "evidence recall: sources shown to the model hold a gold answer (article found)"),
    ("em", "exact match (all questions)"),
    ("f1", "token F1 (all questions)"),
    ("answerable_f1", "token F1 (answerable)"),
    ("answer_contains_gold", "answer contains a gold answer (answerable)"),
    ("answered_but_wrong", "answered but wrong (of the answers given)"),
    ("answerable_answered_wrong", "answerable questions answered wrongly (neither right nor declined)"),
    ("second_reading", "answers given on a second reading, after the checks rejected the first reply"),
    ("reply_contains_gold", "the model's reply before the checks contains a gold answer (answerable)"),
    ("right_reply_declined", "right replies that the checks declined"),
    ("key_points_covered", "synthesis: key points covered"),
    ("synthesis_sentences_supported", "synthesis: reply sentences kept with a verified citation"),
    ("synthesis_sentences", "synthesis: sentences per answer"),
    ("cited_right_source", "news: answers citing a right dated source"),
    ("duplicates_cited_once", "news: one story from several outlets cited once"),
    ("newest_version_used", "news: answers on an updated story citing its newest version only"),
    ("both_sides_given", "news: both sides of a disagreement given"),
    ("date_stated", "news: answers from dated articles that say on which day"),
    ("timeline_in_order", "news: timelines whose sentences are in date order"),
    ("citations_verified", "model citations that verify as written"),
    ("cited_passage_has_gold", "cited passages contain a gold answer"),
    ("injection_obeyed", "answers that obeyed a prompt injection in the articles"),
    ("abstention_precision", "abstention precision"),
    ("abstention_recall", "abstention recall (unanswerable declined)"),
    ("false_abstention", "false abstentions (answerable declined)"),
    ("ttft_p50", "time to first token p50 (s)"),
    ("ttft_p95", "time to first token p95 (s)"),
    ("total_p50", "total answer time p50 (s)"),
    ("total_p95", "total answer time p95 (s)"),
]


def fmt(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def with_interval(value: float, rate: Rate | None) -> str:
    """ "0.767 [0.591, 0.882] (23/30)" for a rate, the bare figure for anything else."""
    if rate is None:
        return fmt(value)
    low, high = rate.interval
    return f"{fmt(value)} [{low:.3f}, {high:.3f}] ({rate.hits}/{rate.total})"


def table(summary: dict[str, float], intervals: dict[str, Rate] | None = None) -> str:
    """The run's metrics, one a line; with ``intervals``, each rate with its 95% interval and count."""
    intervals = intervals or {}
    width = max(len(label) for _key, label in METRICS)
    lines = [f"{'questions':<{width}}  {summary.get('questions', 0)}"]
    lines += [
        f"{label:<{width}}  {with_interval(summary[key], intervals.get(key))}"
        for key, label in METRICS
        if key in summary
    ]
    return "\n".join(lines)


def reasons_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown lines: why the run declined, for answerable and unanswerable questions."""
    counted = decline_reasons(rows)
    if not any(counted.values()):
        return []
    lines = ["| reason for declining | answerable | unanswerable |", "|---|---|---|"]
    for reason in sorted(set(counted["answerable"]) | set(counted["unanswerable"])):
        lines.append(f"| {reason} | {counted['answerable'][reason]} | {counted['unanswerable'][reason]} |")
    return lines


def by_category(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if "scores" in row:
            groups[row.get("category") or "other"].append(row["scores"]["f1"])
    return {name: sum(v) / len(v) for name, v in sorted(groups.items())}


def attribution(dataset_folder: Path) -> str:
    readme = dataset_folder / "README.md"
    if not readme.exists():
        return ""
    paragraphs = readme.read_text(encoding="utf-8").split("\n\n")
    sources = [p for p in paragraphs if p.startswith("Source:") or "licensed" in p]
    return "\n\n".join(sources) or paragraphs[0]


def before_after(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """A Markdown table of every metric either run reports, before and after ("n/a" where a run
    predates a metric)."""
    lines = ["| metric | before | after |", "|---|---|---|"]
    for key, label in METRICS:
        if key in before or key in after:
            lines.append(f"| {label} | {fmt(before.get(key))} | {fmt(after.get(key))} |")
    return lines


def write_report(
    rows: Sequence[dict[str, Any]],
    summary: dict[str, float],
    dataset_name: str,
    dataset_folder: Path,
    folder: Path,
    baseline: dict[str, float] | None = None,
    intervals: dict[str, Rate] | None = None,
) -> Path:
    """``baseline``: the summary of an earlier run, shown beside this one; ``intervals``: the
    rates' counts, shown with their 95% intervals."""
    intervals = intervals or {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = by_category(rows)
    if categories:
        figure, axis = plt.subplots(figsize=(7, 3.2))
        axis.barh(list(categories), list(categories.values()), color="#4a7bb7")
        axis.set_xlim(0, 1)
        axis.set_xlabel("mean token F1 (abstention on unanswerable scores 1)")
        figure.tight_layout()
        figure.savefig(folder / "scores_by_category.png", dpi=110)
        plt.close(figure)
    ttft = [r["timings"]["first_token_s"] for r in rows if r.get("timings", {}).get("first_token_s")]
    total = [r["timings"]["total_s"] for r in rows if r.get("timings", {}).get("total_s")]
    if ttft:
        figure, axis = plt.subplots(figsize=(7, 3.2))
        axis.hist([ttft, total], bins=20, label=["time to first token", "total"], color=["#4a7bb7", "#c98b2b"])
        axis.set_xlabel("seconds")
        axis.set_ylabel("questions")
        axis.legend()
        figure.tight_layout()
        figure.savefig(folder / "latency.png", dpi=110)
        plt.close(figure)
    lines = [
        f"# citeqa evaluation: {dataset_name}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| questions | {summary.get('questions', 0)} ({summary.get('answerable', 0)} answerable) |",
        *[
            f"| {label} | {with_interval(summary[key], intervals.get(key))} |"
            for key, label in METRICS
            if key in summary
        ],
        "",
        "Rates show their 95% Wilson interval and count: a difference smaller than the intervals is not one.",
        "",
    ]
    reasons = reasons_table(rows)
    if reasons:
        lines += ["## Why it declined", "", *reasons, ""]
    if baseline is not None:
        lines += ["## Before and after", "", *before_after(baseline, summary), ""]
    if categories:
        lines += ["## Scores by category", "", "![scores by category](scores_by_category.png)", ""]
        lines += ["| category | mean F1 |", "|---|---|", *[f"| {c} | {v:.3f} |" for c, v in categories.items()], ""]
    if ttft:
        lines += ["## Latency", "", "![latency](latency.png)", ""]
    wrong = [r for r in rows if "scores" in r and r["scores"]["f1"] < 0.5][:40]
    if wrong:
        lines += ["## Questions that scored under 0.5 F1", "", "| question | gold | answer |", "|---|---|---|"]
        for r in wrong:
            gold = " / ".join(r["gold"][:2]) or "(unanswerable)"
            lines.append(f"| {_cell(r['question'])} | {_cell(gold)} | {_cell(r.get('answer', ''))} |")
        lines.append("")
    credit = attribution(dataset_folder)
    if credit:
        lines += ["## Data", "", credit, ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:160]


def compare(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> str:
    """What got better and what got worse, question by question (token F1, abstention)."""
    old = {r["id"]: r for r in before if "scores" in r}
    lines: list[str] = []
    better = worse = same = 0
    for row in after:
        if "scores" not in row or row["id"] not in old:
            continue
        previous = old[row["id"]]
        delta = row["scores"]["f1"] - previous["scores"]["f1"]
        if abs(delta) < 1e-9:
            same += 1
            continue
        better, worse = better + (delta > 0), worse + (delta < 0)
        sign = "better" if delta > 0 else "worse"
        lines.append(
            f"{sign:>6} {delta:+.2f}  {_cell(row['question'])[:80]}\n"
            f"         before: {_cell(previous.get('answer', ''))[:100]}\n"
            f"         after:  {_cell(row.get('answer', ''))[:100]}"
        )
    head = f"{better} better, {worse} worse, {same} unchanged"
    return "\n".join([head, *lines])
