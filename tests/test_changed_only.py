"""Work on one article costs what changed, not what is stored (issue 29).

Indexing one file, deleting one article and catching the lexical index up used to read whole
collections: repair listed every chunk id, the run read every manifest record, the sync listed
every committed hash. These tests fill a store that other clients wrote and count the records
Chroma hands back (not the clock): the count must not grow with the store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chromadb.api.models.Collection import Collection

import index.store
from index.lexical import LexicalCache, cache_folder
from index.pipeline import Indexer, Outcome
from index.settings import Settings
from index.store import NewArticle, Store
from tests.articles import two_chunk_article


def _new(n: int) -> NewArticle:
    return two_chunk_article(n, "the cranes of the harbour", location=f"other/r{n}.txt")


@dataclass
class Reads:
    """Every ``get`` Chroma answered: the collection, how it was asked, how many records came back."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(count for _name, _how, count in self.calls)

    def listings(self) -> list[tuple[str, str, int]]:
        """Reads that asked for a whole collection (neither ids nor a filter), but the journal,
        whose size is the work left unfinished, not the store's."""
        return [call for call in self.calls if call[1] == "everything" and not call[0].endswith("-journal")]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    seen = Reads()
    original = Collection.get

    def counted(collection: Collection, *args: Any, **kwargs: Any) -> Any:
        got = original(collection, *args, **kwargs)
        how = "by id" if kwargs.get("ids") else "filtered" if kwargs.get("where") else "everything"
        seen.calls.append((collection.name, how, len(got["ids"])))
        return got

    monkeypatch.setattr(Collection, "get", counted)
    yield seen


def _held_large(settings: Settings, articles: int) -> Store:
    """A store other clients filled an hour ago, and this machine's lexical index caught up with
    it (a sync rereads the last minute of changes, ``CHANGE_OVERLAP_S``: not these)."""
    store = Store(settings)
    an_hour_ago = SimpleNamespace(time=lambda: time.time() - 3600)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index.store, "time", an_hour_ago)
        for begin in range(0, articles, 200):
            store.add_articles([_new(n) for n in range(begin, min(begin + 200, articles))])
    LexicalCache(store, cache_folder(store)).sync()
    return store


@pytest.mark.parametrize("articles", [40, 400])
def test_indexing_and_deleting_one_article_reads_what_changed_whatever_the_store_holds(
    settings: Settings, tmp_path: Path, reads: Reads, articles: int
) -> None:
    store = _held_large(settings, articles)
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "note.txt").write_text("Ferry note\n\nThe Velden ferry returns to service on Friday.\n")
    reads.calls.clear()
    indexer = Indexer(settings, store)
    report = indexer.index_paths([folder])
    assert report.count(Outcome.ADDED) == 1
    assert indexer.lexical.last_sync is not None and not indexer.lexical.last_sync.listed
    deleted = indexer.delete(["note.txt"])
    assert [r.outcome for r in deleted] == [Outcome.PRUNED]
    assert not indexer.lexical.last_sync.listed
    assert reads.listings() == [], reads.calls
    assert reads.records <= 12, reads.calls  # the new article's records, its chunks, a few journal notes
    # ... and the lexical index is still exactly the store.
    assert indexer.lexical.index.chunk_ids() == {chunk.id for chunk in store.all_chunks()}
    assert len(indexer.lexical.index.chunk_ids()) == 2 * articles


def test_a_sync_by_the_change_log_stays_exact_when_an_article_is_deleted_during_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, reads: Reads
) -> None:
    store = _held_large(settings, 60)
    other_machine = LexicalCache(store, settings.store.home / "other-machine")
    assert other_machine.sync().listed  # its first sync lists what exists
    store.add_articles([_new(n) for n in range(60, 70)])
    victim = _new(65).article.content_hash
    read_chunks = Store.committed_chunks

    def deleted_meanwhile(self: Store, hashes: list[str]) -> Any:
        got = read_chunks(self, hashes)  # this sync reads the article's chunks ...
        if victim in hashes:
            self.delete_article(victim)  # ... and another client deletes it before the sync writes them
        return got

    with monkeypatch.context() as patch:
        patch.setattr(Store, "committed_chunks", deleted_meanwhile)
        during = other_machine.sync()
    assert not during.listed and during.added_articles == 10
    reads.calls.clear()
    after = other_machine.sync()
    assert not after.listed and after.removed_articles == 1
    assert reads.listings() == []
    assert other_machine.index.chunk_ids() == {chunk.id for chunk in store.all_chunks()}
    assert victim not in other_machine.index.article_hashes()


def test_a_store_made_anew_is_listed_again_rather_than_followed_by_its_old_change_log(settings: Settings) -> None:
    store = _held_large(settings, 5)
    cache = LexicalCache(store, cache_folder(store))
    assert not cache.sync().listed
    # Chroma's folder deleted and the store made again under the same name: nothing of it is left.
    client = store._connection._client
    for name in [c.name for c in client.list_collections()]:
        client.delete_collection(name)
    store._connection._collections.clear()
    fresh = Store(settings)
    fresh.add_articles([_new(99)])
    report = LexicalCache(fresh, cache_folder(fresh)).sync()
    assert report.listed and report.removed_articles == 5
    assert LexicalCache(fresh, cache_folder(fresh)).index.chunk_ids() == {c.id for c in fresh.all_chunks()}


def test_a_store_written_before_the_journal_is_checked_whole_once_then_by_its_journal(
    settings: Settings, reads: Reads
) -> None:
    store = _held_large(settings, 30)
    # Written as before the journal: debris of a killed run, and no journal collection at all.
    debris = _new(500)
    store.add_chunks([(debris.article, debris.chunks, debris.embeddings)])
    client = store._connection._client
    manifest = client.get_collection(f"{settings.store.collection}-articles")
    kept = _new(3).article.content_hash
    manifest.update(ids=[kept], metadatas=[{"locations": json.dumps(["older/r3.txt"])}])  # JSON text then
    client.delete_collection(f"{settings.store.collection}-journal")
    store._connection._collections.clear()
    older = Store(settings)
    assert older.unfinished() == ["*every-article*"]
    assert older.repair(grace_s=0.0) == 1  # the debris, found by reading everything once
    assert older.unfinished() == []
    found = older.article_at("older/r3.txt")  # its locations were rewritten as a list
    assert found is not None and found.hash == kept
    reads.calls.clear()
    assert older.repair(grace_s=0.0) == 0
    assert reads.calls == [(f"{settings.store.collection}-journal", "everything", 0)]
