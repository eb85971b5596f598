"""Indexing runs: files -> articles -> chunks -> embeddings -> Chroma, incrementally.

An article is identified by the hash of its text. A location (a file, or a record in a JSON
file) points at one article; re-indexing compares hashes, so unchanged files cost a read and
a hash, a changed file replaces its article, identical texts under two names are stored once,
and ``prune`` drops locations that have vanished from disk.

New articles are embedded in windows that span articles (so batches are full and sorted by
length), then committed one article at a time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from chromadb.errors import ChromaError
from tqdm import tqdm

from index.articles import Article, LoadFailure, estimate_articles, find_files, load_file, location_of, split_location
from index.chunking import Chunk, Chunker
from index.embeddings import MiniLMEmbedder, shared_embedder
from index.feed_stamps import FeedStamps
from index.lexical import LexicalCache, shared_lexical
from index.records import StoredArticle
from index.settings import Settings
from index.store import NewArticle, Store, shared_store
from index.web import FETCH_TIMEOUT_S, FeedItem, fetch_address, fetch_article, fetch_feed, is_url

READ_ALL_FROM_ITEMS = 100
"""A run expected to index this many articles or more reads every manifest record at its start
(``_Known``): at 100k stored articles a whole read costs about 4 s, two lookups an article about
0.05 s, so from about 80 articles on the whole read is the cheaper."""
FEED_ITEMS = 50
"""How many pages a feed is expected to link to, for that estimate."""
WINDOW_CHUNKS = 1024  # embedded together, sorted by length, and committed in one write


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    PRUNED = "pruned"


@dataclass(frozen=True)
class ItemResult:
    """What happened to one article (or one bad file or record)."""

    location: str
    outcome: Outcome
    article_id: str = ""
    title: str = ""
    chunks: int = 0
    reason: str = ""


@dataclass
class IndexReport:
    results: list[ItemResult] = field(default_factory=list)
    repaired: int = 0
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def new_chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.outcome in (Outcome.ADDED, Outcome.UPDATED))

    @property
    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def changed(self) -> bool:
        return any(r.outcome in (Outcome.ADDED, Outcome.UPDATED, Outcome.PRUNED) for r in self.results) or bool(
            self.repaired
        )

    def summary(self) -> str:
        return (
            f"{self.count(Outcome.ADDED)} added, {self.count(Outcome.UPDATED)} updated, "
            f"{self.count(Outcome.UNCHANGED)} unchanged, {self.count(Outcome.FAILED)} failed, "
            f"{self.count(Outcome.PRUNED)} pruned; {self.new_chunks} new chunks in {self.seconds:.1f} s"
        )


@dataclass
class _Pending:
    article: Article
    chunks: list[Chunk]
    previous_hash: str | None
    extra_locations: list[str] = field(default_factory=list)


class Indexer:
    """Holds the store, the model and the chunker across runs (the UI indexes uploads with one)."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        embedder: MiniLMEmbedder | None = None,
        *,
        lexical: LexicalCache | None = None,
    ):
        """Parts not passed are the process's own for these settings (``shared_store``,
        ``shared_lexical``, ``shared_embedder``): never a second copy."""
        self.settings = settings
        self.store = store or shared_store(settings)
        self.embedder = embedder or shared_embedder()
        self.chunker = Chunker(self.embedder.count_tokens)
        self.lexical = lexical or shared_lexical(self.store)

    def index_paths(
        self,
        paths: Iterable[Path | str],
        *,
        prune: bool = False,
        progress: bool = False,
        on_result: Callable[[ItemResult], None] | None = None,
        fetch_timeout_s: float = FETCH_TIMEOUT_S,
        feeds: Iterable[str] = (),
    ) -> IndexReport:
        """Index files, folders, web addresses (``http(s)://``, given as strings: a page, or a feed
        whose pages are indexed, told apart by what the site sends) and the pages that RSS or Atom
        ``feeds`` link to (those already indexed are fetched again only when the feed says they
        changed)."""
        items = list(paths)
        urls = [str(p) for p in items if isinstance(p, str) and is_url(p)]
        files = [Path(p) for p in items if not (isinstance(p, str) and is_url(p))]
        with self.store.indexing_run() as repaired:
            return self._index_paths(files, urls, list(feeds), repaired, prune, progress, on_result, fetch_timeout_s)

    def _index_paths(
        self,
        paths: list[Path],
        urls: list[str],
        feeds: list[str],
        repaired: int,
        prune: bool,
        progress: bool,
        on_result: Callable[[ItemResult], None] | None,
        fetch_timeout_s: float,
    ) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport(repaired=repaired)
        scan = find_files(paths)

        def record(result: ItemResult) -> None:
            report.results.append(result)
            if on_result:
                on_result(result)

        for failure in scan.failures:
            record(ItemResult(failure.location, Outcome.FAILED, reason=failure.reason))
        expected = sum(estimate_articles(p) for p in scan.files) + len(urls)
        run = _Run(self, record, read_everything=prune or expected + FEED_ITEMS * len(feeds) >= READ_ALL_FROM_ITEMS)
        total = expected if progress else None
        with tqdm(total=total, unit="article", disable=not progress, dynamic_ncols=True, desc="Indexing") as bar:
            run.on_item = lambda: (bar.update(1), bar.set_postfix_str(run.counts(report), refresh=False))
            run.on_chunks = lambda name, done, total: bar.set_postfix_str(f"{name}: {done:,}/{total:,} chunks")
            for path in scan.files:
                run.add_file(path)
            for url in urls:
                bar.set_postfix_str(f"fetching {url}")
                run.add_address(url, fetch_timeout_s)
            for feed in feeds:
                bar.set_postfix_str(f"reading the feed {feed}")
                run.add_feed(feed, fetch_timeout_s)
            run.flush()
            run.feed_stamps.save()  # after the pages are stored: a stamp never runs ahead of its page
            bar.set_postfix_str(run.counts(report))
        if prune:
            run.prune([location_of(p) for p in paths], unreadable=scan.unreadable)
        if report.changed:
            self.lexical.refresh()
        report.seconds = time.perf_counter() - started
        return report

    def delete(self, article_ids: Iterable[str]) -> list[ItemResult]:
        """Remove articles by public id (or content hash); unknown ids come back as failures."""
        results = []
        for article_id in article_ids:
            stored = self.store.find_article(article_id)
            if stored is None:
                results.append(ItemResult(article_id, Outcome.FAILED, reason="no indexed article has this id"))
                continue
            self.store.delete_article(stored.hash)
            results.append(ItemResult(article_id, Outcome.PRUNED, stored.id, stored.title))
        if any(r.outcome is Outcome.PRUNED for r in results):
            self.lexical.refresh()
        return results


