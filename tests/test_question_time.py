"""Time in a question, read against the day it is asked: the publication dates its answer may come
from, and whether it asks for the newest report."""

from __future__ import annotations

from datetime import date

import pytest

from qa.passages import BadFilterError, Passage
from qa.question_time import parse_as_of, prefer_newest, read_question_time
from qa.retriever import Filters

WEDNESDAY = date(2026, 11, 4)


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("What did the bank do last week?", date(2026, 10, 26)),  # Monday of last week
        ("What happened this week?", date(2026, 11, 2)),
        ("Who won the election announced yesterday?", date(2026, 11, 3)),
        ("What did the council decide today?", WEDNESDAY),
        ("What did the hospital announce on Friday?", date(2026, 10, 30)),
        ("What was decided last Wednesday?", date(2026, 10, 28)),
        ("What was announced on October 12?", date(2026, 10, 12)),
        ("What has changed since Monday?", date(2026, 11, 2)),
        ("What happened in the past week?", date(2026, 10, 28)),
        ("Who won the match last weekend?", date(2026, 10, 31)),
        ("What happened on December 12?", date(2025, 12, 12)),  # still to come this year: last year's
    ],
)
def test_news_cycle_time_is_read_as_the_first_day_to_the_day_asked(question: str, first: date) -> None:
    # What happened last week may be reported this week, but not before last week began.
    assert read_question_time(question, WEDNESDAY).window == (first, WEDNESDAY)


@pytest.mark.parametrize(
    "question",
    [
        "Who leads the delegation?",
        "What happened in 2019?",
        "What did Xi Jinping do in June 2019?",
        "What happened on March 3, 2024?",
        # A month or a year names when it happened; any later article may tell it.
        "What did the bank decide in early October?",
        "What happened last month?",
        "Who led the delegation in July last year?",
        "When did Sun Weidong visit Pyongyang?",  # a name, not a day
        "Will the delegation stay until Saturday?",  # a weekday that points ahead
        "Who does the club play next Friday?",
    ],
)
def test_a_question_without_news_cycle_time_is_not_narrowed(question: str) -> None:
    assert read_question_time(question, WEDNESDAY).window is None


def test_a_window_says_in_words_and_dates_what_was_searched() -> None:
    when = read_question_time("What did the bank do last week?", WEDNESDAY)
    assert when.describe() == "last week (26 October 2026 to 4 November 2026)"
    assert read_question_time("Who leads it?", WEDNESDAY).describe() == ""


@pytest.mark.parametrize(
    ("question", "latest"),
    [
        ("What is the latest on the ferry strike?", True),
        ("What is the bank's main interest rate now?", True),
        ("Who currently leads the council?", True),
        ("What is the most recent result for Rovers?", True),
        ("What did the bank decide last week?", False),
        ("Who leads the delegation?", False),
    ],
)
def test_a_question_asking_for_the_newest_report_is_recognised(question: str, latest: bool) -> None:
    assert read_question_time(question, WEDNESDAY).latest is latest


def _passage(article: str, published: str, score: float, rank: int) -> Passage:
    return Passage("text", article, article, article, "", published, "", 0, 4, rank, score)


def test_the_latest_prefers_the_newest_of_the_passages_about_as_relevant_as_the_best() -> None:
    passages = [
        _passage("old", "2026-10-08", 0.90, 1),
        _passage("newest", "2026-10-29", 0.80, 2),
        _passage("unrelated-newer", "2026-11-01", 0.30, 3),  # newer, but far less relevant
        _passage("middle", "2026-10-20", 0.70, 4),
    ]
    chosen = prefer_newest(passages, 3)
    assert [p.article_id for p in chosen] == ["newest", "middle", "old"]
    assert [p.rank for p in chosen] == [1, 2, 3]


def test_undated_passages_keep_their_order_under_the_latest() -> None:
    passages = [_passage(name, "", score, rank) for rank, (name, score) in enumerate([("a", 0.9), ("b", 0.8)], 1)]
    assert [p.article_id for p in prefer_newest(passages, 2)] == ["a", "b"]


def test_a_window_narrows_a_readers_filter_and_keeps_undated_articles_only_when_the_reader_set_no_dates() -> None:
    window = (date(2026, 10, 26), date(2026, 11, 2))
    mine = Filters(publishers=("Harbour Post",)).within(*window)
    assert (mine.published_from, mine.published_to, mine.keep_undated) == ("2026-10-26", "2026-11-02", True)
    assert mine.publishers == ("Harbour Post",)
    dated = Filters(published_from="2026-10-30").within(*window)
    assert (dated.published_from, dated.published_to, dated.keep_undated) == ("2026-10-30", "2026-11-02", False)
    replay = Filters().within(None, date(2026, 10, 15))
    assert (replay.published_from, replay.published_to) == (None, "2026-10-15")


def test_the_day_asked_is_read_as_an_iso_day_or_refused_by_name() -> None:
    assert parse_as_of("2026-11-04") == WEDNESDAY
    assert parse_as_of("") is None
    with pytest.raises(BadFilterError, match="'4 November'"):
        parse_as_of("4 November")
