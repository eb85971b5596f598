"""The failures readers met, replayed on recorded model replies: a wrong entity with a citation
that looked checked, an echo of the question kept as an answer, a summary declined, and the answer
sentence left out of the evidence. Each must now come out right (or honestly abstain)."""

from __future__ import annotations

import json

import pytest

from evals.suite import SEED_DATASET
from index.embeddings import MiniLMEmbedder
from index.pipeline import Indexer
from index.settings import Settings
from qa.answers import Answerer, Done, Retrieved, Status, Token
from qa.citations import Check, Verifier, gives_the_asked_quantity, support
from qa.evidence import Source, select_sources
from qa.forms import Form, question_form
from qa.llm import LLM
from qa.passages import Passage
from tests.conftest import SEED_FILE, SEEDS
from tests.fake_llm import FakeLLM

SEED = SEED_FILE.read_text(encoding="utf-8")
NEWS_LONG = SEED_DATASET.parent / "news-long"
verifier = Verifier()


def seed_sources(*sentences: str) -> list[Source]:
    """Numbered sources cut from the seed article, as the evidence step would."""
    passage = Passage(SEED, "seed.txt", "h", "Title", "Bloomberg", "2024", "", 0, len(SEED), 1, 1.0)
    out = []
    for number, sentence in enumerate(sentences, 1):
        start = SEED.index(sentence)
        out.append(Source(number, sentence, start, start + len(sentence), passage, 1.0))
    return out


def text_sources(text: str) -> list[Source]:
    passage = Passage(text, "other.txt", "h", "Title", "", "", "", 0, len(text), 1, 1.0)
    return [Source(1, text, 0, len(text), passage, 1.0)]


XI_SENTENCE = (
    "Zhao will be the highest-ranking official to visit the North Korean capital since President Xi Jinping "
    "went in June 2019 and told leader Kim Jong Un the world wanted him to make progress in nuclear talks."
)
ZHAO_SENTENCE = "Zhao Leji, China’s No. 3 official, will head the delegation"
SATURDAY_SENTENCE = "The delegation will be in North Korea until Saturday, China’s Foreign Ministry said."


# ---- wrong entities ---------------------------------------------------------------------


def test_a_person_the_cited_sentence_does_not_name_is_not_supported() -> None:
    # Recorded: the follow-up "And when did he go there?" was answered with Xi Jinping's visit.
    verdict = verifier.verify(
        "Zhao Leji went to North Korea in June 2019 [1].",
        "When did Zhao Leji go to North Korea?",
        seed_sources(XI_SENTENCE),
    )
    assert verdict.sentences[0].state is Check.UNSUPPORTED
    assert verdict.abstain


def test_the_person_the_cited_sentence_does_name_is_supported() -> None:
    verdict = verifier.verify(
        "Xi Jinping went to North Korea in June 2019 [1].",
        "When did Xi Jinping visit North Korea?",
        seed_sources(XI_SENTENCE),
    )
    assert verdict.sentences[0].state is Check.VERIFIED
    assert not verdict.abstain


def test_a_name_from_the_question_may_come_from_the_sentence_that_introduces_the_cited_one() -> None:
    # "The Russian delegation was led by Sergei Shoigu": the sentence before it says the
    # delegations went "to Pyongyang in July last year".
    sentence = "The Russian delegation was led by Defense Minister Sergei Shoigu"
    verdict = verifier.verify(
        "Sergei Shoigu led the Russian delegation to Pyongyang in July last year [1].",
        "Who led the Russian delegation to Pyongyang in July last year?",
        seed_sources(sentence),
    )
    assert verdict.sentences[0].state is Check.VERIFIED


def test_a_who_question_is_not_answered_by_the_person_it_names() -> None:
    sentence = "The Russian delegation was led by Defense Minister Sergei Shoigu"
    question = "Who guided Shoigu's tour of the weapons display?"
    wrong = verifier.verify(
        "Sergei Shoigu guided the tour of the weapons display [1].", question, seed_sources(sentence)
    )
    assert wrong.sentences[0].state is Check.UNSUPPORTED


