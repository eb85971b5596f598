"""A second chance: a reply the checks reject is not the end when the other sources hold the answer
(real Chroma and embedder over fictional news, model replies from a fake endpoint over HTTP)."""

from __future__ import annotations

import json

import pytest

from evals.suite import SEED_DATASET
from index.pipeline import Indexer
from index.settings import Settings
from qa.answers import Answerer, Status
from qa.llm import LLM
from tests.fake_llm import FakeLLM

NEWS_LONG = SEED_DATASET.parent / "news-long"
QUESTION = (
    "The president of Qadira announced in a televised address that a drone strike had killed the "
    "country's most wanted man. Which group did that man lead?"
)


@pytest.fixture(scope="module")
def drone_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("drones")
    wanted = {"long:haddad-strike", "long:red-hand-strike", "long:haddad-successor"}
    articles = [line for line in (NEWS_LONG / "articles.jsonl").open() if json.loads(line)["id"] in wanted]
    (folder / "drones.jsonl").write_text("".join(articles))
    settings = Settings().with_store(home=folder / "home")
    Indexer(settings).index_paths([folder / "drones.jsonl"])
    return settings


def ask(settings: Settings, replies: list[str], found: float = 0.95) -> tuple[object, FakeLLM, list[str]]:
    with FakeLLM("ok", reply=replies, found=found).running() as fake:
        configured = settings.with_llm(base_url=fake.base_url, chat_model="fake", timeout_s=5)
        events = list(Answerer(configured, llm=LLM(configured)).stream(QUESTION))
    statuses = [e.text for e in events if isinstance(e, Status)]
    return events[-1].answer, fake, statuses


def answer_prompts(fake: FakeLLM) -> list[str]:
    """The sources part of each answer prompt the model was sent, in order."""
    prompts = [r for r in fake.requests if r.get("stream")]
    return [next(m["content"] for m in p["messages"] if m["role"] == "user") for p in prompts]


def test_a_wrong_name_is_left_out_and_the_second_reading_answers_from_the_source_that_holds_the_answer(
    drone_settings: Settings,
) -> None:
    # The first reply names the man of the other strike; the sentence naming him is left out.
    first = "The most wanted man was Karim Zayed [1]."
    answer, fake, statuses = ask(drone_settings, [first, "He led Blue Crescent [2]."])
    assert not answer.abstained
    assert "Blue Crescent" in answer.text and answer.first_reply.strip() == first
    assert any("Blue Crescent" in c.quote for c in answer.citations)
    first_prompt, second_prompt = answer_prompts(fake)
    assert "Karim Zayed" in first_prompt and "Karim Zayed" not in second_prompt
    assert any("reading the other sources again" in s for s in statuses)


def test_an_echo_of_the_question_is_read_again_without_the_source_it_copied(drone_settings: Settings) -> None:
    answer, fake, _statuses = ask(
        drone_settings, ["A drone strike killed the most wanted man [1].", "Blue Crescent [1]."]
    )
    assert not answer.abstained and "Blue Crescent" in answer.text
    first_prompt, second_prompt = answer_prompts(fake)
    assert second_prompt.count("\n[") == first_prompt.count("\n[") - 1


def test_a_second_reply_that_fails_its_checks_too_is_declined_for_the_first_replys_fault(
    drone_settings: Settings,
) -> None:
    answer, fake, _statuses = ask(
        drone_settings, ["The most wanted man was Karim Zayed [1].", "He led the Red Hand [1]."]
    )
    # Declined for what the checks found in the first reply, not as if the model had declined.
    assert answer.abstained and answer.reason == "the answer's claims are not about what was asked"
    assert answer.first_reply == "" and len(answer_prompts(fake)) == 2


def test_a_reply_the_model_declined_itself_is_not_read_again(drone_settings: Settings) -> None:
    answer, fake, _statuses = ask(drone_settings, ["NOT IN SOURCES"])
    assert answer.abstained and answer.reason == "the sources do not hold the answer"
    assert len(answer_prompts(fake)) == 1
