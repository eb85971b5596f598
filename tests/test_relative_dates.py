"""Relative days in an article ("from Thursday", "said on Monday", "next week") read as dates from
its publication day, shown to the model beside the sentence, and accepted in an answer that gives them."""

from __future__ import annotations

from datetime import date

import pytest

from index.embeddings import shared_embedder
from index.relative_dates import resolve_relative_dates
from qa.citations import Check, Verifier
from qa.evidence import Source, select_sources
from qa.passages import Passage
from qa.prompt import build_messages

STRIKE = (  # published on Monday 2 March 2026
    "MAASPORT, March 2 (Harbour Post) - Tram drivers in Maasport will strike for 48 hours from Thursday "
    "after talks on pay broke down, the drivers' union VTB said on Monday."
)


def dates(text: str, published: str) -> dict[str, tuple[date, date]]:
    return {m.words: (m.first, m.last) for m in resolve_relative_dates(text, published)}


def day(iso: str) -> tuple[date, date]:
    return date.fromisoformat(iso), date.fromisoformat(iso)


def test_a_weekday_is_read_ahead_or_back_from_the_words_before_it() -> None:
    assert dates(STRIKE, "2026-03-02") == {"Thursday": day("2026-03-05"), "Monday": day("2026-03-02")}
    ended = "The drivers ended their strike on Sunday. Trams will run on all 11 lines from Tuesday morning."
    assert dates(ended, "2026-03-09") == {"Sunday": day("2026-03-08"), "Tuesday": day("2026-03-10")}
    # "to" and "on" say nothing about time: "returned to Pyongyang on Friday" is in the past.
    assert dates("The minister returned to Pyongyang on Friday.", "2026-03-05") == {"Friday": day("2026-02-27")}
    assert dates("Talks will resume on Friday.", "2026-03-05") == {"Friday": day("2026-03-06")}
    # Without a telling word nearby the sentence decides: its present tense looks ahead, a past back.
    preview = "Riverside FC and Port Athletic meet in the Northern Cup final at Kingsfield Stadium on Saturday."
    assert dates(preview, "2026-05-15") == {"Saturday": day("2026-05-16")}
    held = "The bank kept its rate at 3.5% on Thursday and said it could cut in the summer."
    assert dates(held, "2026-04-10") == {"Thursday": day("2026-04-09")}


def test_last_next_yesterday_and_periods_are_dates_or_ranges() -> None:
    text = "Yesterday the talks stalled; they resume tomorrow. He left last Friday. Prices rose last month."
    assert dates(text, "2026-03-05") == {
        "Yesterday": day("2026-03-04"),
        "tomorrow": day("2026-03-06"),
        "last Friday": day("2026-02-27"),
        "last month": (date(2026, 2, 1), date(2026, 2, 28)),
    }
    assert dates("Drivers will strike next week.", "2026-03-05") == {"next week": (date(2026, 3, 9), date(2026, 3, 15))}
    assert dates("A week of talks ended this year.", "2026-12-31")["this year"] == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )


@pytest.mark.parametrize("published", ["2024", "2024-03", "", "not a date"])
def test_without_a_day_to_count_from_nothing_is_resolved(published: str) -> None:
    assert resolve_relative_dates("China is sending a delegation for a trip starting Thursday.", published) == []


def _passage(text: str, published: str) -> Passage:
    return Passage(text, "tram-strike", "h", "Tram strike", "Harbour Post", published, "", 0, len(text), 1, 1.0)


def test_the_model_is_shown_the_date_beside_the_sentence_and_the_quote_stays_exact() -> None:
    [source] = select_sources("When does the tram strike start?", [_passage(STRIKE, "2026-03-02")], shared_embedder())
    assert source.text == STRIKE[source.start : source.end]  # the citation still quotes the article
    assert source.dates == ("Thursday: 5 March 2026", "Monday: 2 March 2026")
    user = build_messages("When does the tram strike start?", [source])[1]["content"]
    assert "(Thursday: 5 March 2026; Monday: 2 March 2026)" in user


def test_an_answer_that_gives_the_date_is_verified_and_a_wrong_date_is_not() -> None:
    text = "Tram drivers in Maasport will strike for 48 hours from Thursday, the union said."
    source = Source(1, text, 0, len(text), _passage(text, "2026-03-02"), 1.0, ("Thursday: 5 March 2026",))
    question = "When does the Maasport tram strike start?"
    right = Verifier().verify("The strike starts on Thursday, 5 March 2026 [1].", question, [source])
    assert [s.state for s in right.sentences] == [Check.VERIFIED]
    wrong = Verifier().verify("The strike starts on 12 March 2026 [1].", question, [source])
    assert not wrong.kept
