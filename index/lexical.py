"""The lexical (BM25) index: an incremental copy of Chroma's committed chunks, its terms in
Tantivy (``index.terms``) and its rows (metadata, publisher counts, stories, sync state) in SQLite.

Chroma stays the one source of truth; this index is derived from it and can be deleted at any
time. It used to be a bm25s index rebuilt from every chunk whenever the store changed (issue 12):
paging every chunk out of Chroma grows with the square of the collection (5.2 s for 200k ids,
64.7 s for 600k), and a rebuild at 100k articles was estimated at 3 minutes and 2 GB in the
request thread. Now:

- **Incremental.** ``LexicalCache.sync`` asks the store's change log which articles were
  committed or deleted since its last sync began, less ``CHANGE_OVERLAP_S`` (``Store.changed_since``),
  checks those against the manifest and applies the difference with what the index holds: the
  chunks of new articles are read by id (chunk ids are ``<hash>:<index>``, the count is in the
  manifest record), the rows of articles no longer committed are deleted. It lists every committed
  hash (one unpaged read of the manifest's ids: 400k in 1.0 s, about 2.5 s at 1M) only on its
  first sync, when the store was made anew, and once every ``FULL_SYNC_EVERY_S`` as a safety net.
  An article whose chunks are not all readable (being deleted, or a run still writing) is left
  for the next sync, so the index never holds half an article; an article's content never changes
  under its hash.
- **Off the search path.** A search uses the index as it is and, at most every ``recheck_s``
  seconds, starts one sync in a background thread; only a process whose machine has never built
  the index syncs before its first search. The old index serves while the new rows arrive.
- **One per machine and data folder, shared by its processes.** SQLite in WAL mode: readers never
  wait for a writer. A sync with work to do takes the machine's one Tantivy writer (a file lock)
  for its length, and each batch's rows in a write transaction (``BEGIN IMMEDIATE``) with
  ``INSERT OR IGNORE``, so two processes syncing at once never insert a row or a document twice.
- **Filters in the engine.** Publisher, article and date bounds are fields of each Tantivy
  document, so a filtered search is pruned like an unfiltered one.

Engines, measured: SQLite FTS5 replaced bm25s (issue 12: 40k chunks built in 1.5 s, top-20 in 3.6
ms; 400k in 12 s and 23 ms), and Tantivy replaced FTS5 (issue 29), since FTS5 scores every chunk
holding a query term and its top-k grows with the collection; ``benchmarks/lexical_1m.py`` has the
figures. Text goes in already tokenised by ``tokenize`` (bm25s's rule: stop words out, Snowball
stems), so the terms are those the first index had; Tantivy's BM25 (k1 1.2, b 0.75) is Lucene's,
the variant bm25s computed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import Stemmer

from index import stories
from index.records import ChunkFilter, ChunkMeta, StoredChunk
from index.store import Store
from index.terms import TermIndex, TermWriter

__all__ = ["LexicalCache", "LexicalIndex", "SyncReport", "cache_folder", "query_terms", "shared_lexical", "tokenize"]

FORMAT_VERSION = 7
DATABASE = f"lexical-v{FORMAT_VERSION}.sqlite3"
SYNC_BATCH_ARTICLES = 500
"""Articles whose chunks are read from Chroma in one request (and inserted in one transaction)."""
CHANGE_OVERLAP_S = 60.0
"""A sync reads the changes stamped since the previous sync began, less this: a change stamped
(by its writer's clock) just before that sync began may have been written just after it looked,
and another machine's clock may run behind this one's by up to this much."""
FULL_SYNC_EVERY_S = 3600.0
"""A sync lists every committed hash at least this often, whatever the change log says."""
COUNTS_TTL_S = 30.0
"""How long a count of the chunks a filter matches (``LexicalIndex.matching``) is reused."""
_STEMMER = Stemmer.Stemmer("english")
_log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    article_hash TEXT NOT NULL,
    article_id TEXT NOT NULL,
    title TEXT NOT NULL,
    publisher TEXT NOT NULL,
    published TEXT NOT NULL,
    published_lo INTEGER NOT NULL,
    published_hi INTEGER NOT NULL,
    chunk_index INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_hash);
CREATE INDEX IF NOT EXISTS chunks_publisher ON chunks(publisher);
CREATE INDEX IF NOT EXISTS chunks_article_id ON chunks(article_id);
CREATE INDEX IF NOT EXISTS chunks_published_lo ON chunks(published_lo);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS publishers (publisher TEXT PRIMARY KEY, articles INTEGER NOT NULL);
"""
_META_COLUMNS = (
    'article_hash, article_id, title, publisher, published, published_lo, published_hi, chunk_index, start, "end"'
)
_META_SELECT = ", ".join(f"c.{column.strip()}" for column in _META_COLUMNS.split(","))


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)
    return [list(t) for t in tokens]


