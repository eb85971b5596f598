"""The answer pipeline around the model, with a real HTTP endpoint that replies what we tell it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.pipeline import Indexer
from index.settings import Settings
from qa.answers import NOT_IN_ARTICLES, Answerer, Done, Retrieved, Status, Token
from qa.citations import Check
from qa.llm import LLM, LLMUnavailable
from tests.fake_llm import FakeLLM


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from tests.conftest import SEEDS

    settings = Settings().with_store(home=tmp_path_factory.mktemp("answers") / "home")
    Indexer(settings).index_paths([SEEDS])
    return settings


def answerer_for(settings: Settings, fake: FakeLLM) -> Answerer:
    configured = settings.with_llm(base_url=fake.base_url, chat_model="fake", timeout_s=5)
    return Answerer(configured, llm=LLM(configured))


def test_sources_come_before_the_first_token_and_the_checked_answer_last(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].").running() as fake:
        everything = list(answerer_for(seed_settings, fake).stream("Who will head the delegation?"))
    progress = [e.text for e in everything if isinstance(e, Status)]
    assert progress == [
        "Searching the articles…",
        "Reading 4 sources from 1 article…",
        "Writing the answer…",
        "Checking every sentence against its source…",
    ]
    events = [e for e in everything if not isinstance(e, Status)]
    assert isinstance(events[0], Retrieved)
    assert events[0].sources and events[0].passages
    assert any(isinstance(e, Token) for e in events)
    assert isinstance(events[-1], Done)
    answer = events[-1].answer
    assert not answer.abstained
    assert "Zhao Leji" in answer.text
    [citation] = answer.citations
    seed = (Path(__file__).parent.parent / "seeds" / "000_9e985366f0c5a270.txt").read_text(encoding="utf-8")
    assert seed[citation.start : citation.end] == citation.quote
    assert "Zhao Leji" in citation.quote
    assert answer.sentences[0].state in (Check.VERIFIED, Check.REATTRIBUTED)
    assert set(answer.timings) == {"retrieval_s", "first_token_s", "total_s"}


def test_a_citation_lies_in_one_of_the_answers_passages_and_its_json_names_that_passage(
    seed_settings: Settings,
) -> None:
    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].").running() as fake:
        answer = answerer_for(seed_settings, fake).ask("Who will head the delegation?")
    [citation] = answer.citations
    assert citation.passage in answer.passages
    assert citation.passage.start <= citation.start < citation.end <= citation.passage.end
    assert (citation.article_id, citation.publisher) == (citation.passage.article_id, "Bloomberg")
    [as_json] = answer.to_dict()["citations"]
    assert as_json["passage"] == citation.passage.rank
    assert answer.to_dict()["passages"][citation.passage.rank - 1]["start"] == citation.passage.start
    assert (as_json["article_id"], as_json["publisher"], as_json["quote"]) == (
        citation.article_id,
        "Bloomberg",
        citation.quote,
    )


def test_the_prompt_is_short_and_its_fixed_part_comes_first(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="Saturday [1].").running() as fake:
        answerer_for(seed_settings, fake).ask("Until when will the delegation stay?")
        answerer_for(seed_settings, fake).ask("Who is Mao Ning?")
    first, second = (r["messages"] for r in fake.requests if r.get("stream"))
    assert first[0] == second[0]  # identical system prompt: the server can reuse its cache
    assert first[-1] == {"role": "assistant", "content": "Found: Yes\nAnswer:"}  # the answer continues the reply
    # A question about time ("until when") gets its article's publisher and date above its sources;
    # one that is not gets the sources alone.
    assert first[1]["content"].startswith("Sources:\nBloomberg, 2024:\n[1] ")
    assert second[1]["content"].startswith("Sources:\n[1] ")
    assert len(first[1]["content"]) < 1200  # sentences that matter, not whole chunks


def test_an_invented_answer_becomes_an_abstention_with_the_closest_passages(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="Kim Jong Un's favourite food is kimchi [2].").running() as fake:
        answer = answerer_for(seed_settings, fake).ask("What is Kim Jong Un's favourite food?")
    assert answer.abstained
    assert answer.text == NOT_IN_ARTICLES
    assert answer.passages
    assert answer.dropped == ["Kim Jong Un's favourite food is kimchi."]


def test_a_model_that_declines_is_an_abstention(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="NOT IN SOURCES").running() as fake:
        answer = answerer_for(seed_settings, fake).ask("How many tourists visit Pyongyang?")
    assert answer.abstained and "do not hold the answer" in answer.reason


def test_an_endpoint_without_log_probabilities_still_answers_and_its_reply_alone_is_checked(
    seed_settings: Settings,
) -> None:
    """The fake endpoint reports no log probabilities (``found=None``), as many hosted ones do:
    the Found step gives no signal, so the reply is always written and the checks decide."""
    from click.testing import CliRunner

    from qa.endpoint import ABSTAIN_WITHOUT_LOGPROBS, ChatModel
    from ui.cli import main

    with FakeLLM(
        "ok", reply=["Zhao Leji will head the delegation [1].", "Pyongyang has 9 million tourists [1]."]
    ).running() as fake:
        answerer = answerer_for(seed_settings, fake)
        assert isinstance(answerer.llm, ChatModel)
        answer = answerer.ask("Who leads the Chinese delegation?")
        invented = answerer.ask("How many tourists visit Pyongyang?")
        home, url = str(seed_settings.store.home), fake.base_url
        doctor = CliRunner().invoke(main, ["--home", home, "doctor"], env={"OPENAI_BASE_URL": url, "CITEQA_MODEL": "f"})
    assert not answer.abstained and "Zhao Leji" in answer.text
    assert answer.found is None and answer.confidence is None  # no signal, no "unsure" check
    assert invented.abstained and invented.dropped, "a reply the sources do not hold is still declined"
    assert f"abstention: {ABSTAIN_WITHOUT_LOGPROBS}" in doctor.output, doctor.output


def test_with_log_probabilities_an_unsure_found_step_declines_before_any_reply(seed_settings: Settings) -> None:
    from qa.endpoint import ABSTAIN_WITH_LOGPROBS, abstention_rule

    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].", found=0.2).running() as fake:
        answer = answerer_for(seed_settings, fake).ask("Who leads the Chinese delegation?")
        streamed = fake.streamed
    assert answer.abstained and answer.found == pytest.approx(0.2) and streamed == 0
    assert abstention_rule(answer.found) == ABSTAIN_WITH_LOGPROBS


def test_a_follow_up_is_rewritten_before_retrieval(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="Until when will the Chinese delegation stay in North Korea?").running() as fake:
        answerer = answerer_for(seed_settings, fake)
        standalone = answerer.standalone("And until when?", [("Who leads the Chinese delegation?", "Zhao Leji [1].")])
    assert standalone == "Until when will the Chinese delegation stay in North Korea?"
    conversation = fake.requests[0]["messages"][1]["content"]
    assert "Who leads the Chinese delegation?" in conversation and "And until when?" in conversation


def test_a_follow_up_is_judged_once_on_the_way_to_its_answer(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a question refers back is decided once per answer (it was decided twice: once to
    say "Rewriting…", once more to rewrite)."""
    decided: list[str] = []
    judge = Answerer.needs_rewrite
    monkeypatch.setattr(Answerer, "needs_rewrite", staticmethod(lambda q, h: decided.append(q) or judge(q, h)))
    replies = ["Until when will the Chinese delegation stay in North Korea?", "Until Saturday [1]."]
    with FakeLLM("ok", reply=replies).running() as fake:
        events = list(
            answerer_for(seed_settings, fake).stream("And until when?", [("Who leads it?", "Zhao Leji [1].")])
        )
    assert any(isinstance(e, Status) and e.text.startswith("Rewriting") for e in events)
    assert decided == ["And until when?"]


