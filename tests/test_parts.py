"""The composition root: one of each part per process and settings, shared by the indexer and
the retriever, so uploads during answers never race two lexical caches over one folder."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from index.settings import Settings
from qa.parts import parts_for


def test_equal_settings_get_the_same_parts_and_the_indexer_and_retriever_share_store_and_lexical_cache(
    settings: Settings,
) -> None:
    parts = parts_for(settings)
    assert parts_for(dataclasses.replace(settings)) is parts
    assert parts.indexer.store is parts.store is parts.retriever.store
    assert parts.indexer.lexical is parts.lexical is parts.retriever.lexical
    assert parts.indexer.embedder is parts.retriever.embedder
    assert parts.answerer.retriever is parts.retriever and parts.answerer.llm is parts.llm
    other = parts_for(settings.with_store(collection="other"))
    assert other is not parts and other.store is not parts.store


def test_every_door_and_constructor_shares_one_store_one_lexical_cache_and_one_model_client(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built without their parts, the indexer, retriever and answerer take the process's own; the
    composition root, the CLI and the retrieval eval get the same: a second build fails here."""
    from click.testing import CliRunner

    from index.lexical import LexicalCache
    from index.pipeline import Indexer
    from index.store import Store
    from qa.answers import Answerer
    from qa.llm import LLM
    from qa.retriever import Retriever
    from ui.cli import main

    built: list[str] = []
    for part in (Store, LexicalCache, LLM):
        init = part.__init__
        monkeypatch.setattr(
            part,
            "__init__",
            lambda self, *a, _init=init, **k: built.append(type(self).__name__) or _init(self, *a, **k),
        )
    indexer, retriever, answerer = Indexer(settings), Retriever(settings, alpha=0.3), Answerer(settings)
    parts = parts_for(settings)
    assert indexer.store is retriever.store is answerer.retriever.store is parts.store
    assert indexer.lexical is retriever.lexical is parts.lexical
    assert answerer.llm is parts.llm and answerer.retriever is parts.retriever
    indexer.index_paths([corpus])
    run = CliRunner().invoke(main, ["--home", str(settings.store.home), "search", "bridge", "--json"])
    assert run.exit_code == 0, run.output
    assert sorted(built) == ["LLM", "LexicalCache", "Store"]


def test_reading_the_store_builds_nothing_else(tmp_path: Path, settings: Settings) -> None:
    parts = parts_for(settings)
    assert parts.store.article_count() == 0
    assert {"embedder", "lexical", "indexer", "retriever", "llm", "answerer"}.isdisjoint(vars(parts))


def test_uploads_during_searches_keep_the_lexical_index_equal_to_the_store(tmp_path: Path, settings: Settings) -> None:
    parts = parts_for(settings)
    folder = tmp_path / "uploads"
    folder.mkdir()
    first = folder / "first.txt"
    first.write_text("Ferry terminal opens in Portmere\n\nThe new ferry terminal in Portmere opened on Monday.\n")
    parts.indexer.index_paths([first])
    errors: list[BaseException] = []
    done = threading.Event()

    def search_until_done() -> None:
        try:
            while not done.is_set():
                assert parts.retriever.search("ferry terminal", k=3), "a committed article went missing"
        except BaseException as error:
            errors.append(error)

    readers = [threading.Thread(target=search_until_done) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for n in range(8):  # one upload at a time, as the web chat does them
            upload = folder / f"upload-{n}.txt"
            upload.write_text(f"Harbour update {n}\n\nCrane number {n} at the harbour of Velden was repaired.\n")
            report = parts.indexer.index_paths([upload])
            assert not report.failures, report.summary()
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=60)
    assert errors == []
    stored = {chunk.id for chunk in parts.store.all_chunks()}
    assert parts.lexical.get().chunk_ids() == stored
    assert {p.article_id for p in parts.retriever.search("crane repaired at the harbour of Velden", k=9)} >= {
        f"upload-{n}.txt" for n in range(8)
    }
