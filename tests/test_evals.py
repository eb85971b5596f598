"""The eval suite: its data, its scoring (SQuAD conventions), resuming, reports and comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.dataset import load_dataset
from evals.metrics import Rate, exact_match, normalize, rates, score_answer, sides_given, summarize, token_f1
from evals.report import compare, table, write_report
from evals.runner import load_rows, run_questions
from evals.suite import NEWS_WEEKS_DATASET, SEED_DATASET, sample
from index.settings import Settings
from qa.answers import Answerer
from qa.llm import LLM
from tests.conftest import SEED_FILE
from tests.fake_llm import FakeLLM


def test_the_seed_set_covers_what_it_should() -> None:
    dataset = load_dataset(SEED_DATASET)
    article = json.loads((SEED_DATASET / "articles.jsonl").read_text(encoding="utf-8"))
    assert article["text"] == SEED_FILE.read_text(encoding="utf-8")  # the seed, unchanged
    categories = {q.category for q in dataset.questions}
    assert {"people", "places", "dates", "numbers", "quotes", "paraphrase", "two-sentence", "follow-up"} <= categories
    assert len(dataset.questions) >= 30
    assert sum(not q.answerable for q in dataset.questions) >= 8
    assert all(q.history for q in dataset.questions if q.category == "follow-up")
    for question in dataset.questions:
        if question.answerable:
            assert any(a in article["text"] for a in question.answers), question.question


def test_the_news_weeks_set_asks_about_time_copies_and_disagreements_on_dated_articles() -> None:
    dataset = load_dataset(NEWS_WEEKS_DATASET)
    articles = {
        record["id"]: record
        for record in map(json.loads, (NEWS_WEEKS_DATASET / "articles.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert len(articles) >= 40 and len(dataset.questions) >= 40
    categories = {q.category for q in dataset.questions}
    assert {"relative", "latest", "timeline", "duplicate", "updated", "disagreement", "dates"} <= categories
    assert all(q.as_of is not None for q in dataset.questions)
    for question in dataset.questions:
        texts = [articles[a]["text"] for a in question.right_sources]
        if question.answerable and not question.key_points:
            assert any(g in t for g in question.answers for t in texts) or question.category == "dates", question.id
        for side in question.sides:  # each side stated by one of the articles
            assert any(phrase.lower() in t.lower() for phrase in side for t in texts), question.id
        copies = {articles[a]["text"].split("\n\n", 1)[1] for a in question.duplicates}
        assert len(copies) <= 1, question.id  # the same wire text under several outlets' own headlines
        for a in question.right_sources:  # no answer comes from an article published after the day asked
            published = articles[a].get("published") or "2026-10-05"  # the one dated by its dateline
            assert published <= question.as_of.isoformat(), question.id
    publishers = {r.get("publisher") for r in articles.values() if r.get("publisher")}
    assert len(publishers) >= 6
    datelines = [r["text"] for r in articles.values()]
    assert any("(Ledger Markets) --" in t and "©2026 Ledger Markets L.P." in t for t in datelines)
    assert any(", Oct. 5 (Northern Wire) -" in t for t in datelines)
    assert any("LARKHAVEN (Coastline Daily) —" in t for t in datelines)


def test_news_metrics_read_the_right_source_one_copy_and_both_sides() -> None:
    def row(**fields: object) -> dict[str, object]:
        base = {"answerable": True, "abstained": False, "scores": {"em": 0, "f1": 0, "contains": 1.0}}
        base.update(markers_written=1, markers_verified=1, cited_passage_has_gold=True, timings={})
        return {**base, **fields}

    rows = [
        row(cited_right_source=True, duplicates_cited=1, sides_given=2),
        row(cited_right_source=False, duplicates_cited=2, sides_given=1),
    ]
    summary = summarize(rows)
    assert (summary["cited_right_source"], summary["duplicates_cited_once"], summary["both_sides_given"]) == (
        0.5,
        0.5,
        0.5,
    )
    assert (
        sides_given("Harbour Post reported three paintings [1]; Coastline Daily four [2].", [["three"], ["four"]]) == 2
    )
    assert sides_given("Three paintings were stolen [1].", [["three"], ["four"]]) == 1


def test_an_answer_on_an_updated_story_counts_as_newest_only_citing_the_update_and_not_the_first_version() -> None:
    from evals.dataset import Question
    from evals.runner import source_checks

    question = Question("q", "How many will work at the plant?", ("650",), "update", True, superseded=("first",))
    assert source_checks(question, {"update"}, abstained=False)["newest_version_used"] is True
    assert source_checks(question, {"update", "first"}, abstained=False)["newest_version_used"] is False
    assert source_checks(question, {"first"}, abstained=False) == {
        "cited_right_source": False,
        "newest_version_used": False,
    }
    assert source_checks(question, {"update"}, abstained=True) == {}
    rows = [{"answerable": True, "abstained": False, "scores": {"em": 0, "f1": 0, "contains": 1.0},
             "markers_written": 1, "markers_verified": 1, "cited_passage_has_gold": True, "timings": {},
             "newest_version_used": used} for used in (True, True, False)]  # fmt: skip
    assert summarize(rows)["newest_version_used"] == pytest.approx(2 / 3)


def test_squad_normalisation_and_scores() -> None:
    assert normalize("The  Zhao-Leji, an official!") == "zhaoleji official"
    assert exact_match("the Zhao Leji", ["Zhao Leji"]) == 1.0
    assert token_f1("Zhao Leji will head it", ["Zhao Leji"]) == pytest.approx(2 * (2 / 5) * 1 / (2 / 5 + 1))
    assert score_answer(False, True, "The articles don't say.", []) == {"em": 1.0, "f1": 1.0, "contains": 1.0}
    assert score_answer(False, False, "Kimchi [1].", [])["f1"] == 0.0
    assert score_answer(True, False, "It ends on Saturday [1].", ["Saturday"])["contains"] == 1.0


def test_a_sample_is_balanced_and_deterministic() -> None:
    questions = load_dataset(SEED_DATASET).questions
    first, second = sample(questions, 10), sample(questions, 10)
    assert first == second
    assert sum(not q.answerable for q in first) == 5


def test_a_run_saves_each_answer_and_resumes(tmp_path: Path) -> None:
    dataset = load_dataset(SEED_DATASET)
    settings, _ = dataset.index(Settings().with_store(home=tmp_path / "home"))
    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].").running() as fake:
        configured = settings.with_llm(base_url=fake.base_url, chat_model="fake")
        answerer = Answerer(configured, llm=LLM(configured))
        folder = tmp_path / "run"
        first = run_questions(answerer, dataset.questions[:3], folder, progress=False)
        asked = len(fake.requests)
        again = run_questions(answerer, dataset.questions[:4], folder, progress=False)
    assert len(first) == 3 and len(again) == 4
    assert len(load_rows(folder)) == 4
    # Only the new question was asked: its "Found" step and its reply, nothing for the first three.
    assert len(fake.requests) - asked == 2
    assert [r["id"] for r in again] == [q.id for q in dataset.questions[:4]]
    assert again[3]["answer"] and "scores" in again[3]
    row = first[0]
    assert row["answer"].startswith("Zhao Leji") and row["scores"]["contains"] == 1.0
    assert row["citations"][0]["quote"].startswith("Zhao Leji")
    summary = summarize(again)
    assert summary["questions"] == 4 and 0 <= summary["f1"] <= 1
    report = write_report(again, summary, "seed", SEED_DATASET, folder)
    assert "token F1" in report.read_text() and (folder / "scores_by_category.png").exists()
    assert "token F1" in table(summary)


def test_comparing_two_runs_shows_what_changed() -> None:
    before = [{"id": "a", "question": "Q1", "answer": "x", "scores": {"f1": 0.0}}]
    after = [{"id": "a", "question": "Q1", "answer": "Zhao Leji", "scores": {"f1": 1.0}}]
    text = compare(before, after)
    assert text.startswith("1 better, 0 worse")
    assert "Zhao Leji" in text


def test_the_report_shows_each_metric_before_and_after(tmp_path: Path) -> None:
    def row(answerable: bool, abstained: bool, contains: float, **extra: object) -> dict:
        scores = {"em": 0.0, "f1": contains, "contains": contains}
        timings = {"first_token_s": 1.0, "total_s": 2.0}
        return {"id": "x", "question": "Q", "answerable": answerable, "abstained": abstained, "gold": ["a"],
                "scores": scores, "markers_written": 1, "markers_verified": 1, "cited_passage_has_gold": True,
                "timings": timings, **extra}  # fmt: skip

    before = summarize([row(True, False, 0.0), row(False, False, 0.0)])  # an old run: no evidence fields
    after = summarize(
        [
            row(True, False, 1.0, article_in_passages=True, evidence_has_gold=True),
            row(False, True, 1.0),
            row(True, False, 1.0, key_points_covered=0.5, sentences_supported=1.0, sentences=[{}, {}]),
            row(True, False, 1.0, obeyed_injection=True),
            row(False, True, 1.0, obeyed_injection=False),
        ]
    )
    assert after["injection_obeyed"] == 0.5 and "injection_obeyed" not in before
    assert after["answered_but_wrong"] == 0.0 and before["answered_but_wrong"] == 1.0
    assert after["evidence_recall"] == 1.0 and after["key_points_covered"] == 0.5
    assert after["answer_contains_gold"] == 1.0  # the synthesis question is scored by its key points
    text = write_report([], after, "seed", SEED_DATASET, tmp_path, baseline=before).read_text()
    assert "## Before and after" in text
    assert "| answered but wrong (of the answers given) | 1.000 | 0.000 |" in text
    assert "| evidence recall: sources shown to the model hold a gold answer (article found) | n/a | 1.000 |" in text


def test_a_rate_carries_its_count_and_a_95_percent_interval() -> None:
    # 23 of 30 cannot be told from 0.6 or from 0.85: the interval says so.
    low, high = Rate(23, 30).interval
    assert Rate(23, 30).value == pytest.approx(0.767, abs=1e-3)
    assert low == pytest.approx(0.591, abs=2e-3) and high == pytest.approx(0.882, abs=2e-3)
    assert low < 0.6 < 0.85 < high
    # At the edges it stays inside [0, 1] and is not a point: 0 of 10 is no proof of 0.
    assert Rate(0, 10).interval[0] == 0.0 and 0.25 < Rate(0, 10).interval[1] < 0.35
    assert Rate(10, 10).interval[1] == pytest.approx(1.0) and Rate(10, 10).interval[0] < 0.75
    # More questions, a narrower interval around the same share.
    small, large = Rate(6, 10).interval, Rate(60, 100).interval
    assert large[1] - large[0] < small[1] - small[0]


def _row(answerable: bool, abstained: bool, contains: float = 0.0, reason: str = "", raw: str = "") -> dict:
    return {"id": "x", "question": "Q", "answerable": answerable, "abstained": abstained, "reason": reason, "raw": raw,
            "gold": ["Otters"], "scores": {"em": 0.0, "f1": contains, "contains": contains}, "markers_written": 1,
            "markers_verified": 1, "cited_passage_has_gold": contains > 0, "timings": {"first_token_s": 1.0}}  # fmt: skip


def test_the_report_gives_each_rate_its_interval_and_counts_why_it_declined(tmp_path: Path) -> None:
    rows = [
        _row(True, False, 1.0),
        _row(True, False, 1.0),
        _row(True, False, 0.0),
        _row(
            True, True, reason="no source supports the model's answer", raw="Found: Yes\nAnswer: It was the Otters [1]."
        ),
        _row(True, True, reason="no source supports the model's answer", raw="Found: Yes\nAnswer: the Hawks [1]."),
        _row(True, True, reason="the sources do not hold the answer"),
        _row(False, True, reason="the sources do not hold the answer"),
        _row(False, False),
    ]
    counted = rates(rows)
    assert (counted["answer_contains_gold"].hits, counted["answer_contains_gold"].total) == (2, 6)
    assert (counted["false_abstention"].hits, counted["false_abstention"].total) == (3, 6)
    assert (counted["abstention_recall"].hits, counted["abstention_recall"].total) == (1, 2)
    assert (counted["answered_but_wrong"].hits, counted["answered_but_wrong"].total) == (2, 4)
    assert (counted["answerable_answered_wrong"].hits, counted["answerable_answered_wrong"].total) == (1, 6)
    # The checks threw away one right reply: the model had said "a" and the answer was declined.
    assert (counted["reply_contains_gold"].hits, counted["right_reply_declined"].hits) == (1, 1)
    summary = summarize(rows)
    assert summary["answer_contains_gold"] == pytest.approx(2 / 6)
    low, high = counted["answer_contains_gold"].interval
    assert f"0.333 [{low:.3f}, {high:.3f}] (2/6)" in table(summary, counted)
    text = write_report(rows, summary, "seed", SEED_DATASET, tmp_path, intervals=counted).read_text()
    assert f"| answer contains a gold answer (answerable) | 0.333 [{low:.3f}, {high:.3f}] (2/6) |" in text
    assert "| no source supports the model's answer | 2 | 0 |" in text
    assert "| the sources do not hold the answer | 1 | 1 |" in text