@pytest.mark.parametrize(
    ("question", "reply", "source"),
    [
        (
            "Which body enforces the Charter of Fundamental Rights?",
            "The European Council enforces the Charter [1].",
            "The Charter of Fundamental Rights is enforced by the European Court of Justice.",
        ),
        (
            "Which fort did the French build at the Forks of the Ohio?",
            "The French built Fort Coligny at the Forks of the Ohio [1].",
            "The French built Fort Duquesne at the Forks of the Ohio in 1754.",
        ),
    ],
)
def test_an_organisation_or_place_swapped_for_a_near_namesake_is_not_supported(
    question: str, reply: str, source: str
) -> None:
    verdict = verifier.verify(reply, question, text_sources(source))
    assert verdict.sentences[0].state is Check.UNSUPPORTED


# ---- echoes ---------------------------------------------------------------------------


def test_an_echo_of_the_question_is_not_an_answer() -> None:
    question = "Case complexities provide three likelihoods of what differing variable?"
    source = "Case complexities provide three likelihoods of what differing variable: best, worst and average case."
    verdict = verifier.verify(
        "Case complexities provide three likelihoods of what differing variable [1].", question, text_sources(source)
    )
    assert verdict.sentences[0].state is Check.UNSUPPORTED
    assert verdict.abstain
    answered = verifier.verify("The variable is the case: best, worst and average [1].", question, text_sources(source))
    assert not answered.abstain


# ---- what the question gave needs no support (news-quiz questions) ----------------------


def news_sources(*sentences: str, article: str = "news:otters") -> list[Source]:
    """Numbered sources, each a sentence of one article (the article is the sentences in order)."""
    text = " ".join(sentences)
    passage = Passage(text, article, "h", "Title", "Harbour Post", "2029-05-06", "", 0, len(text), 1, 1.0)
    return [
        Source(n, sentence, text.index(sentence), text.index(sentence) + len(sentence), passage, 1.0)
        for n, sentence in enumerate(sentences, 1)
    ]


OTTERS_WIN = (
    "The Millbrook Otters beat the Dunmore Hawks 3-2 after extra time on Saturday to take the club's first "
    "trophy since 2011."
)
OTTERS_SEASON = "The Otters end the 2029 Northern Shield campaign unbeaten in nine away games."


def test_the_year_and_competition_of_the_question_need_not_be_in_the_sentence_that_names_the_winner() -> None:
    verdict = verifier.verify(
        "The Millbrook Otters lifted the 2029 Northern Shield trophy [1].",
        "Which club lifted the 2029 Northern Shield trophy?",
        news_sources(OTTERS_WIN, OTTERS_SEASON),
    )
    assert verdict.sentences[0].state is Check.VERIFIED and not verdict.abstain


def test_a_winner_from_a_story_that_is_not_about_the_asked_competition_is_withheld() -> None:
    verdict = verifier.verify(
        "The Millbrook Otters lifted the 2029 Northern Shield trophy [1].",
        "Which club lifted the 2029 Northern Shield trophy?",
        news_sources(OTTERS_WIN, "The Otters play in the Eastern Cup again next season."),
    )
    assert verdict.abstain


def test_a_when_answer_still_needs_its_person_in_the_cited_sentence_whatever_else_the_article_says() -> None:
    # The article names Zhao Leji elsewhere, but the date belongs to Xi Jinping's visit: only a
    # question that asks for a thing lets the rest of the article carry the question's names.
    claim = "Zhao Leji went to North Korea in June 2019."
    assert support(claim, "When did Zhao Leji go to North Korea?", XI_SENTENCE, article=ZHAO_SENTENCE) == 0.0
    assert support(claim, "When did Zhao Leji go to North Korea?", XI_SENTENCE + " " + ZHAO_SENTENCE) > 0.5