@lru_cache(maxsize=256)
def query_terms(query: str) -> tuple[str, ...]:
    """A query's terms (``tokenize``), remembered: a question is tokenised once though the BM25
    search, the scores of the dense search's chunks, a wider second search and the evidence step
    all read its terms (it was tokenised four or more times)."""
    return tuple(tokenize([query])[0])


def _where(where: ChunkFilter) -> tuple[str, list[object]]:
    """The filter as SQL on the chunk table (the same test as ``ChunkFilter.accepts``)."""
    clauses: list[str] = []
    values: list[object] = []
    if where.publishers:
        clauses.append(f"c.publisher IN ({','.join('?' * len(where.publishers))})")
        values += list(where.publishers)
    if where.article_ids:
        clauses.append(f"c.article_id IN ({','.join('?' * len(where.article_ids))})")
        values += list(where.article_ids)
    dated: list[str] = []
    if where.published_from is not None:
        dated.append("c.published_hi >= ? AND c.published_hi > 0")
        values.append(where.published_from)
    if where.published_to is not None:
        dated.append("c.published_lo <= ? AND c.published_lo > 0")
        values.append(where.published_to)
    if dated:
        both = " AND ".join(dated)
        clauses.append(f"(c.published_lo = 0 OR ({both}))" if where.keep_undated else both)
    return ("".join(f" AND {clause}" for clause in clauses), values)


@dataclass(frozen=True)
class SyncReport:
    """What one sync changed, and how long it took."""

    added_articles: int = 0
    added_chunks: int = 0
    removed_articles: int = 0
    deferred_articles: int = 0
    """Committed articles whose chunks could not all be read this time (tried again next sync)."""
    seconds: float = 0.0
    listed: bool = False
    """Whether this sync listed every committed hash (else it read the change log)."""


