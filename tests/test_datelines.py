"""Sources carry their article's publisher and date to the model and to the checks: a dated answer
can say when, a timeline reads in order, and the eval measures both."""

from __future__ import annotations

from qa.citations import Check, Verifier
from qa.evidence import Source
from qa.forms import Form
from qa.passages import Passage
from qa.prompt import SYSTEM, build_messages

CUT = "The National Bank cut its main interest rate by a quarter point to 3.25% on Thursday."
HOLD = "The National Bank kept its main interest rate at 3.5% on Thursday."
WARNING = "Governor Elin Varga said further cuts would depend on wages."


def source(number: int, text: str, article_id: str, publisher: str, published: str, in_time: bool = True) -> Source:
    passage = Passage(text, article_id, "h", "Title", publisher, published, "", 0, len(text), number, 1.0)
    return Source(number, text, 0, len(text), passage, 1.0, in_time=in_time)


def test_each_articles_sources_are_shown_under_one_line_with_its_publisher_and_date() -> None:
    sources = [
        source(1, HOLD, "hold", "Ledger Markets", "2026-10-08"),
        source(2, CUT, "cut", "Ledger Markets", "2026-10-29"),
        source(3, WARNING, "cut", "Ledger Markets", "2026-10-29"),
    ]
    system, user = (m["content"] for m in build_messages("What did the bank do with rates?", sources))
    assert user.splitlines()[1:6] == [
        "Ledger Markets, 8 October 2026:",
        f"[1] {HOLD}",
        "Ledger Markets, 29 October 2026:",
        f"[2] {CUT}",
        f"[3] {WARNING}",
    ]
    assert "publisher and date" in system and system == SYSTEM[Form.FACT, True]


def test_a_question_not_about_time_gets_its_sources_as_before() -> None:
    sources = [source(1, HOLD, "hold", "Ledger Markets", "2026-10-08", in_time=False)]
    system, user = (m["content"] for m in build_messages("What rate did the bank keep?", sources))
    assert user.splitlines()[1] == f"[1] {HOLD}" and system == SYSTEM[Form.FACT, False]


def test_which_questions_are_about_time() -> None:
    from datetime import date

    from qa.question_time import about_time, read_question_time

    def asks(question: str) -> bool:
        return about_time(question, read_question_time(question, date(2026, 11, 4)))

    assert asks("What did the bank do last week?") and asks("What is the latest on the ferry strike?")
    assert asks("When will the new mayor take office?") and asks("Give a timeline of the ferry strike.")
    assert asks("How did the Dunmere floods unfold?") and asks("What happened to the power supply?")
    assert not asks("How many passengers a day cross to the islands?")
    assert not asks("When the bank decided on its first cut in two years, how fast were prices rising?")


def test_sources_without_a_day_keep_the_head_they_had() -> None:
    undated = [source(1, CUT, "squad", "", "")]
    system, user = (m["content"] for m in build_messages("What did the bank do?", undated))
    assert user.splitlines()[1] == f"[1] {CUT}"  # no line for an article nobody dated
    assert system == SYSTEM[Form.FACT, False] and "publisher and date" not in system
    year_only = [source(1, CUT, "seed", "Bloomberg", "2024")]
    system, user = (m["content"] for m in build_messages("What did the bank do?", year_only))
    assert user.splitlines()[1] == "Bloomberg, 2024:" and system == SYSTEM[Form.FACT, False]


def test_an_answer_may_name_the_outlet_and_the_day_the_source_tells_but_not_take_the_articles_date() -> None:
    strike = "Crews on Islink Ferries will strike from Wednesday, the union said."
    passage = Passage(strike, "strike", "h", "Title", "Northern Wire", "2026-10-04", "", 0, len(strike), 1, 1.0)
    sources = [Source(1, strike, 0, len(strike), passage, 1.0, ("Wednesday: 7 October 2026",))]
    question = "When does the Islink ferry strike start?"
    right = "Northern Wire reported that the Islink crews strike from Wednesday, 7 October 2026 [1]."
    assert [s.state for s in Verifier().verify(right, question, sources).sentences] == [Check.VERIFIED]
    # 4 October is the day the article was published, not the day the strike starts.
    assert not Verifier().verify("The Islink ferry strike starts on 4 October 2026 [1].", question, sources).kept


def test_for_a_question_about_time_sources_are_listed_earliest_article_first() -> None:
    from index.embeddings import shared_embedder
    from qa.evidence import select_sources

    passages = [  # "a-cut" sorts before "z-hold" by id; the hold came three weeks earlier
        Passage(CUT, "a-cut", "h", "Cut", "Ledger Markets", "2026-10-29", "", 0, len(CUT), 1, 1.0),
        Passage(HOLD, "z-hold", "h", "Hold", "Ledger Markets", "2026-10-08", "", 0, len(HOLD), 2, 0.9),
    ]
    question = "How has the National Bank's interest rate changed?"
    sources = select_sources(question, passages, shared_embedder(), in_time=True)
    assert [s.article_id for s in sources] == ["z-hold", "a-cut"]
    assert [s.number for s in sources] == [1, 2]
    # A question not about time keeps article order (the prompt's start is shared between questions).
    plain = select_sources("What did the National Bank do with its interest rate?", passages, shared_embedder())
    assert [s.article_id for s in plain] == ["a-cut", "z-hold"]


def test_the_eval_knows_an_answer_that_says_which_day_and_a_timeline_in_order() -> None:
    from evals.metrics import in_date_order, states_a_date

    assert states_a_date("On 29 October 2026, the bank cut its rate [1].")
    assert states_a_date("The strike began on Oct. 5 [2].") and states_a_date("It opened 2026-10-05.")
    assert not states_a_date("The bank cut its rate on Thursday [1].")
    assert not states_a_date("The bank cut its rate to 3.25% in 2026 [1].")
    assert in_date_order(["2026-10-08", "", "2026-10-29", "2026-10-29"])
    assert not in_date_order(["2026-10-29", "2026-10-08"])