@pytest.mark.parametrize(
    ("question", "reply", "source"),
    [
        (
            "Governor Ibarra named Camp Sorrel, a WWII-era airfield, as a protected heritage site this week. "
            "Where is the site?",
            "Camp Sorrel is in Nevada [1].",
            "Governor Nina Ibarra began a three-day tour on Tuesday by flying to Camp Sorrel in Nevada to "
            "declare a World War II airfield a heritage site.",
        ),
        (
            "Police in the Pacific Northwest arrested 27 men this week believed to belong to Grey Wolves, who "
            "allegedly planned to riot at a street fair. Where was the event?",
            "The event was at a local street fair in Twin Falls, Idaho. [1]",
            "Police in Idaho arrested 27 men believed to be affiliated with the group Grey Wolves who allegedly "
            "had plans to riot at a local street fair Saturday in Twin Falls.",
        ),
    ],
)
def test_a_long_question_is_about_what_its_last_sentence_asks(question: str, reply: str, source: str) -> None:
    # The scene retells the story in the asker's words ("WWII-era", "the Pacific Northwest"): the
    # answer is about the question when the source speaks of what the last sentence asks.
    verdict = verifier.verify(reply, question, news_sources(source))
    assert verdict.sentences[0].state is Check.VERIFIED
    assert not verdict.off_question and not verdict.abstain


def test_a_scene_the_sources_do_not_tell_is_another_story() -> None:
    verdict = verifier.verify(
        "The event was at a local street fair in Twin Falls, Idaho [1].",
        "Police in Ontario arrested 27 men this week believed to belong to the Black Crows, who allegedly "
        "planned to riot at a street fair in Kingston. Where was the event?",
        news_sources(
            "Police in Idaho arrested 27 men believed to be affiliated with the group Grey Wolves who allegedly "
            "had plans to riot at a local street fair Saturday in Twin Falls."
        ),
    )
    assert verdict.off_question and verdict.abstain


@pytest.mark.parametrize(
    ("question", "answer", "given"),
    [
        ("When the bank cut rates, how fast were prices rising?", "Prices were rising faster than expected.", False),
        ("When the bank cut rates, how fast were prices rising?", "Prices rose 2.3% in the year to May.", True),
        ("How far from the Yard is the Quad?", "The Quad is half a mile northwest of the Yard.", True),
        ("By how much did the profit fall?", "Profit fell sharply.", False),
        ("Who raised the alarm?", "A port clerk raised the alarm.", True),
    ],
)
def test_a_question_for_a_quantity_is_answered_by_one(question: str, answer: str, given: bool) -> None:
    assert gives_the_asked_quantity(question, answer) is given


def test_a_figure_with_a_thousands_separator_taken_from_the_question_is_found_in_the_source() -> None:
    # Recorded on news-long: the right reply was declined because "100,000" of the question was
    # looked for among the source's words ("100", "000") rather than its numbers.
    verdict = verifier.verify(
        "Clinics counted 37 cases of measles per 100,000 children in March [1].",
        "Measles is back in the valley's schools. How many cases per 100,000 children did clinics count in March?",
        text_sources("Clinics counted 37 cases of measles per 100,000 children in March, the health office said."),
    )
    assert verdict.sentences[0].state is Check.VERIFIED
    assert not verdict.abstain


# ---- several sources for one sentence ----------------------------------------------------


def test_a_sentence_built_from_two_cited_sources_is_verified_by_both() -> None:
    verdict = verifier.verify(
        "Zhao Leji will head the delegation, which stays in North Korea until Saturday [1][2].",
        "Who leads the delegation and how long will it stay?",
        seed_sources(ZHAO_SENTENCE, SATURDAY_SENTENCE),
    )
    [sentence] = verdict.sentences
    assert (sentence.state, sentence.sources) == (Check.VERIFIED, (1, 2))


# ---- the evidence the model sees ----------------------------------------------------------