class LexicalIndex:
    """BM25 search over the chunks held in one SQLite database. Thread-safe (a connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._counts: dict[ChunkFilter, tuple[float, int, int]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA + stories.SCHEMA)
        self.terms = TermIndex(path.parent / f"terms-v{FORMAT_VERSION}")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        yield db

    # ---- reading ------------------------------------------------------------------------

    def article_hashes(self, among: Sequence[str] | None = None) -> set[str]:
        """The articles the index holds (only those ``among`` these, when given)."""
        with self._connection() as db:
            if among is None:
                return {row[0] for row in db.execute("SELECT DISTINCT article_hash FROM chunks")}
            found: set[str] = set()
            hashes = list(among)
            for begin in range(0, len(hashes), 500):
                batch = hashes[begin : begin + 500]
                sql = f"SELECT DISTINCT article_hash FROM chunks WHERE article_hash IN ({','.join('?' * len(batch))})"
                found.update(row[0] for row in db.execute(sql, batch))
            return found

    def publishers(self) -> list[str]:
        """The publishers of the indexed articles, by name: a list kept as articles come and go
        (the web chat's narrowing panel read every article from Chroma for it)."""
        with self._connection() as db:
            names = [row[0] for row in db.execute("SELECT publisher FROM publishers WHERE articles > 0")]
        return sorted(names, key=str.lower)

    def first_articles(self, limit: int) -> list[ChunkMeta]:
        """The first ``limit`` articles by public id (their first chunk's metadata): what the web
        chat's article list shows, without reading Chroma."""
        sql = f"SELECT {_META_SELECT} FROM chunks c WHERE c.chunk_index = 0 ORDER BY c.article_id LIMIT ?"
        with self._connection() as db:
            return [ChunkMeta(*row) for row in db.execute(sql, (limit,))]

    def article_count(self) -> int:
        with self._connection() as db:
            return int(db.execute("SELECT count(*) FROM chunks WHERE chunk_index = 0").fetchone()[0])

    def stories(self, article_hashes: Sequence[str]) -> dict[str, str]:
        """The story (``index.stories``) of each of these articles the index holds."""
        with self._connection() as db:
            return stories.stories_of(db, article_hashes)

    def story_members(self, story_names: Sequence[str]) -> dict[str, list[ChunkMeta]]:
        """Each story's articles (their first chunk's metadata), oldest first."""
        if not story_names:
            return {}
        marks = ",".join("?" * len(story_names))
        sql = (
            f"SELECT s.story, {_META_SELECT} FROM story_articles s JOIN chunks c "
            f"ON c.article_hash = s.article_hash AND c.chunk_index = 0 WHERE s.story IN ({marks}) "
            "ORDER BY c.published_lo, c.article_id"
        )
        members: dict[str, list[ChunkMeta]] = {name: [] for name in story_names}
        with self._connection() as db:
            for row in db.execute(sql, list(story_names)):
                members[row[0]].append(ChunkMeta(*row[1:11]))
        return members

    def chunk_ids(self) -> set[str]:
        with self._connection() as db:
            return {row[0] for row in db.execute("SELECT chunk_id FROM chunks")}

    def state(self, key: str) -> str | None:
        with self._connection() as db:
            row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def synced(self) -> bool:
        """Whether a sync has ever completed on this database (an empty index may be a true one)."""
        with self._connection() as db:
            return db.execute("SELECT 1 FROM state WHERE key = 'synced_at'").fetchone() is not None

    def matching(self, where: ChunkFilter) -> tuple[int, int]:
        """(chunks the filter accepts, all chunks): what a filtered search's cost follows in
        Chroma. Counted at most every ``COUNTS_TTL_S`` per filter (an estimate is enough, and a
        count over 500k rows is not free)."""
        now = time.monotonic()
        cached = self._counts.get(where)
        if cached is not None and now - cached[0] < COUNTS_TTL_S:
            return cached[1], cached[2]
        clause, values = _where(where)
        with self._connection() as db:
            matching = int(db.execute(f"SELECT count(*) FROM chunks c WHERE 1{clause}", values).fetchone()[0])
            total = int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        if len(self._counts) > 256:
            self._counts.clear()
        self._counts[where] = (now, matching, total)
        return matching, total

    def top(self, query: str, n: int, where: ChunkFilter | None = None) -> list[tuple[str, ChunkMeta, float]]:
        """(chunk id, metadata, BM25 score) of the ``n`` best chunks that ``where`` accepts, best first."""
        terms = query_terms(query)
        if not terms or n <= 0:
            return []
        hits = self.terms.top(terms, n, where or ChunkFilter())
        metas = self.metas([chunk_id for chunk_id, _score in hits])
        return [(chunk_id, metas[chunk_id], score) for chunk_id, score in hits if chunk_id in metas]

    def scores(self, query: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 score of each of ``chunk_ids`` for the query (0 for a chunk with none of its terms).

        Tantivy scores against the whole collection's statistics, so these equal the scores
        ``top`` gives the same chunks."""
        found = dict.fromkeys(chunk_ids, 0.0)
        terms = query_terms(query)
        if terms and found:
            found.update(self.terms.scores(terms, list(found)))
        return found

    def metas(self, chunk_ids: Sequence[str]) -> dict[str, ChunkMeta]:
        """The metadata of those of ``chunk_ids`` the chunk table holds (a chunk not synced yet,
        or a hit whose batch never committed its rows, is absent). One indexed read: 2-3 ms for
        600 ids, where Chroma took 80 ms more to hand a 600-chunk query its metadata (10k articles
        on a server)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        sql = f"SELECT c.chunk_id, {_META_SELECT} FROM chunks c WHERE c.chunk_id IN ({marks})"
        with self._connection() as db:
            return {row[0]: ChunkMeta(*row[1:11]) for row in db.execute(sql, list(chunk_ids))}

    def chunk_count(self) -> int:
        with self._connection() as db:
            return int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    # ---- writing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; it waits for another process's to end (SQLite's write lock)."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, chunks: Sequence[StoredChunk]) -> int:
        """Insert these chunks (whole articles) in one transaction of their own; how many were new."""
        with self.terms.writer() as terms, self.writing() as db:
            added = self.insert(db, terms, chunks)
            terms.commit()
            return added

    def remove(self, article_hashes: Sequence[str]) -> None:
        """Delete these articles in one transaction of their own."""
        with self.terms.writer() as terms, self.writing() as db:
            self.remove_articles(db, terms, article_hashes)
            terms.commit()

    @staticmethod
    def insert(db: sqlite3.Connection, terms: TermWriter, chunks: Sequence[StoredChunk]) -> int:
        """Insert chunks not yet present (inside ``writing`` and a term writer, whose ``commit``
        the caller calls before the transaction ends); returns how many were new."""
        new: list[StoredChunk] = []
        new_tokens: list[list[str]] = []
        texts = tokenize([chunk.text for chunk in chunks]) if chunks else []
        for chunk, tokens in zip(chunks, texts, strict=True):
            m = chunk.meta
            cursor = db.execute(
                f"INSERT OR IGNORE INTO chunks (chunk_id, {_META_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (chunk.id, m.article_hash, m.article_id, m.title, m.publisher, m.published, m.published_lo,
                 m.published_hi, m.chunk_index, m.start, m.end),
            )  # fmt: skip
            if cursor.rowcount:
                new.append(chunk)
                new_tokens.append(tokens)
                if m.chunk_index == 0 and m.publisher:  # each article counted once, by its first chunk
                    db.execute(
                        "INSERT INTO publishers (publisher, articles) VALUES (?, 1) "
                        "ON CONFLICT(publisher) DO UPDATE SET articles = articles + 1",
                        (m.publisher,),
                    )
        terms.add(new, new_tokens)
        for article_hash, text in _article_texts(new).items():
            stories.add_article(db, article_hash, text)
        return len(new)

    @staticmethod
    def remove_articles(db: sqlite3.Connection, terms: TermWriter, article_hashes: Sequence[str]) -> None:
        """Delete every row and document of these articles (inside ``writing`` and a term writer)."""
        for article_hash in article_hashes:
            sql = "SELECT publisher FROM chunks WHERE article_hash = ? AND chunk_index = 0"
            row = db.execute(sql, (article_hash,)).fetchone()
            if row is not None and row[0]:
                db.execute("UPDATE publishers SET articles = articles - 1 WHERE publisher = ?", (row[0],))
                db.execute("DELETE FROM publishers WHERE publisher = ? AND articles <= 0", (row[0],))
            db.execute("DELETE FROM chunks WHERE article_hash = ?", (article_hash,))
        terms.remove(article_hashes)
        stories.remove_articles(db, article_hashes)

    @staticmethod
    def clear(db: sqlite3.Connection, terms: TermWriter) -> None:
        """Forget everything (inside ``writing`` and a term writer): the next sync rebuilds."""
        db.execute("DELETE FROM chunks")
        db.execute("DELETE FROM publishers")
        stories.clear(db)
        terms.clear()

    @staticmethod
    def mark_synced(db: sqlite3.Connection, began_at: float, store_identity: str, listed: bool) -> None:
        """Record a finished sync: when it began (the next one reads the changes from there), the
        store it followed, and when it last listed every hash."""
        rows = [("synced_at", repr(time.time())), ("began_at", repr(began_at)), ("store", store_identity)]
        if listed:
            rows.append(("listed_at", repr(began_at)))
        db.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", rows)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class LexicalCache:
    """The process's handle on its machine's lexical index, kept in step with the store.

    ``get()`` never rebuilds: it returns the index at once and, at most every ``recheck_s``
    seconds, catches up with other writers in a background thread (another process's article is
    searchable by BM25 within about ``recheck_s`` plus one sync; by the dense search at once).
    ``refresh()`` catches up in the caller's thread, after this process's own writes.
    """

    def __init__(self, store: Store, folder: Path, recheck_s: float = 2.0) -> None:
        self.store = store
        self.folder = folder
        self.recheck_s = recheck_s
        self._index: LexicalIndex | None = None
        self._open_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._checked_at = 0.0
        self._background: threading.Thread | None = None
        self.last_sync: SyncReport | None = None

    @property
    def index(self) -> LexicalIndex:
        with self._open_lock:
            if self._index is None:
                _forget_older_formats(self.folder)
                self._index = LexicalIndex(self.folder / DATABASE)
            return self._index

    def get(self) -> LexicalIndex:
        """The index, caught up with the store first only if this machine has never built it."""
        index = self.index
        if not index.synced():
            self.refresh()
            return index
        now = time.monotonic()
        if now - self._checked_at >= self.recheck_s:
            self._checked_at = now
            self._start_background_sync()
        return index

    def refresh(self) -> LexicalIndex:
        """Catch up with the store now, in this thread."""
        self.sync()
        return self.index

    def sync(self) -> SyncReport:
        """Apply what changed in the store since this machine's index last looked."""
        with self._sync_lock:
            started = time.perf_counter()
            report = _sync(self.store, self.index)
            self._checked_at = time.monotonic()
            self.last_sync = SyncReport(**{**vars(report), "seconds": time.perf_counter() - started})
            return self.last_sync

    def _start_background_sync(self) -> None:
        if self._background is not None and self._background.is_alive():
            return
        self._background = threading.Thread(target=self._sync_quietly, daemon=True, name="lexical-sync")
        self._background.start()

    def _sync_quietly(self) -> None:
        try:
            self.sync()
        except Exception:  # the search goes on with the index it has; the next check tries again
            _log.warning("the lexical index could not catch up with the store", exc_info=True)

    def wait(self) -> None:
        """Wait for a background sync in progress (tests and benchmarks)."""
        if self._background is not None:
            self._background.join()


def _forget_older_formats(folder: Path) -> None:
    """Delete the files of this index's earlier formats (rebuilt from the store in this one)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        version = path.name.removeprefix("lexical-v").removeprefix("terms-v").split(".")[0]
        if not (
            version.isdigit() and int(version) != FORMAT_VERSION and path.name.startswith(("lexical-v", "terms-v"))
        ):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _article_texts(chunks: Sequence[StoredChunk]) -> dict[str, str]:
    """Each article's text put back together from its chunks (each at its offset; they overlap)."""
    parts: dict[str, list[StoredChunk]] = {}
    for chunk in chunks:
        parts.setdefault(chunk.meta.article_hash, []).append(chunk)
    texts = {}
    for article_hash, pieces in parts.items():
        text = ""
        for chunk in sorted(pieces, key=lambda c: c.meta.start):
            text = text[: chunk.meta.start] + chunk.text
        texts[article_hash] = text
    return texts


def _changed(store: Store, index: LexicalIndex, identity: str, began_at: float) -> tuple[set[str], set[str]] | None:
    """(committed, present) among the articles changed since the last sync, or None when this
    sync must list every hash (none before, another store, or the safety net is due)."""
    last_began, listed_at = index.state("began_at"), index.state("listed_at")
    if last_began is None or listed_at is None or index.state("store") != identity:
        return None
    if began_at - float(listed_at) >= FULL_SYNC_EVERY_S:
        return None
    changed = store.changed_since(float(last_began) - CHANGE_OVERLAP_S)
    return store.committed_among(changed), index.article_hashes(among=changed)


def _sync(store: Store, index: LexicalIndex) -> SyncReport:
    began_at = time.time()
    identity = store.identity()
    changed = _changed(store, index, identity, began_at)
    listed = changed is None
    committed, present = (store.committed_hashes(), index.article_hashes()) if changed is None else changed
    removed = sorted(present - committed)
    todo = sorted(committed - present)
    added_articles = added_chunks = deferred = 0
    if listed or removed or todo:
        with index.terms.writer() as terms:  # every write of this machine's index happens under it
            if listed and index.terms.count() != index.chunk_count():
                # A process died between committing a batch's documents and its rows: rebuild.
                _log.warning("the lexical index's terms and rows differ; rebuilding it from the store")
                with index.writing() as db:
                    index.clear(db, terms)
                    terms.commit()
                removed, todo = [], sorted(committed)
            if removed:
                with index.writing() as db:
                    index.remove_articles(db, terms, removed)
                    terms.commit()
            added_articles, added_chunks, deferred = _add(store, index, terms, todo)
    with index.writing() as db:
        index.mark_synced(db, began_at, identity, listed)
    return SyncReport(added_articles, added_chunks, len(removed), deferred, listed=listed)


def _add(store: Store, index: LexicalIndex, terms: TermWriter, todo: list[str]) -> tuple[int, int, int]:
    """Read these articles' chunks from the store and insert them: (articles, chunks, deferred)."""
    added_articles = added_chunks = deferred = 0
    batches = [todo[begin : begin + SYNC_BATCH_ARTICLES] for begin in range(0, len(todo), SYNC_BATCH_ARTICLES)]
    # The next batch is read from Chroma while this one is tokenised and inserted: on a server the
    # reads wait on the network and the other process, so the two overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lexical-read") as reader:
        ahead = reader.submit(store.committed_chunks, batches[0]) if batches else None
        for number in range(len(batches)):
            assert ahead is not None
            complete, incomplete = ahead.result()
            ahead = reader.submit(store.committed_chunks, batches[number + 1]) if number + 1 < len(batches) else None
            deferred += len(incomplete)
            with index.writing() as db:
                # Another process may have removed some of these articles from the store meanwhile:
                # the change log brings them to the next sync, which deletes their rows.
                added_chunks += index.insert(db, terms, complete)
                terms.commit()  # before the rows: a crash between leaves documents, never rows, alone
            added_articles += len({chunk.meta.article_hash for chunk in complete})
    return added_articles, added_chunks, deferred


def cache_folder(store: Store) -> Path:
    settings = store.settings
    where = (
        "server-" + "".join(c if c.isalnum() else "_" for c in settings.store.chroma_url)
        if settings.store.chroma_url
        else "local"
    )
    return Path(settings.store.home) / "bm25" / where / settings.store.collection


_caches: dict[int, tuple[Store, LexicalCache]] = {}
_caches_lock = threading.Lock()


def shared_lexical(store: Store) -> LexicalCache:
    """This process's lexical cache over ``store``, built on first use (two caches over one
    database would each sync it); the store is held with it, so its id names it for good."""
    with _caches_lock:
        if id(store) not in _caches:
            _caches[id(store)] = (store, LexicalCache(store, cache_folder(store)))
        return _caches[id(store)][1]
