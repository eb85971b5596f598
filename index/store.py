"""The Chroma store: the single source of truth for indexed text.

Two collections: ``<name>-chunks`` holds the embedded chunks; ``<name>-articles`` is the manifest,
one record per distinct article (keyed by content hash) holding its full text and metadata.

Consistency without transactions: an article's chunks are written first and its manifest record
last, so the manifest record is the commit mark. Readers ignore chunks whose article has no
manifest record. Before a writer touches an article's chunks it notes the article in a third
collection, ``<name>-journal``, and it strikes the note once the article is committed (or, for a
deletion, once its chunks are gone). ``repair()`` (run at the start of every indexing run) settles
only the noted articles older than ``REPAIR_GRACE_S``, so a run killed part-way leaves no
half-indexed article, the next run completes the work, another writer's run still in flight (on
another machine that shares the Chroma server) is never taken for an abandoned one, and a repair
costs what was left unfinished, not what is stored (issue 29). A store written before the journal
existed gets one note naming every article (``EVERY_ARTICLE``): its first repair reads the whole
store once, as every repair used to.

A fourth collection, ``<name>-changes``, is the change log derived indexes follow: one record per
article hash, stamped with the time of its last commit or deletion, written after the change it
records. A reader asks for the records stamped since its last look (``changed_since``), so it
learns what changed without listing every id (issue 29: about 2.5 s a listing at 1M articles).

Reads never page with ``offset``: Chroma sorts the whole segment for every page (paging 600k ids
took 64.7 s, ``../shared/notes/chroma-scale.md``) and a deletion during the pass makes it skip live
rows. Ids are listed in one unpaged read (400k in 1.0 s) and records are read by id in batches.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient

from index.articles import Article
from index.chunking import Chunk, chunk_id
from index.embeddings import CiteqaEmbeddingFunction
from index.errors import CiteqaError
from index.folder_lock import FolderLock
from index.records import PUBLISHER_KEY, ArticleFields, ChunkFilter, ChunkMeta, StoredArticle, StoredChunk
from index.settings import Settings, StoreSettings

BATCH = 5000
"""Records read by id in one request."""
REPAIR_GRACE_S = 3600.0
"""Uncommitted chunks younger than this may belong to a run still writing (chunks first, the
manifest record last; a long article is written a window at a time): repair leaves them alone."""
WRITTEN_AT = "written_at"
"""Chunk metadata: when it was written (seconds since the epoch), for the grace period of the one
whole-store repair of a store written before the journal."""
NOTED_AT = "noted_at"
"""Journal metadata: when a writer began on the article (seconds since the epoch)."""
CHANGED_AT = "changed_at"
"""Change-log metadata: when an article was last committed or deleted (the writer's clock)."""
EVERY_ARTICLE = "*every-article*"
"""The journal note that asks the next repair to check every article (a store from before the
journal, whose unfinished work was never noted)."""


class StoreUnavailable(CiteqaError):
    """The Chroma database or server cannot be opened or reached."""


@dataclass
class NewArticle:
    """An article ready to be written: its chunks, their embeddings, and where it was found."""

    article: Article
    chunks: Sequence[Chunk]
    embeddings: np.ndarray
    locations: list[str]


def open_client(settings: Settings) -> Any:
    """An embedded ``PersistentClient`` under the data folder, or an ``HttpClient`` for a server."""
    server = settings.store.chroma_url
    if server:
        url = urlparse(server if "://" in server else f"http://{server}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
            )
        except Exception as error:  # chromadb raises plain exceptions for connection failures
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {server}: {error}; "
                "start it with `chroma run` or unset CITEQA_CHROMA_URL"
            ) from error
    path = Path(settings.store.home) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path))