def test_a_long_question_is_shown_the_sentence_that_answers_its_ask_not_only_those_that_retell_its_scene() -> None:
    # A news-quiz question retells the story, then asks. Scored as a whole, the sentences that
    # retell the recall (the lede, the complaints, the earnings report) filled the budget and "the
    # fix will be sent over the air" was left out.
    articles = {a["id"]: a for a in map(json.loads, (NEWS_LONG / "articles.jsonl").open())}
    passages = [
        Passage(a["text"], a["id"], "h", a["title"], a["source"], a["published"], "", 0, len(a["text"]), rank, 1.0)
        for rank, a in enumerate(
            (articles[i] for i in ("long:kessler-recall", "long:kessler-earnings", "long:ardent-recall")), 1
        )
    ]
    question = (
        "Owners of cars hit by the phantom braking recall were told they would not need to book a garage "
        "appointment. How will most of them get the repair?"
    )
    sources = select_sources(question, passages, MiniLMEmbedder())
    assert any("sent over the air" in s.text for s in sources)


@pytest.fixture(scope="module")
def seed_answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    settings = Settings().with_store(home=tmp_path_factory.mktemp("quality") / "home")
    Indexer(settings).index_paths([SEEDS])
    return Answerer(settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))


@pytest.mark.parametrize(
    ("question", "needed"),
    [
        # The 110-token budget left this answer out; the README's example met Shoigu instead of Zhao.
        ("Where were the North Korean arms said to end up?", "munitions dumps near the border with Ukraine"),
        ("Who leads the delegation?", "Zhao Leji, China’s No. 3 official, will head the delegation"),
    ],
)
def test_the_answer_sentence_reaches_the_model(seed_answerer: Answerer, question: str, needed: str) -> None:
    _passages, sources = seed_answerer.evidence(question)
    assert any(needed in s.text for s in sources), [s.text for s in sources]


def test_credit_lines_and_copyright_notices_are_never_evidence(seed_answerer: Answerer) -> None:
    for question in ("Who leads the delegation?", "Who helped write the article?", "Summarize the article."):
        _passages, sources = seed_answerer.evidence(question, question_form(question))
        assert not any(s.text.startswith(("--With assistance", "©")) for s in sources)


def test_a_summary_is_shown_more_evidence_starting_from_the_lede(seed_answerer: Answerer) -> None:
    question = "Summarize the article in three points."
    passages, fact = seed_answerer.evidence(question, Form.FACT)
    synthesis = select_sources(question, passages, seed_answerer.retriever.embedder, Form.SYNTHESIS)
    assert len(synthesis) > len(fact)
    assert synthesis[0].start == 0  # the lede: "China is sending its highest-level delegation..."
    assert [s.start for s in synthesis] == sorted(s.start for s in synthesis)  # article order


# ---- the form of the answer -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("Summarize the article in three points.", Form.SYNTHESIS),
        ("Why is China sending the delegation now?", Form.SYNTHESIS),
        ("List the officials named in the article.", Form.SYNTHESIS),
        ("Give a timeline of the visits to Pyongyang.", Form.SYNTHESIS),
        ("Compare the Russian and Chinese delegations.", Form.SYNTHESIS),
        ("Who leads the delegation?", Form.FACT),
        ("How did the Korean Central News Agency describe the visit?", Form.FACT),
        ("How many members does the Politburo have?", Form.FACT),
    ],
)
def test_the_question_decides_the_form_of_the_answer(question: str, form: Form) -> None:
    assert question_form(question) is form


def answerer_with(settings: Settings, fake: FakeLLM) -> Answerer:
    configured = settings.with_llm(base_url=fake.base_url, chat_model="fake", timeout_s=5)
    return Answerer(configured, llm=LLM(configured))


SUMMARY_REPLY = (
    " China is sending its highest-level delegation to North Korea in nearly five years [1]. "
    "Zhao Leji, China's No. 3 official, will head the delegation [2]. "
    "China has been North Korea's biggest benefactor for years, providing a lifeline [5]."
)