def test_a_question_is_embedded_once_and_tokenised_once_on_the_way_to_its_answer(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search, the BM25 scores of the dense search's chunks and the evidence step all need the
    question's vector and terms: each is computed once (the question was embedded twice and
    tokenised four times)."""
    import bm25s

    from index.embeddings import MiniLMEmbedder

    embedded: list[str] = []
    tokenised: list[str] = []
    embed, tokenize = MiniLMEmbedder.embed, bm25s.tokenize
    monkeypatch.setattr(
        MiniLMEmbedder, "embed", lambda self, texts, *a, **k: embedded.extend(texts) or embed(self, texts, *a, **k)
    )
    monkeypatch.setattr(bm25s, "tokenize", lambda texts, *a, **k: tokenised.extend(texts) or tokenize(texts, *a, **k))
    question = "Which official heads the delegation that China is sending to North Korea?"
    with FakeLLM("ok", reply="Zhao Leji will head the delegation [1].").running() as fake:
        answer = answerer_for(seed_settings, fake).ask(question)
    assert not answer.abstained, answer.reason
    assert embedded.count(question) == 1, embedded
    assert tokenised.count(question) == 1


def test_a_self_contained_question_is_not_rewritten(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="unused").running() as fake:
        answerer = answerer_for(seed_settings, fake)
        question = "Which country vetoed the UN Security Council resolution on the panel of experts?"
        assert answerer.standalone(question, [("Who leads the delegation?", "Zhao Leji")]) == question
    assert fake.requests == []


def test_an_unreachable_model_is_a_clear_error_after_the_sources(seed_settings: Settings) -> None:
    configured = seed_settings.with_llm(base_url="http://127.0.0.1:9/v1", timeout_s=2)
    events = (e for e in Answerer(configured).stream("Who will head the delegation?") if not isinstance(e, Status))
    assert isinstance(next(events), Retrieved)
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        next(events)


def test_a_follow_up_says_it_is_being_rewritten_before_the_search(seed_settings: Settings) -> None:
    with FakeLLM("ok", reply="Until Saturday [1].").running() as fake:
        history = [("Who will head the delegation?", "Zhao Leji will head the delegation [1].")]
        events = list(answerer_for(seed_settings, fake).stream("And until when?", history))
    progress = [e.text for e in events if isinstance(e, Status)]
    assert progress[:2] == ["Rewriting the follow-up as a full question…", "Searching the articles…"]


def test_citeqa_ask_as_of_a_day_reads_last_week_from_it_and_says_what_it_searched(seed_settings: Settings) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    with FakeLLM("ok", reply="Zhao Leji [1].").running() as fake:
        result = CliRunner().invoke(
            main,
            [
                "--home",
                str(seed_settings.store.home),
                "ask",
                "Who led the delegation last week?",
                "--as-of",
                "2026-11-04",
            ],
            env={"OPENAI_BASE_URL": fake.base_url, "CITEQA_MODEL": "fake"},
        )
        streamed = [r for r in fake.requests if r.get("stream")]
    assert result.exit_code == 0, result.output
    # The seed article is from 2024: nothing of it was published in the week before 4 November 2026.
    assert "Searched articles published last week (26 October 2026 to 4 November 2026)." in result.stdout
    assert "nothing relevant was published last week" in result.stdout
    assert not streamed
    bad = CliRunner().invoke(main, ["--home", str(seed_settings.store.home), "ask", "x", "--as-of", "4 November"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_citeqa_ask_prints_progress_on_stderr_and_the_checked_answer_once(seed_settings: Settings) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    reply = "Zhao Leji will head the delegation [2]. He likes tea [1]."  # a marker to correct, a claim to drop
    with FakeLLM("ok", reply=reply).running() as fake:
        result = CliRunner().invoke(
            main,
            ["--home", str(seed_settings.store.home), "ask", "Who will head the delegation?"],
            env={"OPENAI_BASE_URL": fake.base_url, "CITEQA_MODEL": "fake"},
        )
    assert result.exit_code == 0, result.output
    assert "Reading " in result.stderr and "Checking every sentence" in result.stderr
    assert result.stdout.count("Zhao Leji will head the delegation") == 1
    assert "He likes tea" not in result.stdout.splitlines()[0]  # the raw reply is never printed as the answer


def test_ask_on_the_command_line_is_narrowed_by_publisher_and_date_and_names_a_bad_date(
    seed_settings: Settings,
) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    home = ["--home", str(seed_settings.store.home)]
    question = "Who will head the delegation?"
    with FakeLLM("ok", found=0.95, reply="Zhao Leji will head the delegation [1].").running() as fake:
        env = {"OPENAI_BASE_URL": fake.base_url, "CITEQA_MODEL": "fake"}
        elsewhere = CliRunner().invoke(main, [*home, "ask", "--publisher", "Reuters", question], env=env)
        assert elsewhere.exit_code == 0, elsewhere.output
        assert elsewhere.stdout.startswith("The articles don't say.")
        assert fake.requests == []  # nothing passed the filter: the model is not asked
        bad = CliRunner().invoke(main, [*home, "ask", "--since", "March", question], env=env)
        assert bad.exit_code == 1
        assert "'March' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD" in bad.stderr
        answered = CliRunner().invoke(
            main, [*home, "ask", "--publisher", "Bloomberg", "--since", "2024", question], env=env
        )
        assert answered.exit_code == 0, answered.output
        assert answered.stdout.startswith("Zhao Leji will head the delegation [1].")
