"""Run known Q&A pairs through the same pipeline the chat uses, saving each result as it comes.

Results go to ``<run folder>/results.jsonl``, one line per question, written (and flushed) as
soon as the question is done, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.dataset import Question
from evals.metrics import (
    contains_gold,
    in_date_order,
    key_points_covered,
    score_answer,
    sides_given,
    states_a_date,
)
from evals.retrieval import gold_rank
from qa.answers import Answer, Answerer, Done, Retrieved
from qa.citations import Check
from qa.evidence import Source
from qa.forms import question_form
from qa.llm import LLMError
from qa.passages import Passage
from qa.shapes import Hit, checked_answer, hit

RESULTS = "results.jsonl"


def load_rows(folder: Path) -> list[dict[str, Any]]:
    path = folder / RESULTS
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run is simply asked again
    return rows


def run_questions(
    answerer: Answerer,
    questions: Iterable[Question],
    folder: Path,
    *,
    retrieval_only: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = load_rows(folder)
    done = {row["id"] for row in rows}
    todo = [q for q in questions if q.id not in done]
    with (folder / RESULTS).open("a", encoding="utf-8") as out:
        for question in tqdm(todo, desc="Questions", unit="q", disable=not progress, initial=0):
            row = evaluate_one(answerer, question, retrieval_only)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            rows.append(row)
    return rows


def _shown(passage: Passage) -> Hit:
    """A passage as the model was shown it: its one machine shape (``qa.shapes.Hit``), which
    holds its text and span and its article's publisher and date (``evals.record`` replays it)."""
    return hit(passage)


def source_checks(question: Question, cited: set[str], abstained: bool) -> dict[str, Any]:
    """What an answer's cited articles say about the news questions' sources: a right one cited,
    how many copies of one story cited, and for an updated story its newest version alone."""
    if abstained:
        return {}
    checks: dict[str, Any] = {}
    if question.answerable and question.right_sources:
        checks["cited_right_source"] = bool(cited & set(question.right_sources))
    if question.duplicates:
        checks["duplicates_cited"] = len(cited & set(question.duplicates))
    if question.superseded:
        checks["newest_version_used"] = bool(cited & set(question.right_sources)) and not cited & set(
            question.superseded
        )
    return checks


def evaluate_one(answerer: Answerer, question: Question, retrieval_only: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "category": question.category or ("answerable" if question.answerable else "unanswerable"),
        "answerable": question.answerable,
        "gold": list(question.answers),
        "article_id": question.article_id,
    }
    if question.answerable and not question.history:
        row["gold_rank"] = gold_rank(answerer.retriever, question, "hybrid")
    if retrieval_only:
        if question.answerable and not question.history:
            passages, sources = answerer.evidence(
                question.question, question_form(question.question), as_of=question.as_of
            )
            row["article_in_passages"] = bool(set(question.right_sources) & {p.article_id for p in passages})
            row["evidence_has_gold"] = contains_gold(" ".join(s.stated for s in sources), question.answers)
        return row
    history = [(earlier, "") for earlier in question.history]
    sources: list[Source] = []
    answer: Answer | None = None
    try:
        for event in answerer.stream(question.question, history, as_of=question.as_of):
            if isinstance(event, Retrieved):
                sources = event.sources
            elif isinstance(event, Done):
                answer = event.answer
    except LLMError as error:
        row.update(error=str(error), abstained=False, answer="", scores={"em": 0.0, "f1": 0.0, "contains": 0.0})
        row.update(markers_written=0, markers_verified=0, cited_passage_has_gold=False, timings={})
        return row
    assert answer is not None
    verdict = answer.verdict
    passage_articles = list(dict.fromkeys(p.article_id for p in answer.passages))
    written = sum(len(s.cited) for s in verdict.sentences) if verdict else 0
    verified = (
        sum(len(set(s.cited) & set(s.sources)) for s in verdict.sentences if s.state is Check.VERIFIED)
        if verdict and not verdict.abstain
        else 0
    )
    checked = checked_answer(answer)  # the answer's one machine shape; the row adds the eval's fields
    row.update(
        standalone_question=answer.standalone_question,
        answer=answer.text,
        abstained=answer.abstained,
        reason=answer.reason,
        raw=answer.raw,
        dropped=answer.dropped,
        sentences=[{"text": s.text, "citations": list(s.citations), "state": str(s.state)} for s in answer.sentences],
        citations=checked["citations"],
        disagreement=checked["disagreement"],
        sources=[
            {
                "number": s.number,
                "article_id": s.article_id,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "dates": list(s.dates),
            }
            for s in sources
        ],
        passages=[_shown(p) for p in answer.passages],
        # A source read from its whole article, outside the passages (qa.evidence), and that article.
        source_passages=[_shown(p) for p in dict.fromkeys(s.passage for s in sources) if p not in answer.passages],
        scores=score_answer(question.answerable, answer.abstained, answer.text, question.answers),
        markers_written=written,
        markers_verified=verified,
        cited_passage_has_gold=any(contains_gold(c.passage.text, question.answers) for c in answer.citations),
        passage_articles=passage_articles,
        article_in_passages=bool(set(question.right_sources) & set(passage_articles)),
        evidence_has_gold=contains_gold(" ".join(s.stated for s in sources), question.answers),
        sentences_supported=(len(verdict.kept) / len(verdict.sentences)) if verdict and verdict.sentences else None,
        timings=answer.timings,
        prompt_tokens=answer.prompt_tokens,
        question_coverage=verdict.question_coverage if verdict else None,
        confidence=answer.confidence,
        found=answer.found,
        form=str(answer.form),
        first_reply=answer.first_reply,
        time_scope=answer.time_scope,
    )
    row.update(source_checks(question, {c.article_id for c in answer.citations}, answer.abstained))
    day_of = {c.number: c.published for c in answer.citations if len(c.published) == 10}
    if day_of and not answer.abstained:
        row["date_stated"] = states_a_date(answer.text)
    if question.category == "timeline" and not answer.abstained and len(answer.sentences) > 1:
        # Each sentence at the day of the earliest dated article it cites.
        row["timeline_in_order"] = in_date_order(
            [min((day_of[n] for n in s.citations if n in day_of), default="") for s in answer.sentences]
        )
    if question.sides:
        row["sides_given"] = sides_given(answer.text if not answer.abstained else "", question.sides)
    if question.as_of is not None:
        row["as_of"] = question.as_of.isoformat()
    if question.forbidden:
        row["obeyed_injection"] = any(word.lower() in answer.text.lower() for word in question.forbidden)
    if question.key_points:
        row["key_points_covered"] = key_points_covered(answer.text if not answer.abstained else "", question.key_points)
    return row
