"""The answer sentence of a long article reaches the model even when the passages retrieval found are
the article's retelling (real embedder, and real Chroma for the retriever; no model is asked).

A news-quiz question retells the story ("a wind farm off the coast came online this week") and then
asks for a detail that the article gives paragraphs later. Retrieval matches the retelling, so the
chunk holding the detail is often not among the passages; the evidence step reads the rest of the
retrieved articles too (issue 25)."""

from __future__ import annotations

import json

import pytest

from index.embeddings import shared_embedder
from index.pipeline import Indexer
from index.settings import Settings
from qa.answers import Answerer
from qa.evidence import select_sources
from qa.forms import Form
from qa.passages import Passage

LONG_ARTICLE = "\n\n".join(
    [
        "GREYHAVEN, March 3 (Coastline Daily) - The Marlow Bank offshore wind farm began sending power to the "
        "grid on Tuesday, the largest wind project off the Greyhaven coast and the first built by the "
        "state-owned utility Nordvik Energi.",
        "The 62 turbines stand about 30 km offshore on a sandbank that fishermen have long avoided in winter "
        "storms. Together they can power about 410,000 homes, the utility said.",
        "Nordvik Energi's chief executive, Lise Aune, said the farm had been finished five months early and "
        "slightly under its budget of 2.1 billion euros, after a mild winter let crews work without long pauses.",
        "Construction began in 2023 with the laying of cables to a converter station near the fishing town of "
        "Skerby, where about 140 people now work on the farm's maintenance.",
        "Fishermen's groups, who had opposed the project, said catches of cod near the site had not fallen so far. "
        "Their chairman, Rune Dahl, said they would keep counting for another three years.",
        "Bird watchers on the coast have reported gannets feeding close to the foundations, which act as "
        "artificial reefs.",
        "The blades, each 108 metres long, were cast at a factory in Korsholm and brought out on two barges "
        "over the summer.",
        "The utility plans to sell part of the farm's output to two aluminium smelters under contracts of 15 "
        "years, which it says will keep prices for households steady.",
        "Greyhaven's harbour, which served as the base for the installation ships, handled more than 300 "
        "extra vessel calls during the building work, the port authority said.",
        "Local councillors asked the utility to put part of its profits into a fund for the coastal villages; "
        "Aune said a decision would be made by the end of the year.",
        "A second phase, with 40 more turbines on the northern edge of the sandbank, is awaiting a permit and "
        "could be built from 2028 if the ministry agrees.",
    ]
)

OTHER_ARTICLES = [
    (
        "greyhaven-solar",
        "GREYHAVEN, Feb 10 (Coastline Daily) - A solar park on the old airfield outside Greyhaven began "
        "sending power to the grid on Monday, the town's first large solar project.",
    ),
    (
        "westport-wind",
        "WESTPORT, Jan 22 (Harbour Post) - A wind farm off the Westport coast began producing power on "
        "Thursday, its owner said, the region's first offshore project.",
    ),
    (
        "greyhaven-grid",
        "GREYHAVEN, March 1 (Coastline Daily) - The grid operator said new offshore wind farms off the "
        "Greyhaven coast would need a second cable to the mainland by 2030.",
    ),
    (
        "greyhaven-second-farm",
        "GREYHAVEN, March 4 (Harbour Post) - A second offshore wind farm off the Greyhaven coast, planned by "
        "a state-owned utility, will come online ahead of schedule next year, the energy ministry said.",
    ),
    (
        "skerby-jobs",
        "SKERBY, March 5 (Coastline Daily) - The offshore wind farm that came online off the Greyhaven coast "
        "this week has brought jobs back to Skerby, where the utility runs its maintenance base.",
    ),
    (
        "greyhaven-ministry",
        "GREYHAVEN, March 3 (Market Wire) - The energy ministry welcomed the state-owned utility's offshore "
        "wind farm off the Greyhaven coast, which came online months ahead of schedule this week.",
    ),
    (
        "greyhaven-prices",
        "GREYHAVEN, March 6 (Harbour Post) - Power prices on the Greyhaven coast fell this week after a big "
        "offshore wind farm of a state-owned utility came online ahead of schedule.",
    ),
    (
        "nordvik-results",
        "OSLOVIK, Feb 28 (Market Wire) - State-owned utility Nordvik Energi said its profit rose 8% last "
        "year as its first offshore wind farm neared completion.",
    ),
]