class _Known:
    """What one indexing run knows of the store: committed articles by content hash and by
    location, each read when first asked for and then kept with the run's own changes.

    Reading every manifest record first cost a one-file upload into 100k articles about 4 s (the
    ids listed in 1.3 s, then their records by id) whatever it indexed (issue 29). Two reads an
    article cost what the run touches instead: one by id, and one by location (``$contains``, 20-50
    ms at 100k articles, a scan of the metadata). Past ``READ_ALL_FROM_ITEMS`` articles in a run
    the scans cost more than one whole read, so a large run, and a pruning run, which must know
    every location under its folders, read everything once as before."""

    def __init__(self, store: Store, read_everything: bool = False) -> None:
        self.store = store
        self._articles: dict[str, StoredArticle | None] = {}
        self._at: dict[str, str | None] = {}
        self._everything_read = False
        if read_everything:
            self.every_location()

    def article(self, article_hash: str) -> StoredArticle | None:
        if article_hash not in self._articles:
            found = None if self._everything_read else self.store.stored_articles([article_hash]).get(article_hash)
            self._articles[article_hash] = found
        return self._articles[article_hash]

    def hash_at(self, location: str) -> str | None:
        if location not in self._at:
            found = None if self._everything_read else self.store.article_at(location)
            self._at[location] = found.hash if found else None
            if found is not None:
                self._articles.setdefault(found.hash, found)
        return self._at[location]

    def put(self, stored: StoredArticle) -> None:
        self._articles[stored.hash] = stored

    def drop(self, article_hash: str) -> None:
        self._articles[article_hash] = None

    def point(self, location: str, article_hash: str | None) -> None:
        self._at[location] = article_hash

    def every_location(self) -> dict[str, str]:
        """Every location and its article: the whole manifest, read once (what this run learnt
        itself comes first)."""
        if not self._everything_read:
            for article_hash, stored in self.store.articles().items():
                self._articles.setdefault(article_hash, stored)
                for location in stored.locations:
                    self._at.setdefault(location, article_hash)
            self._everything_read = True
        return {location: article_hash for location, article_hash in self._at.items() if article_hash is not None}


