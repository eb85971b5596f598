"""The lexical index catches up with the store incrementally: it applies what changed, never holds
half an article, scores a given chunk as its own search does, and a search never waits for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexical import LexicalCache, LexicalIndex, cache_folder
from index.records import ChunkFilter, ChunkMeta, StoredChunk
from index.settings import Settings
from index.store import NewArticle, Store
from tests.articles import two_chunk_article


def _new(n: int, words: str) -> NewArticle:
    return two_chunk_article(n, words)


def test_a_sync_applies_only_what_changed_and_ends_equal_to_the_store(settings: Settings) -> None:
    store = Store(settings)
    store.add_articles([_new(n, "harbour cranes") for n in range(3)])
    cache = LexicalCache(store, cache_folder(store))
    first = cache.sync()
    assert (first.added_articles, first.added_chunks, first.removed_articles) == (3, 6, 0)
    store.add_articles([_new(3, "ferry timetables")])
    store.delete_article(_new(0, "harbour cranes").article.content_hash)
    second = cache.sync()
    assert (second.added_articles, second.added_chunks, second.removed_articles) == (1, 2, 1)
    assert cache.index.chunk_ids() == {chunk.id for chunk in store.all_chunks()}
    assert cache.sync().added_chunks == 0  # nothing changed: nothing done


def test_an_article_whose_chunks_are_not_all_stored_waits_for_the_next_sync(settings: Settings) -> None:
    store = Store(settings)
    item = _new(7, "tram lines")
    store.add_chunks([(item.article, item.chunks[:1], item.embeddings[:1])])
    store.commit([(item.article, 2, item.locations)])  # committed, but its second chunk is missing
    cache = LexicalCache(store, cache_folder(store))
    report = cache.sync()
    assert (report.added_articles, report.deferred_articles) == (0, 1)
    assert cache.index.chunk_ids() == set()  # never half an article
    store.add_chunks([(item.article, item.chunks[1:], item.embeddings[1:])])
    assert cache.sync().added_articles == 1
    assert len(cache.index.chunk_ids()) == 2


def test_a_chunk_scores_the_same_asked_for_by_id_as_in_its_search(settings: Settings) -> None:
    store = Store(settings)
    store.add_articles(
        [_new(n, words) for n, words in enumerate(["harbour cranes", "ferry timetables", "harbour ferry"])]
    )
    index = LexicalCache(store, cache_folder(store)).refresh()
    best = index.top("harbour ferry", 10)
    assert best and [score for _id, _meta, score in best] == sorted((s for _i, _m, s in best), reverse=True)
    by_id = index.scores("harbour ferry", [chunk_id for chunk_id, _meta, _score in best] + ["missing:00000"])
    assert all(by_id[chunk_id] == score for chunk_id, _meta, score in best)
    assert by_id["missing:00000"] == 0.0
    assert index.top("the of and", 10) == []  # stop words alone match nothing


def test_a_search_uses_the_index_it_has_while_another_writer_is_caught_up_in_the_background(
    settings: Settings,
) -> None:
    store = Store(settings)
    store.add_articles([_new(1, "harbour cranes")])
    cache = LexicalCache(store, cache_folder(store), recheck_s=0.0)
    assert len(cache.get().chunk_ids()) == 2  # the first use on this machine builds it
    other_process = Store(settings)  # writes as another client would; this cache is not told
    other_process.add_articles([_new(2, "ferry timetables")])
    cache.get()  # starts the catch-up and returns without waiting for it
    cache.wait()
    assert {meta.article_id for _id, meta, _score in cache.get().top("ferry timetables", 5)} == {"report-2"}
    # A second client on this machine shares the same index: it has nothing to build.
    assert LexicalCache(store, cache_folder(store)).sync().added_chunks == 0


def test_the_publisher_list_follows_additions_and_deletions_without_reading_the_store(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web chat's publisher list comes from the lexical index's own count, kept as articles
    come and go, and its article list from the index's rows: drawing them reads no article from
    Chroma (they read them all)."""
    import ui.app
    from qa.parts import parts_for
    from ui.app import ChatApp

    parts = parts_for(settings)
    extra = corpus / "more.json"
    extra.write_text(
        '[{"id": "a", "text": "Rates held at 4%.", "publisher": "Ledger"},'
        ' {"id": "b", "text": "Rates cut to 3.75%.", "publisher": "Ledger"}]'
    )
    parts.indexer.index_paths([corpus])
    app = ChatApp(parts.answerer, parts.indexer)
    read: list[str] = []
    articles = Store.articles
    monkeypatch.setattr(Store, "articles", lambda self, *a, **k: read.append("articles") or articles(self, *a, **k))
    stored = sorted({a.publisher for a in articles(parts.store).values() if a.publisher}, key=str.lower)
    assert app.publisher_choices() == stored and "Ledger" in stored and read == []
    # The Articles tab's list too: every article by id, or the first few of many, named as such.
    assert [row[3] for row in app.articles_table()] == sorted(a.id for a in articles(parts.store).values())
    monkeypatch.setattr(ui.app, "ARTICLES_SHOWN", 2)
    assert len(app.articles_table()) == 2 and app.articles_label().startswith("Indexed articles: the first 2 of 6")
    assert read == []
    parts.indexer.delete(["a"])
    assert "Ledger" in app.publisher_choices()  # one of its two articles is left
    parts.indexer.delete(["b"])
    assert "Ledger" not in app.publisher_choices()
    assert app.publisher_choices() == sorted(
        {a.publisher for a in articles(parts.store).values() if a.publisher}, key=str.lower
    )


def test_a_filtered_search_returns_exactly_the_chunks_the_filter_accepts(tmp_path: Path) -> None:
    """The filters run inside the term engine (issue 29); they must be ``ChunkFilter.accepts``."""
    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    chunks = []
    for n in range(24):
        day = 0 if n % 4 == 0 else 20260100 + n  # every fourth article undated
        publisher = ("Ledger", "Harbour Post", "")[n % 3]
        meta = ChunkMeta(f"h{n:02d}", f"a{n}", f"Title {n}", publisher, "", day, day, 0, 0, 30)
        chunks.append(StoredChunk(f"h{n:02d}:0", f"The ferry timetable changed, note {n}.", meta))
    assert index.add(chunks) == 24
    filters = [
        ChunkFilter(),
        ChunkFilter(publishers=("Ledger",)),
        ChunkFilter(article_ids=("a3", "a7", "a8")),
        ChunkFilter(published_from=20260110),
        ChunkFilter(published_to=20260110),
        ChunkFilter(published_from=20260105, published_to=20260115),
        ChunkFilter(published_from=20260105, published_to=20260115, keep_undated=True),
        ChunkFilter(publishers=("Harbour Post", ""), published_to=20260120, keep_undated=True),
    ]
    for where in filters:
        found = {chunk_id for chunk_id, _meta, _score in index.top("ferry timetable", 100, where)}
        assert found == {c.id for c in chunks if where.accepts(c.meta)}, where
        assert found, where
    # A score does not depend on the filter: it is the chunk's BM25 for the query.
    plain = {chunk_id: score for chunk_id, _meta, score in index.top("ferry note 5", 100)}
    narrowed = {chunk_id: score for chunk_id, _meta, score in index.top("ferry note 5", 100, filters[1])}
    assert narrowed and all(plain[chunk_id] == score for chunk_id, score in narrowed.items())
    assert index.scores("ferry note 5", list(narrowed)) == narrowed