def test_a_sentence_the_model_writes_twice_is_kept_once(seed_answerer: Answerer) -> None:
    twice = " Zhao Leji, China's No. 3 official, will head the delegation [2]."
    reply = SUMMARY_REPLY + twice + twice.replace("[2]", "[3]")
    with FakeLLM("ok", reply=reply, found=0.97).running() as fake:
        answer = answerer_with(seed_answerer.settings, fake).ask("Summarize the article in three points.")
    assert not answer.abstained, answer.reason
    assert [s.text.count("Zhao Leji") for s in answer.sentences] == [0, 1, 0]
    assert answer.text.count("Zhao Leji") == 1


def test_a_summary_is_answered_in_several_cited_sentences(seed_answerer: Answerer) -> None:
    settings = seed_answerer.settings
    with FakeLLM("ok", reply=SUMMARY_REPLY, found=0.97).running() as fake:
        answer = answerer_with(settings, fake).ask("Summarize the article in three points.")
        [request] = [r for r in fake.requests if r.get("stream")]
    assert not answer.abstained, answer.reason
    assert answer.form is Form.SYNTHESIS
    assert len(answer.sentences) == 3
    assert all(sentence.citations for sentence in answer.sentences)
    assert request["max_tokens"] >= 2 * 80  # room for several sentences, a factoid gets 80
    assert "two to 5 short sentences" in request["messages"][0]["content"]
    for citation in answer.citations:
        assert SEED[citation.start : citation.end] == citation.quote


def test_a_factoid_answer_stays_one_short_sentence(seed_answerer: Answerer) -> None:
    with FakeLLM("ok", reply=" Zhao Leji will head the delegation [1].", found=0.95).running() as fake:
        answer = answerer_with(seed_answerer.settings, fake).ask("Who leads the delegation?")
        [request] = [r for r in fake.requests if r.get("stream")]
    assert answer.text.startswith("Zhao Leji will head the delegation")
    assert request["max_tokens"] <= 100
    assert "one short sentence" in request["messages"][0]["content"]


# ---- abstention before any answer text --------------------------------------------------------


def test_a_model_unsure_that_the_sources_answer_abstains_before_writing(seed_answerer: Answerer) -> None:
    with FakeLLM("ok", reply="Kim's favourite food is kimchi [1].", found=0.08).running() as fake:
        events = list(answerer_with(seed_answerer.settings, fake).stream("What is Kim Jong Un's favourite food?"))
    events = [e for e in events if not isinstance(e, Status)]
    assert isinstance(events[0], Retrieved)
    assert not any(isinstance(e, Token) for e in events)  # no answer text was ever shown
    answer = events[-1].answer
    assert isinstance(events[-1], Done) and answer.abstained
    assert answer.found == pytest.approx(0.08)
    assert [r.get("stream") for r in fake.requests] == [None]  # only the Found step was asked
    assert fake.requests[0]["messages"][-1] == {"role": "assistant", "content": "Found:"}


def test_a_model_sure_that_the_sources_answer_goes_on_to_answer(seed_answerer: Answerer) -> None:
    with FakeLLM("ok", reply=" Zhao Leji will head the delegation [1].", found=0.9).running() as fake:
        answer = answerer_with(seed_answerer.settings, fake).ask("Who leads the delegation?")
    assert not answer.abstained and answer.found == pytest.approx(0.9)


def test_a_long_reply_keeps_at_most_five_sentences_and_drops_one_cut_off(seed_answerer: Answerer) -> None:
    question = "Summarize the article."
    _passages, sources = seed_answerer.evidence(question, Form.SYNTHESIS)
    assert len(sources) >= 7, [s.text for s in sources]
    whole = " ".join(f"{s.text} [{s.number}]" for s in sources[:6])
    cut_off = " ".join(sources[6].text.split()[:6])  # the token limit stopped the reply here
    with FakeLLM("ok", reply=f" {whole} {cut_off}", found=0.95).running() as fake:
        answer = answerer_with(seed_answerer.settings, fake).ask(question)
    assert not answer.abstained, answer.reason
    assert len(answer.sentences) == 5
    assert cut_off not in answer.text