class _Run:
    """The state of one indexing run."""

    def __init__(self, indexer: Indexer, record: Callable[[ItemResult], None], read_everything: bool = False) -> None:
        self.indexer = indexer
        self.store = indexer.store
        self.record = record
        self.known = _Known(self.store, read_everything)
        self.pending: dict[str, _Pending] = {}
        self.pending_chunks = 0
        self.seen: set[str] = set()
        self.files_with_failures: set[str] = set()
        self.on_item: Callable[[], object] = lambda: None
        self.on_chunks: Callable[[str, int, int], object] = lambda name, done, total: None
        self.feed_stamps = FeedStamps(indexer.settings.store.home)

    def counts(self, report: IndexReport) -> str:
        return (
            f"new={len(self.pending) + report.count(Outcome.ADDED) + report.count(Outcome.UPDATED)} "
            f"unchanged={report.count(Outcome.UNCHANGED)} failed={report.count(Outcome.FAILED)}"
        )

    def add_file(self, path: Path) -> None:
        """Index one file; whatever goes wrong with it is reported against it, and the run goes on."""
        try:
            for item in load_file(path, self.indexer.settings.store.max_file_bytes):
                if isinstance(item, LoadFailure):
                    self.files_with_failures.add(location_of(path))
                    self.record(ItemResult(item.location, Outcome.FAILED, reason=item.reason))
                else:
                    self.add_article(item)
                self.on_item()  # after the article, so that a long one is not shown done before it starts
        except Exception as error:  # a reader bug must cost one file, not the run (issue 14)
            self.files_with_failures.add(location_of(path))
            self.record(ItemResult(location_of(path), Outcome.FAILED, reason=f"could not be indexed: {error!r}"))

    def add_address(self, url: str, timeout_s: float) -> None:
        """Index what is at ``url``: a web page, or the pages of a feed (told apart by what the site
        sends); a failure is reported against the URL."""
        found = fetch_address(url, timeout_s=timeout_s, max_bytes=self.indexer.settings.store.max_file_bytes)
        if isinstance(found, list):
            self.add_feed_items(found, timeout_s)
        else:
            self._add_fetched(found)

    def add_feed(self, url: str, timeout_s: float) -> None:
        """Index the pages of the feed at ``url`` (``add_feed_items``); the feed's own failure is
        reported against its URL."""
        items = fetch_feed(url, timeout_s=timeout_s, max_bytes=self.indexer.settings.store.max_file_bytes)
        if isinstance(items, LoadFailure):
            self.record(ItemResult(items.location, Outcome.FAILED, reason=items.reason))
            return
        self.add_feed_items(items, timeout_s)

    def add_feed_items(self, items: list[FeedItem], timeout_s: float) -> None:
        """Index the pages a feed links to that are not indexed yet, and those it says were
        updated since they were fetched (``index.feed_stamps``): a feed read twice fetches only
        its new and changed items."""
        for item in items:
            known = self.known.hash_at(item.link)
            stored = self.known.article(known) if known is not None else None
            if stored is not None and item.stamp in ("", self.feed_stamps.get(item.link)):
                self.record(ItemResult(item.link, Outcome.UNCHANGED, stored.id, stored.title, reason="already indexed"))
                continue
            if self.add_page(item.link, timeout_s, item.published):
                self.feed_stamps.set(item.link, item.stamp)

    def add_page(self, url: str, timeout_s: float, published: str = "") -> bool:
        """Fetch and index one web page; a failure is reported against its URL (and False)."""
        page = fetch_article(
            url, timeout_s=timeout_s, max_bytes=self.indexer.settings.store.max_file_bytes, published=published
        )
        return self._add_fetched(page)

    def _add_fetched(self, page: Article | LoadFailure) -> bool:
        """Index a fetched page, or report why it could not be had (False)."""
        if isinstance(page, LoadFailure):
            self.record(ItemResult(page.location, Outcome.FAILED, reason=page.reason))
        else:
            self.add_article(page)
        self.on_item()
        return not isinstance(page, LoadFailure)

    def add_article(self, article: Article) -> None:
        location = article.location
        self.seen.add(location)
        new_hash = article.content_hash
        previous = self.known.hash_at(location)
        stored = self.known.article(new_hash)
        if stored is not None:
            reason = ""
            if location not in stored.locations:
                if previous is None:
                    reason = f"same text as {stored.id}, stored once"
                places = self.store.add_location(new_hash, location)
                stored = dataclasses.replace(stored, locations=places)
                self.known.put(stored)
                self._detach(location, previous, keep=new_hash)
                self.known.point(location, new_hash)
            outcome = Outcome.UNCHANGED if previous in (None, new_hash) else Outcome.UPDATED
            self.record(ItemResult(location, outcome, stored.id, stored.title, reason=reason))
            return
        if new_hash in self.pending:
            first = self.pending[new_hash]
            first.extra_locations.append(location)
            reason = f"same text as {first.article.id}, stored once"
            self.record(ItemResult(location, Outcome.UNCHANGED, first.article.id, first.article.title, reason=reason))
            return
        chunks = self.indexer.chunker.split(article.text, new_hash)
        if len(chunks) > WINDOW_CHUNKS:
            self.flush()
            self.add_long(article, chunks, previous)
            return
        self.pending[new_hash] = _Pending(article, chunks, previous)
        self.pending_chunks += len(chunks)
        if self.pending_chunks >= WINDOW_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        vectors = self.indexer.embedder.embed([c.text for p in self.pending.values() for c in p.chunks])
        batch: list[NewArticle] = []
        offset = 0
        for item in self.pending.values():
            count = len(item.chunks)
            locations = [item.article.location, *item.extra_locations]
            batch.append(NewArticle(item.article, item.chunks, vectors[offset : offset + count], locations))
            offset += count
        written = self._write(batch)
        for article_hash, new in zip(self.pending, batch, strict=True):
            if article_hash in written:
                previous = self.pending[article_hash].previous_hash
                self._committed(new.article, len(new.chunks), list(new.locations), previous)
        self.pending.clear()
        self.pending_chunks = 0

    def add_long(self, article: Article, chunks: list[Chunk], previous: str | None) -> None:
        """An article longer than a window: embedded and stored a window at a time (memory stays
        that of one window), committed once every window is stored, progress shown per window."""
        try:
            for begin in range(0, len(chunks), WINDOW_CHUNKS):
                window = chunks[begin : begin + WINDOW_CHUNKS]
                vectors = self.indexer.embedder.embed([c.text for c in window])
                self.store.add_chunks([(article, window, vectors)])
                self.on_chunks(article.id, begin + len(window), len(chunks))
            self.store.commit([(article, len(chunks), [article.location])])
        except (ChromaError, ValueError, TypeError) as error:
            self._refused(article, error)
            return
        self._committed(article, len(chunks), [article.location], previous)

    def _committed(self, article: Article, chunk_count: int, locations: list[str], previous: str | None) -> None:
        """Record a committed article in this run's view and report it."""
        article_hash = article.content_hash
        self.known.put(StoredArticle.of(article, chunk_count, tuple(locations)))
        for location in locations:
            self._detach(location, self.known.hash_at(location), keep=article_hash)
            self.known.point(location, article_hash)
        outcome = Outcome.ADDED if previous is None else Outcome.UPDATED
        self.record(ItemResult(article.location, outcome, article.id, article.title, chunk_count))

    def _write(self, batch: list[NewArticle]) -> set[str]:
        """Commit the batch in one write; when the store refuses it, one article at a time, so that
        the article it refuses fails alone. Returns the hashes committed."""
        try:
            self.store.add_articles(batch)
            return {new.article.content_hash for new in batch}
        except (ChromaError, ValueError, TypeError):
            pass
        written = set()
        for new in batch:
            try:
                self.store.add_articles([new])
                written.add(new.article.content_hash)
            except (ChromaError, ValueError, TypeError) as error:
                self._refused(new.article, error)
        return written

    def _refused(self, article: Article, error: Exception) -> None:
        reason = f"the store refused it: {error}"
        self.record(ItemResult(article.location, Outcome.FAILED, article.id, article.title, reason=reason))

    def _detach(self, location: str, previous: str | None, keep: str) -> None:
        """A location now points elsewhere: drop it from its old article, and drop the article
        once no location points at it."""
        stored = self.known.article(previous) if previous is not None and previous != keep else None
        if stored is None:
            return
        remaining = self.store.remove_location(stored.hash, location)
        self.known.put(dataclasses.replace(stored, locations=remaining))
        if not remaining:
            self.store.delete_article(stored.hash)
            self.known.drop(stored.hash)

    def prune(self, roots: list[str], unreadable: list[str]) -> None:
        """Drop locations under ``roots`` that this run did not see, unless their file or a folder
        above it failed to load (what cannot be read now must not lose what was indexed from it)."""
        for location, article_hash in self.known.every_location().items():
            if location in self.seen or not _under(location, roots) or _under(location, unreadable):
                continue
            if split_location(location)[0] in self.files_with_failures:
                continue
            stored = self.known.article(article_hash)
            if stored is None:
                continue
            self._detach(location, article_hash, keep="")
            self.known.point(location, None)
            self.record(ItemResult(location, Outcome.PRUNED, stored.id, stored.title))


def _under(location: str, roots: list[str]) -> bool:
    file_part = split_location(location)[0]
    return any(file_part == root or file_part.startswith(root.rstrip("/") + "/") for root in roots)