QUESTION = (
    "A state-owned utility's big offshore wind farm off the Greyhaven coast came online months ahead of "
    "schedule this week. Where were its blades made?"
)
ANSWER_SENTENCE = "were cast at a factory in Korsholm"


def passage(article_id: str, text: str, rank: int, start: int = 0, end: int | None = None) -> Passage:
    end = len(text) if end is None else end
    return Passage(text[start:end], article_id, article_id, "", "", "", "", start, end, rank, 1.0)


def test_the_answer_sentence_outside_the_retrieved_passages_reaches_the_model() -> None:
    # Retrieval found the article's first paragraphs (its retelling) and three short look-alikes.
    lede_end = LONG_ARTICLE.index("Construction began")
    others = [passage(id_, text, rank) for rank, (id_, text) in enumerate(OTHER_ARTICLES[2:5], 2)]
    passages = [passage("marlow-bank", LONG_ARTICLE, 1, 0, lede_end), *others]
    articles = [passage("marlow-bank", LONG_ARTICLE, 1), *others]
    embedder = shared_embedder()
    assert not any(ANSWER_SENTENCE in s.text for s in select_sources(QUESTION, passages, embedder))
    sources = select_sources(QUESTION, passages, embedder, articles=articles)
    [answering] = [s for s in sources if ANSWER_SENTENCE in s.text]
    # Cited in its article: the span is the article's, and it is shown within its paragraph.
    assert LONG_ARTICLE[answering.start : answering.end] == answering.text
    paragraph = next(p for p in LONG_ARTICLE.split("\n\n") if ANSWER_SENTENCE in p)
    assert answering.passage.text == paragraph
    assert LONG_ARTICLE[answering.passage.start : answering.passage.end] == paragraph


def test_a_summary_is_still_made_from_the_passages_alone() -> None:
    lede_end = LONG_ARTICLE.index("Construction began")
    passages = [passage("marlow-bank", LONG_ARTICLE, 1, 0, lede_end)]
    articles = [passage("marlow-bank", LONG_ARTICLE, 1)]
    sources = select_sources(
        "Summarize the news about the wind farm.", passages, shared_embedder(), Form.SYNTHESIS, articles
    )
    assert sources and all(s.end <= lede_end for s in sources)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    folder = tmp_path_factory.mktemp("whole")
    records = [{"id": "marlow-bank", "title": "Marlow Bank wind farm comes online", "text": LONG_ARTICLE}]
    records += [{"id": id_, "title": id_, "text": text} for id_, text in OTHER_ARTICLES]
    (folder / "wind.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    settings = Settings().with_store(home=folder / "home")
    Indexer(settings).index_paths([folder / "wind.jsonl"])
    return Answerer(settings.with_llm(base_url="http://127.0.0.1:9/v1", chat_model="unused"))


def test_the_retrieved_articles_are_read_whole_once_each_at_their_best_rank(answerer: Answerer) -> None:
    # Six passages: the short look-alikes share more of the question's words, and Tantivy's BM25
    # (Lucene's idf, issue 29) puts the Marlow Bank article fifth here, FTS5's fourth.
    passages = answerer.retriever.search(QUESTION, k=6)
    whole = answerer.retriever.whole_articles(passages)
    assert [a.article_id for a in whole] == list(dict.fromkeys(p.article_id for p in passages))
    for article in whole:
        best = min(p.rank for p in passages if p.article_id == article.article_id)
        assert article.rank == best and article.start == 0 and article.end == len(article.text)
    assert next(a for a in whole if a.article_id == "marlow-bank").text == LONG_ARTICLE


def test_every_source_the_model_is_shown_lies_in_a_retrieved_article(answerer: Answerer) -> None:
    passages, sources = answerer.evidence(QUESTION)
    retrieved = {p.article_id for p in passages}
    for source in sources:
        assert source.article_id in retrieved
        assert source.passage.text[source.start - source.passage.start : source.end - source.passage.start] == (
            source.text
        )
