"""Time in news questions, on the four-weeks fixture (real Chroma, the real embedder, model replies
from a fake endpoint over HTTP): the day a question is asked and the time it names narrow the search."""

from __future__ import annotations

import json
from datetime import date

import pytest

from evals.suite import NEWS_WEEKS_DATASET
from index.pipeline import Indexer
from index.settings import Settings
from qa.answers import Answerer
from qa.llm import LLM
from tests.fake_llm import FakeLLM
from ui.render import answer_html


@pytest.fixture(scope="module")
def news_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings().with_store(home=tmp_path_factory.mktemp("news") / "home")
    report = Indexer(settings).index_paths([NEWS_WEEKS_DATASET / "articles.jsonl"])
    assert report.failed == [] if hasattr(report, "failed") else True
    return settings


def answerer_with(settings: Settings, fake: FakeLLM) -> Answerer:
    configured = settings.with_llm(base_url=fake.base_url, chat_model="fake", timeout_s=5)
    return Answerer(configured, llm=LLM(configured))


def test_last_week_searches_the_articles_of_last_week(news_settings: Settings) -> None:
    reply = " On 29 October 2026, the National Bank cut its main interest rate to 3.25% [1]."
    with FakeLLM("ok", reply=reply, found=0.95).running() as fake:
        answer = answerer_with(news_settings, fake).ask(
            "What did the National Bank do with interest rates last week?", as_of=date(2026, 11, 4)
        )
    assert {p.published for p in answer.passages} <= {
        f"2026-{day}" for day in ("10-26", "10-28", "10-29", "10-30", "11-01")
    }
    assert "weeks:lm-rates-hold" not in {p.article_id for p in answer.passages}  # 8 October: not last week
    assert not answer.abstained, answer.reason
    assert answer.text.startswith("On 29 October 2026, the National Bank cut")
    assert answer.citations[0].article_id == "weeks:lm-rates-cut"
    assert answer.time_scope == "last week (26 October 2026 to 4 November 2026)"


def test_a_week_in_which_nothing_was_reported_is_answered_without_the_model(news_settings: Settings) -> None:
    with FakeLLM("ok", reply=" The bank held its rate at 3.5% [1].", found=0.95).running() as fake:
        answer = answerer_with(news_settings, fake).ask(
            "What did the National Bank decide about interest rates last week?", as_of=date(2026, 10, 22)
        )
    assert answer.abstained
    assert "rates" not in " ".join(p.article_id for p in answer.passages)
    assert not [r for r in fake.requests if r.get("stream")]
    # The reader is told what was searched, in words and dates.
    scope = "last week (12 October 2026 to 22 October 2026)"
    assert answer.time_scope == scope and answer.reason == f"nothing relevant was published {scope}"
    assert f"Searched articles published {scope}." in answer_html(answer, 1)


def test_nothing_published_after_the_day_asked_is_used(news_settings: Settings) -> None:
    with FakeLLM("ok", reply=" Islink offered 1.25 times the day rate [1].", found=0.95).running() as fake:
        answer = answerer_with(news_settings, fake).ask("What did Islink offer its crews?", as_of=date(2026, 10, 6))
    assert answer.passages and all(p.published <= "2026-10-06" for p in answer.passages)


def test_the_latest_puts_the_newest_relevant_report_first(news_settings: Settings) -> None:
    answerer = Answerer(news_settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))
    passages, sources = answerer.evidence("What is the latest result for Brackwater Rovers?", as_of=date(2026, 11, 2))
    assert passages[0].article_id == "weeks:sd-rovers-port-wells"
    assert sources