class _Connection:
    """The one Chroma client of this process for a data folder, behind the folder's lock.

    Every ``Store`` on the same folder shares it, so that reopening a stale embedded client (after
    another process wrote) never leaves another ``Store`` of this process holding a stopped one.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = FolderLock(Path(settings.store.home))
        self._client: Any = None
        self._seen: str | None = None
        self._collections: dict[str, Any] = {}

    @contextmanager
    def holding(self, exclusive: bool) -> Iterator[_Connection]:
        """The folder held for reading or writing, the client caught up with other processes."""
        with self.lock.writing() if exclusive else self.lock.reading() as outermost:
            if outermost:
                self._catch_up()
            yield self
        if exclusive and outermost:
            self._seen = self.lock.stamped  # this process's own write needs no reopening

    def collection(self, name: str, embedding_function: Any) -> Any:
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name, embedding_function=embedding_function, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._collections[name]

    def collection_names(self) -> set[str]:
        return {c.name for c in self._client.list_collections()}

    def max_batch_size(self) -> int:
        return int(self._client.get_max_batch_size())

    def _catch_up(self) -> None:
        """Open the client, or reopen it when another process has written since this one looked."""
        generation = self.lock.generation()
        if self._client is not None and (generation == self._seen or self.settings.store.chroma_url):
            return
        if self._client is not None:
            self._close_embedded()
        if self.settings.store.chroma_url:
            self._client = open_client(self.settings)
        else:
            with self.lock.opening():
                self._client = open_client(self.settings)
        self._collections = {}
        self._seen = generation

    def _close_embedded(self) -> None:
        self._client.close()
        # Chroma shares one system per path in a process; one still held elsewhere would be reused stale.
        identifier = getattr(self._client, "_identifier", None)
        system = SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        if system is not None:
            system.stop()


def _chroma_where(where: ChunkFilter) -> dict[str, Any] | None:
    """The filter in Chroma's query language (the same test as ``ChunkFilter.accepts``)."""
    clauses: list[dict[str, Any]] = []
    if where.publishers:
        clauses.append({PUBLISHER_KEY: {"$in": list(where.publishers)}})
    if where.article_ids:
        clauses.append({"article_id": {"$in": list(where.article_ids)}})
    dated: list[dict[str, Any]] = []
    if where.published_from is not None:
        dated.append({"published_hi": {"$gte": where.published_from}})
    if where.published_to is not None:
        dated.append({"published_lo": {"$lte": where.published_to}})
        dated.append({"published_lo": {"$gt": 0}})
    if dated and where.keep_undated:
        within = dated[0] if len(dated) == 1 else {"$and": dated}
        clauses.append({"$or": [{"published_lo": {"$eq": 0}}, within]})
    else:
        clauses += dated
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _stamp(collection: Any, article_hashes: Sequence[str], key: str) -> None:
    """One record per article in a bookkeeping collection, stamped now under ``key``."""
    if article_hashes:
        ids = list(dict.fromkeys(article_hashes))
        metadata = {key: time.time()}
        collection.upsert(ids=ids, embeddings=[[1.0]] * len(ids), metadatas=[metadata] * len(ids))


_connections: dict[tuple[str, str], _Connection] = {}
_connections_lock = threading.Lock()


def _connection(settings: Settings) -> _Connection:
    key = (str(Path(settings.store.home).resolve()), settings.store.chroma_url or "")
    with _connections_lock:
        if key not in _connections:
            _connections[key] = _Connection(settings)
        return _connections[key]


