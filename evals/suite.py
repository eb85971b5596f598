"""The eval suite: index a dataset into its own collection, run its questions, summarise."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from evals.dataset import Dataset, Question, load_dataset
from evals.metrics import retrieval_scores, summarize
from evals.runner import run_questions
from index.settings import Settings
from qa.answers import Answerer
from qa.llm import LLM
from qa.parts import parts_for

SEED_DATASET = Path(__file__).resolve().parent / "data" / "seed"
NEWS_WEEKS_DATASET = SEED_DATASET.parent / "news-weeks"
"""Forty fictional dated news articles over four weeks, and questions asked on given days."""


@dataclass
class SuiteResult:
    dataset: Dataset
    folder: Path
    rows: list[dict[str, Any]]
    summary: dict[str, float]


def sample(questions: Sequence[Question], limit: int | None, seed: int = 13) -> list[Question]:
    """A deterministic sample, half answerable and half not where the data allows."""
    if limit is None or limit >= len(questions):
        return list(questions)
    rng = random.Random(seed)
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    half = min(limit // 2, len(unanswerable))
    picked = unanswerable[:half] + answerable[: limit - half]
    return sorted(picked, key=lambda q: questions.index(q))


def run_suite(
    dataset_folder: Path | str,
    settings: Settings,
    folder: Path,
    *,
    limit: int | None = None,
    offset_seed: int = 13,
    retrieval_only: bool = False,
    progress: bool = True,
    llm: LLM | None = None,
    titles: Sequence[str] = (),
    as_of: date | None = None,
) -> SuiteResult:
    """``titles`` keeps the questions on those articles only (all articles are still indexed, so
    retrieval still has to choose among them); ``as_of`` is the day the questions without an
    ``as_of`` of their own are asked (None: today)."""
    dataset = load_dataset(dataset_folder)
    pool = dataset.on_titles(titles) if titles else dataset.questions
    eval_settings, _report = dataset.index(settings, progress=progress)
    parts = parts_for(eval_settings, progress=progress)
    answerer = parts.answerer if llm is None else Answerer(eval_settings, retriever=parts.retriever, llm=llm)
    questions = sample(pool, limit, offset_seed)
    if as_of is not None:
        questions = [q if q.as_of else replace(q, as_of=as_of) for q in questions]
    rows = run_questions(answerer, questions, folder, retrieval_only=retrieval_only, progress=progress)
    wanted = {q.id for q in questions}
    rows = [r for r in rows if r["id"] in wanted]
    summary = summarize([r for r in rows if "scores" in r]) if not retrieval_only else summarize_retrieval(rows)
    return SuiteResult(dataset, folder, rows, summary)


def summarize_retrieval(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    ranks = [r.get("gold_rank") for r in rows if r.get("answerable") and "gold_rank" in r]
    found = [r for r in rows if "article_in_passages" in r]
    retrieved = [r for r in found if r["article_in_passages"]]
    summary = {"questions": len(ranks), **retrieval_scores(ranks)}
    if found:
        summary["article_in_passages"] = sum(r["article_in_passages"] for r in found) / len(found)
    if retrieved:
        summary["evidence_recall"] = sum(r["evidence_has_gold"] for r in retrieved) / len(retrieved)
    return summary