def test_citeqa_search_as_of_a_day_reads_the_time_in_the_query_from_it(news_settings: Settings) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    home = ["--home", str(news_settings.store.home)]
    query = "National Bank interest rate decision last week"
    result = CliRunner().invoke(main, [*home, "search", query, "--as-of", "2026-11-04", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["article_id"] == "weeks:lm-rates-cut"
    assert all("2026-10-26" <= hit["published"] <= "2026-11-04" for hit in hits if hit["published"])
    assert "Searched articles published last week (26 October 2026 to 4 November 2026)." in result.stderr

    # Asked on 22 October, last week is 12-22 October: the cut of the 29th had not happened.
    earlier = CliRunner().invoke(main, [*home, "search", query, "--as-of", "2026-10-22", "--json"])
    assert "weeks:lm-rates-cut" not in {hit["article_id"] for hit in json.loads(earlier.stdout)}

    bad = CliRunner().invoke(main, [*home, "search", query, "--as-of", "last Tuesday"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_citeqa_eval_as_of_asks_the_questions_without_a_day_of_their_own_on_it(tmp_path) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    dataset = tmp_path / "rates"
    dataset.mkdir()
    wanted = ("weeks:lm-rates-hold", "weeks:lm-rates-cut", "weeks:nw-mayor-result")
    with (NEWS_WEEKS_DATASET / "articles.jsonl").open(encoding="utf-8") as source:
        articles = [line for line in source if json.loads(line)["id"] in wanted]
    (dataset / "articles.jsonl").write_text("".join(articles), encoding="utf-8")
    question = {
        "question": "What did the National Bank do with interest rates last week?",
        "answers": ["3.25%"],
        "article_id": "weeks:lm-rates-cut",
        "answerable": True,
    }
    dated = {**question, "id": "dated", "as_of": "2026-10-13"}  # its own day: last week is 5-13 October
    lines = [json.dumps({**question, "id": "undated"}), json.dumps(dated)]
    (dataset / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def run(day: str) -> dict[str, dict]:
        out = tmp_path / f"run-{day}"
        home = ["--home", str(tmp_path / "home")]
        result = CliRunner().invoke(
            main, [*home, "eval", str(dataset), "--retrieval-only", "--as-of", day, "--out", str(out), "--fresh"]
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
        return {row["id"]: row for row in rows}

    on_the_4th, on_the_22nd = run("2026-11-04"), run("2026-10-22")
    assert on_the_4th["undated"]["article_in_passages"] is True
    assert on_the_22nd["undated"]["article_in_passages"] is False  # the cut came a week later
    assert on_the_4th["dated"]["article_in_passages"] is on_the_22nd["dated"]["article_in_passages"] is False


def test_an_eval_row_says_whether_a_dated_answer_gives_its_day_and_a_timeline_is_in_order(
    news_settings: Settings,
) -> None:
    from evals.dataset import Question
    from evals.runner import evaluate_one
    from index.dates import reader_date
    from qa.forms import question_form

    asked = "Give a timeline of the Larkhaven ferry strike."
    as_of = date(2026, 10, 20)
    question = Question(
        "ferry-timeline", asked, (), "weeks:nw-ferry-strike-called", True, category="timeline", as_of=as_of
    )
    unused = Answerer(news_settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))
    _passages, sources = unused.evidence(asked, question_form(asked), as_of=as_of)
    first, last = sources[0], sources[-1]
    assert first.passage.published < last.passage.published  # shown earliest first
    # The model's sentences copied from the sources (so the checks keep them), latest first.
    backwards = f" {last.text.rstrip('.')} [{last.number}]. {first.text.rstrip('.')} [{first.number}]."
    with FakeLLM("ok", reply=backwards, found=0.95).running() as fake:
        row = evaluate_one(answerer_with(news_settings, fake), question, retrieval_only=False)
    assert not row["abstained"], row["reason"]
    assert row["timeline_in_order"] is False
    assert row["date_stated"] is False  # the article's sentences name weekdays, not days of the month
    # In order, the first sentence on the day its article was published (the dateline shown).
    day = reader_date(first.passage.published)
    forwards = f" On {day}, {first.text.rstrip('.')} [{first.number}]. {last.text.rstrip('.')} [{last.number}]."
    with FakeLLM("ok", reply=forwards, found=0.95).running() as fake:
        row = evaluate_one(answerer_with(news_settings, fake), question, retrieval_only=False)
    assert not row["abstained"], row["reason"]
    assert row["timeline_in_order"] is True and row["date_stated"] is True, row["answer"]


def test_a_wire_story_run_by_three_outlets_takes_one_place_and_names_the_others(news_settings: Settings) -> None:
    answerer = Answerer(news_settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))
    question = "How many passengers a day cross to the islands on Islink's ferries?"
    passages, sources = answerer.evidence(question, as_of=date(2026, 10, 6))
    copies = {"weeks:nw-ferry-strike-called", "weeks:hp-ferry-strike-called", "weeks:cd-ferry-strike-called"}
    [kept] = [p for p in passages if p.article_id in copies]
    outlets = {"Northern Wire", "Harbour Post", "Coastline Daily"}
    assert kept.publisher in outlets and set(kept.copies) == outlets - {kept.publisher}
    assert len(passages) == 5 and len({s.article_id for s in sources} & copies) == 1


def test_an_answer_that_gives_one_outlets_count_gets_the_other_outlets_count_cited(news_settings: Settings) -> None:
    question = "How many paintings were stolen from the Larkhaven City Art Museum?"
    unused = Answerer(news_settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))
    _passages, sources = unused.evidence(question, as_of=date(2026, 10, 25))
    [three] = [s for s in sources if "stole three paintings" in s.text]
    with FakeLLM(
        "ok", reply=f" Three paintings were stolen from the museum [{three.number}].", found=0.95
    ).running() as fake:
        answer = answerer_with(news_settings, fake).ask(question, as_of=date(2026, 10, 25))
    assert not answer.abstained, answer.reason
    assert (
        answer.text == "Three paintings were stolen from the museum [1]. Coastline Daily reported four paintings [2]."
    )
    assert [c.article_id for c in answer.citations] == ["weeks:hp-museum-theft", "weeks:cd-museum-theft"]
    assert answer.citations[1].quote.startswith("LARKHAVEN (Coastline Daily) — Four paintings were taken")
    assert [(d.number, d.publisher, d.words) for d in answer.disagreement] == [
        (1, "Harbour Post", "three paintings"),
        (2, "Coastline Daily", "Four paintings"),
    ]
    assert "The sources disagree:</strong> Harbour Post: three paintings" in answer_html(answer, turn=1)


def test_an_updated_story_is_read_from_its_newest_version(news_settings: Settings) -> None:
    """The first report said 800 jobs, the update two weeks later 650: the index put both in one
    story, and the evidence holds the update alone."""
    answerer = Answerer(news_settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))
    question = "How many people will work at Quillon's Eastfold battery plant?"
    passages, sources = answerer.evidence(question, as_of=date(2026, 10, 25))
    versions = {"weeks:cl-quillon-plant", "weeks:cl-quillon-plant-update"}
    assert [p.article_id for p in passages if p.article_id in versions] == ["weeks:cl-quillon-plant-update"]
    assert "weeks:cl-quillon-plant" not in {s.article_id for s in sources}