class Store:
    """The only code that speaks to Chroma. Safe across threads and across processes on one data
    folder (see ``index.folder_lock``): reads share the folder, writes take it alone."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection = _connection(settings)
        name = settings.store.collection
        self._chunks_name = f"{name}-chunks"
        self._manifest_name = f"{name}-articles"
        self._journal_name = f"{name}-journal"
        self._changes_name = f"{name}-changes"
        with self._connection.holding(exclusive=False) as db:
            present = db.collection_names()
        if not {self._chunks_name, self._manifest_name, self._journal_name, self._changes_name} <= present:
            with self._writing() as (chunks, _):
                if self._journal_name not in present and chunks.count():
                    self._note([EVERY_ARTICLE])
                self._changes()

    @contextmanager
    def _reading(self) -> Iterator[tuple[Any, Any]]:
        with self._connection.holding(exclusive=False) as db:
            yield self._collections(db)

    @contextmanager
    def _writing(self) -> Iterator[tuple[Any, Any]]:
        with self._connection.holding(exclusive=True) as db:
            yield self._collections(db)

    def _collections(self, db: _Connection) -> tuple[Any, Any]:
        return (
            db.collection(self._chunks_name, CiteqaEmbeddingFunction()),
            db.collection(self._manifest_name, None),
        )

    def _journal(self) -> Any:
        """The journal of unfinished work (call under ``_writing``)."""
        return self._connection.collection(self._journal_name, None)

    def _note(self, article_hashes: Sequence[str]) -> None:
        """Note that a writer is about to change these articles' chunks (under ``_writing``)."""
        _stamp(self._journal(), article_hashes, NOTED_AT)

    def _strike(self, article_hashes: Sequence[str]) -> None:
        """The work on these articles is finished (under ``_writing``)."""
        if article_hashes:
            self._journal().delete(ids=list(dict.fromkeys(article_hashes)))

    def _changes(self) -> Any:
        """The change log (call under ``_writing``, or ``_reading`` once the store exists)."""
        return self._connection.collection(self._changes_name, None)

    def _log_changes(self, article_hashes: Sequence[str]) -> None:
        """Stamp these articles as changed now (under ``_writing``, after the change itself)."""
        _stamp(self._changes(), article_hashes, CHANGED_AT)

    def changed_since(self, since: float) -> list[str]:
        """The articles committed or deleted at ``since`` or later (seconds since the epoch, by
        the writers' clocks): one filtered read, whose cost follows how many changed."""
        with self._reading():
            got = self._changes().get(where={CHANGED_AT: {"$gte": since}}, include=[])
        return sorted(got["ids"])

    def committed_among(self, article_hashes: Sequence[str]) -> set[str]:
        """Those of ``article_hashes`` that are committed (read by id)."""
        hashes = list(article_hashes)
        found: set[str] = set()
        with self._reading() as (_, manifest):
            for begin in range(0, len(hashes), BATCH):
                found.update(manifest.get(ids=hashes[begin : begin + BATCH], include=[])["ids"])
        return found

    def identity(self) -> str:
        """Names this store's manifest collection: another after it is deleted and made again,
        so a derived index knows a change log it followed no longer applies."""
        with self._reading() as (_, manifest):
            return str(manifest.id)

    def unfinished(self) -> list[str]:
        """The articles whose writing or deletion has begun and not finished (the journal)."""
        with self._writing():
            return sorted(self._journal().get(include=[])["ids"])

    # ---- reading -------------------------------------------------------------------------

    def articles(self) -> dict[str, StoredArticle]:
        """Every committed article, keyed by content hash."""
        with self._reading() as (_, manifest):
            return self._articles(manifest)

    def article_text(self, article_hash: str) -> str | None:
        with self._reading() as (_, manifest):
            got = manifest.get(ids=[article_hash], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def article_records(self, hashes: Sequence[str]) -> list[tuple[StoredArticle, str]]:
        """(manifest record, full text) of the committed articles among ``hashes``."""
        with self._reading() as (_, manifest):
            got = manifest.get(ids=list(hashes), include=["documents", "metadatas"])
        return [
            (StoredArticle.from_chroma(h, meta), text)
            for h, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def article_chunks(self, article_hash: str) -> list[StoredChunk]:
        """One article's chunks, in reading order."""
        with self._reading() as (chunks, _):
            got = chunks.get(where={"article_hash": article_hash}, include=["documents", "metadatas"])
        found = [
            StoredChunk(i, d, ChunkMeta.from_chroma(m))
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(found, key=lambda chunk: chunk.meta.chunk_index)

    def stored_articles(self, article_hashes: Sequence[str]) -> dict[str, StoredArticle]:
        """The manifest records of those of ``article_hashes`` that are committed."""
        with self._reading() as (_, manifest):
            got = manifest.get(ids=list(article_hashes), include=["metadatas"])
        return {h: StoredArticle.from_chroma(h, meta) for h, meta in zip(got["ids"], got["metadatas"], strict=True)}

    def article_at(self, location: str) -> StoredArticle | None:
        """The committed article found at ``location`` (a path, ``path#record`` or URL), if any:
        one filtered read, about 20-50 ms at 100k articles where listing them all takes 1.3 s."""
        with self._reading() as (_, manifest):
            got = manifest.get(where={"locations": {"$contains": location}}, include=["metadatas"], limit=1)
        return StoredArticle.from_chroma(got["ids"][0], got["metadatas"][0]) if got["ids"] else None

    def find_article(self, article_id: str) -> StoredArticle | None:
        """Look an article up by its public id, or by its content hash."""
        with self._reading() as (_, manifest):
            got = manifest.get(where={"article_id": article_id}, include=["metadatas"], limit=1)
            if not got["ids"]:
                got = manifest.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return StoredArticle.from_chroma(got["ids"][0], got["metadatas"][0])

    def chunk_count(self) -> int:
        with self._reading() as (chunks, _):
            return chunks.count()

    def article_count(self) -> int:
        with self._reading() as (_, manifest):
            return manifest.count()

    def committed_hashes(self) -> set[str]:
        """The content hashes of every committed article (one unpaged read of the manifest's ids)."""
        with self._reading() as (_, manifest):
            return set(manifest.get(include=[])["ids"])

    def committed_chunks(self, article_hashes: Sequence[str]) -> tuple[list[StoredChunk], list[str]]:
        """The chunks of those of ``article_hashes`` that are committed with all their chunks, read
        by id; and the committed ones whose chunks are not all there (being deleted or repaired)."""
        with self._reading() as (chunks, manifest):
            records = manifest.get(ids=list(article_hashes), include=["metadatas"])
            counts = {
                h: int((meta or {}).get("chunk_count") or 0)
                for h, meta in zip(records["ids"], records["metadatas"], strict=True)
            }
            ids = [chunk_id(h, i) for h, count in counts.items() for i in range(count)]
            found: dict[str, list[StoredChunk]] = {h: [] for h in counts}
            for begin in range(0, len(ids), BATCH):
                got = chunks.get(ids=ids[begin : begin + BATCH], include=["documents", "metadatas"])
                for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                    stored = StoredChunk(cid, doc, ChunkMeta.from_chroma(meta))
                    found[stored.meta.article_hash].append(stored)
        complete = [c for h, got_chunks in found.items() if len(got_chunks) == counts[h] for c in got_chunks]
        incomplete = [h for h, got_chunks in found.items() if len(got_chunks) != counts[h]]
        return complete, incomplete

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk of every committed article (read by id, a thousand articles a request)."""
        hashes = sorted(self.committed_hashes())
        return [
            chunk
            for begin in range(0, len(hashes), 1000)
            for chunk in self.committed_chunks(hashes[begin : begin + 1000])[0]
        ]

    def nearest_chunks(
        self, vector: np.ndarray, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, ChunkMeta, float]]:
        """(id, metadata, cosine distance) of the ``n`` chunks nearest to ``vector`` that ``where`` accepts."""
        got = self._query(vector, n, where, ["metadatas", "distances"])
        return [
            (cid, ChunkMeta.from_chroma(meta), float(distance))
            for cid, meta, distance in zip(got["ids"][0], got["metadatas"][0], got["distances"][0], strict=True)
        ]

    def nearest_ids(self, vector: np.ndarray, n: int, where: ChunkFilter | None = None) -> list[tuple[str, float]]:
        """(id, cosine distance) of the ``n`` chunks nearest to ``vector`` that ``where`` accepts,
        without their metadata: Chroma's query spent most of its time handing metadata over
        (600 chunks at 10k articles on a server: 94 ms with it, 14 ms without)."""
        got = self._query(vector, n, where, ["distances"])
        return [(cid, float(distance)) for cid, distance in zip(got["ids"][0], got["distances"][0], strict=True)]

    def _query(self, vector: np.ndarray, n: int, where: ChunkFilter | None, include: list[str]) -> Any:
        with self._reading() as (chunks, _):
            return chunks.query(
                query_embeddings=[vector], n_results=n, where=_chroma_where(where or ChunkFilter()), include=include
            )

    def chunk_metas(self, ids: Sequence[str]) -> dict[str, ChunkMeta]:
        """The metadata of each chunk among ``ids`` that is still stored."""
        with self._reading() as (chunks, _):
            got = chunks.get(ids=list(ids), include=["metadatas"])
        return {cid: ChunkMeta.from_chroma(meta) for cid, meta in zip(got["ids"], got["metadatas"], strict=True)}

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, tuple[ChunkMeta, np.ndarray]]:
        """Metadata and embedding of each chunk among ``ids`` that is still stored."""
        with self._reading() as (chunks, _):
            got = chunks.get(ids=list(ids), include=["metadatas", "embeddings"])
        return {
            cid: (ChunkMeta.from_chroma(meta), np.asarray(embedding, dtype=np.float32))
            for cid, meta, embedding in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True)
        }

    # ---- writing -------------------------------------------------------------------------

    def add_articles(self, items: Sequence[NewArticle]) -> None:
        """Write the chunks of several articles, then the manifest records that commit them.

        Two writes for the whole batch (each Chroma write costs a commit), and the second one
        commits every article of the batch at once; both under the folder's write lock, so no
        other process ever sees (or repairs away) the chunks in between.
        """
        if not items:
            return
        with self._writing():
            self.add_chunks([(item.article, item.chunks, item.embeddings) for item in items])
            self.commit(items)

    def add_chunks(self, parts: Sequence[tuple[Article, Sequence[Chunk], np.ndarray]]) -> None:
        """Write chunks without committing their articles (readers and search ignore them until
        ``commit``). A very long article is written this way a window at a time."""
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for article, chunks, _vectors in parts:
            shared = vars(ArticleFields.of(article))
            ids += [c.id for c in chunks]
            documents += [c.text for c in chunks]
            written_at = time.time()
            metadatas += [
                {
                    **ChunkMeta(**shared, chunk_index=c.index, start=c.start, end=c.end).to_chroma(),
                    WRITTEN_AT: written_at,
                }
                for c in chunks
            ]
        if not ids:
            return
        embeddings = np.concatenate([vectors for _a, _c, vectors in parts])
        with self._writing() as (chunks_collection, _):
            self._note([article.content_hash for article, _c, _v in parts])
            batch = self._connection.max_batch_size()
            for begin in range(0, len(ids), batch):
                end = begin + batch
                chunks_collection.upsert(
                    ids=ids[begin:end],
                    documents=documents[begin:end],
                    embeddings=embeddings[begin:end],
                    metadatas=metadatas[begin:end],
                )

    def commit(self, items: Sequence[NewArticle | tuple[Article, int, list[str]]]) -> None:
        """Write the manifest records that make these articles (whose chunks are stored) visible:
        each a ``NewArticle``, or (article, chunk count, locations) for one stored in windows."""
        rows = [
            (item.article, len(item.chunks), item.locations) if isinstance(item, NewArticle) else item for item in items
        ]
        records = [
            {**StoredArticle.of(article, chunk_count, tuple(locations)).to_chroma(), "indexed_at": time.time()}
            for article, chunk_count, locations in rows
        ]
        hashes = [article.content_hash for article, _count, _locations in rows]
        with self._writing() as (_, manifest):
            manifest.upsert(
                ids=hashes,
                documents=[article.text for article, _count, _locations in rows],
                embeddings=[[1.0]] * len(rows),
                metadatas=records,
            )
            self._log_changes(hashes)
            self._strike(hashes)

    def add_location(self, article_hash: str, location: str) -> tuple[str, ...]:
        """Record one more place the article was found; returns all its places. The record is
        read again under the write lock, so a location another writer added meanwhile is kept
        (writing back a list read earlier lost it)."""
        return self._change_locations(article_hash, lambda places: places | {location})

    def remove_location(self, article_hash: str, location: str) -> tuple[str, ...]:
        """Forget one place the article was found; returns the places left (the caller deletes
        the article when none is)."""
        return self._change_locations(article_hash, lambda places: places - {location})

    def _change_locations(self, article_hash: str, change: Callable[[set[str]], set[str]]) -> tuple[str, ...]:
        with self._writing() as (_, manifest):
            got = manifest.get(ids=[article_hash], include=["metadatas"])
            if not got["ids"]:
                return ()
            places = tuple(sorted(change(set(StoredArticle.from_chroma(article_hash, got["metadatas"][0]).locations))))
            if places:  # Chroma refuses an empty list; an article found nowhere is deleted next
                manifest.update(ids=[article_hash], metadatas=[{"locations": list(places)}])
            return places

    def delete_article(self, article_hash: str) -> None:
        """Uncommit first (the manifest record), then remove the chunks."""
        with self._writing() as (chunks, manifest):
            self._note([article_hash])
            manifest.delete(ids=[article_hash])
            chunks.delete(where={"article_hash": article_hash})
            self._log_changes([article_hash])
            self._strike([article_hash])

    def indexing_run(self) -> contextlib.AbstractContextManager[int]:
        """Hold for the length of an indexing run; repairs first when no other run is going and
        gives how many articles that removed (see ``FolderLock.indexing_run``).

        On the embedded store the folder's run lock proves that no other run is writing, so every
        uncommitted chunk is debris. A Chroma server may also be written by processes on other
        machines, which no lock here sees: there only chunks older than the grace period go."""
        grace_s = REPAIR_GRACE_S if self.settings.store.chroma_url else 0.0
        return self._connection.lock.indexing_run(lambda: self.repair(grace_s))

    def repair(self, grace_s: float = REPAIR_GRACE_S) -> int:
        """Settle the work the journal holds that is older than ``grace_s`` (younger notes may be
        another writer's run in flight): an article never committed loses its chunks, a committed
        one whose chunks are incomplete is deleted, a committed and complete one (its run was
        killed after the commit) is kept. Returns how many articles were removed.

        It reads the journal and each noted article, nothing else, so indexing one article into a
        large store costs what changed (issue 29); only the ``EVERY_ARTICLE`` note reads it all."""
        with self._writing() as (chunks, manifest):
            journal = self._journal().get(include=["metadatas"])
            cutoff = time.time() - grace_s
            due = [
                noted
                for noted, meta in zip(journal["ids"], journal["metadatas"], strict=True)
                if float((meta or {}).get(NOTED_AT) or 0.0) <= cutoff
            ]
            removed = 0
            for article_hash in due:
                if article_hash == EVERY_ARTICLE:
                    removed += self._repair_everything(chunks, manifest, cutoff)
                else:
                    removed += self._settle(chunks, manifest, article_hash)
            self._strike(due)
            return removed

    def _settle(self, chunks: Any, manifest: Any, article_hash: str) -> int:
        """Finish or undo the unfinished work on one article; 1 when it was removed. The change
        log learns of it whatever the outcome (the run may have died before writing to it)."""
        present = chunks.get(where={"article_hash": article_hash}, include=[])["ids"]
        record = manifest.get(ids=[article_hash], include=["metadatas"])
        removed = 0
        if not record["ids"]:
            if present:
                chunks.delete(ids=present)
                removed = 1
        elif len(present) != StoredArticle.from_chroma(article_hash, record["metadatas"][0]).chunk_count:
            self.delete_article(article_hash)
            removed = 1
        self._log_changes([article_hash])
        return removed

    def _repair_everything(self, chunks: Any, manifest: Any, cutoff: float) -> int:
        """The whole-store repair, once, for a store written before the journal: chunk ids are
        ``<article hash>:<index>``, so one unpaged listing of ids counts every article's chunks;
        metadata is read only for one chunk of each uncommitted article. Its manifest records are
        rewritten with their locations as a list, which ``article_at`` can look up."""
        committed = self._articles(manifest)
        self._list_locations(manifest)
        counts: dict[str, int] = {}
        for cid in chunks.get(include=[])["ids"]:
            article_hash = cid.rsplit(":", 1)[0]
            counts[article_hash] = counts.get(article_hash, 0) + 1
        removed = 0
        for article_hash in sorted(counts.keys() - committed.keys()):
            first = chunks.get(where={"article_hash": article_hash}, include=["metadatas"], limit=1)
            written_at = float(((first["metadatas"] or [{}])[0] or {}).get(WRITTEN_AT) or 0.0)
            if written_at <= cutoff:  # chunks from before written_at existed count as old
                chunks.delete(where={"article_hash": article_hash})
                removed += 1
        for article_hash, stored in committed.items():
            if counts.get(article_hash, 0) != stored.chunk_count:
                self.delete_article(article_hash)
                removed += 1
        return removed

    # ---- reading whole collections by id -------------------------------------------------

    @staticmethod
    def _list_locations(manifest: Any) -> None:
        """Rewrite records whose locations are JSON text (before issue 29) as lists."""
        ids = manifest.get(include=[])["ids"]
        for begin in range(0, len(ids), BATCH):
            got = manifest.get(ids=ids[begin : begin + BATCH], include=["metadatas"])
            old = [
                (record_id, json.loads(meta["locations"] or "[]"))
                for record_id, meta in zip(got["ids"], got["metadatas"], strict=True)
                if isinstance((meta or {}).get("locations"), str)
            ]
            old = [(record_id, places) for record_id, places in old if places]
            if old:
                manifest.update(ids=[r for r, _ in old], metadatas=[{"locations": places} for _, places in old])

    @staticmethod
    def _articles(manifest: Any) -> dict[str, StoredArticle]:
        ids = manifest.get(include=[])["ids"]
        found: dict[str, StoredArticle] = {}
        for begin in range(0, len(ids), BATCH):
            got = manifest.get(ids=ids[begin : begin + BATCH], include=["metadatas"])
            for record_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                found[record_id] = StoredArticle.from_chroma(record_id, meta)
        return found


_stores: dict[StoreSettings, Store] = {}
_stores_lock = threading.Lock()


def shared_store(settings: Settings) -> Store:
    """This process's ``Store`` for ``settings.store`` (its data folder, server and collection),
    built on first use. A part not handed a store takes this one (``Indexer(settings)``,
    ``Retriever(settings)``), so a process holds one store and one lexical cache per collection
    whichever constructors it calls; ``qa.parts`` takes its store from here too."""
    with _stores_lock:
        if settings.store not in _stores:
            _stores[settings.store] = Store(settings)
        return _stores[settings.store]
