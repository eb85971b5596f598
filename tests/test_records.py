"""The store's record shapes: what goes into Chroma comes back the same, and a filter means the
same thing to Chroma's query, to the lexical index's SQL and in memory."""

from __future__ import annotations

import numpy as np
import pytest

from index.articles import Article
from index.chunking import Chunk
from index.lexical import LexicalCache, cache_folder
from index.records import ChunkFilter, ChunkMeta, StoredArticle
from index.settings import Settings
from index.store import NewArticle, Store


def _article(publisher: str = "Reuters", published: str = "2024-06") -> Article:
    return Article(id="a1", text="Body.", title="Title", location="x.txt", publisher=publisher, published=published)


def test_a_chunk_and_an_article_record_survive_the_trip_through_chroma_metadata() -> None:
    article = _article()
    record = StoredArticle.of(article, chunk_count=3, locations=("b.txt", "a.txt", "a.txt"))
    back = StoredArticle.from_chroma(article.content_hash, record.to_chroma())
    assert back == StoredArticle.of(article, chunk_count=3, locations=("a.txt", "b.txt"))
    assert (back.publisher, back.published_lo, back.published_hi) == ("Reuters", 20240601, 20240630)
    chunk = ChunkMeta(**{k: v for k, v in vars(back).items() if k in ChunkMeta.__dataclass_fields__}, start=4, end=9)
    assert ChunkMeta.from_chroma(chunk.to_chroma()) == chunk


def test_an_index_written_before_the_publisher_was_named_so_still_reads_it() -> None:
    assert (
        ChunkMeta.from_chroma({"article_hash": "h", "article_id": "a", "source": "Bloomberg"}).publisher == "Bloomberg"
    )


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (ChunkFilter(), {"reuters-june", "afp-2023", "undated"}),
        (ChunkFilter(publishers=("Reuters",)), {"reuters-june"}),
        (ChunkFilter(article_ids=("afp-2023", "undated")), {"afp-2023", "undated"}),
        (ChunkFilter(published_from=20240615), {"reuters-june"}),
        (ChunkFilter(published_to=20231231), {"afp-2023"}),
        (ChunkFilter(publishers=("AFP",), published_from=20240101), set()),
    ],
)
def test_a_filter_selects_the_same_chunks_in_chroma_and_in_memory(
    settings: Settings, where: ChunkFilter, expected: set[str]
) -> None:
    store = Store(settings)
    articles = [
        Article(id="reuters-june", text="One.", title="", location="1", publisher="Reuters", published="2024-06"),
        Article(id="afp-2023", text="Two.", title="", location="2", publisher="AFP", published="2023-03-02"),
        Article(id="undated", text="Three.", title="", location="3", publisher="AFP"),
    ]
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    store.add_articles(
        [
            NewArticle(a, [Chunk(a.content_hash, 0, a.text, 0, len(a.text))], vector[None, :], [a.location])
            for a in articles
        ]
    )
    in_chroma = {meta.article_id for _id, meta, _d in store.nearest_chunks(vector, 10, where)}
    in_memory = {chunk.meta.article_id for chunk in store.all_chunks() if where.accepts(chunk.meta)}
    lexical = LexicalCache(store, cache_folder(store)).refresh()
    in_sql = {meta.article_id for _id, meta, _score in lexical.top("one two three", 10, where)}
    assert in_chroma == in_memory == in_sql == expected
    assert lexical.matching(where) == (len(expected), 3)


def test_settings_come_in_groups_that_say_what_they_are_for(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("CITEQA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("CITEQA_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("CITEQA_AUTH", "reader:pw")
    settings = Settings.from_env()
    assert settings.store.home == tmp_path / "data"
    assert (settings.llm.chat_model, settings.llm.base_url) == ("qwen2.5:7b", "http://127.0.0.1:11434/v1")
    assert settings.web.auth == (("reader", "pw"),)
    changed = settings.with_llm(chat_model="other").with_store(collection="news")
    assert (changed.llm.chat_model, changed.store.collection, changed.store.home) == (
        "other",
        "news",
        tmp_path / "data",
    )
    assert settings.llm.chat_model == "qwen2.5:7b"  # a new Settings; the old one is unchanged
