"""The lexical half alone at a million articles (five million chunks): issue 29's figures.

    python benchmarks/lexical_1m.py [--articles 1000000] [--queries 60] [--engines fts5,tantivy,citeqa]

Builds each engine's index of synthetic chunks (the vocabulary, lengths and metadata of
``benchmarks/scale.py``, without Chroma: what the lexical index costs by itself) in a temporary
folder and prints, per engine: the cold build rate (chunks/s, tokenising included), top-20 search
p50/p95 over ``--queries`` queries of 3 to 6 words, an incremental sync of 100 changed articles
(50 removed, 50 added, as one sync applies them), the size on disk, and how far the engines'
first ten chunks agree.

- ``fts5``: the SQLite FTS5 term table citeqa had before issue 29, queried as it was (terms only).
- ``tantivy``: the same terms in Tantivy (``index.terms``'s choice of engine), terms only: one
  document per chunk, the same tokens (``index.lexical.tokenize``) and BM25 (k1 1.2, b 0.75).
  Tantivy prunes a disjunction with block-max WAND; FTS5 scores every chunk holding a query term.
- ``citeqa``: ``index.lexical.LexicalIndex`` as it ships: Tantivy terms with the chunk table, the
  publisher counts and story grouping (``index.stories``) in SQLite, one term writer held for the
  whole build as a sync holds it.

Measured here (2 cores), ``--articles 200000`` (1M chunks), fts5 then tantivy: cold build 8,600
and 13,045 chunks/s; top-20 p50/p95 113.1/170.9 ms and 0.9/1.3 ms; a sync of 100 changed articles
0.07 and 0.04 s; 664 and 91 MiB on disk; FTS5's first ten chunks all among Tantivy's first twenty.
``--articles 20000 --engines citeqa``: 3,043 chunks/s (rows and story grouping included), top-20
p50 1.2 ms, a sync of 100 changed articles 0.27 s.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.lexical import LexicalIndex, query_terms, tokenize  # noqa: E402
from index.records import ChunkMeta, StoredChunk  # noqa: E402
from index.terms import TermWriter  # noqa: E402

VOCABULARY = np.array([f"w{n:04d}" for n in range(5000)])  # as benchmarks/scale.py
PUBLISHERS = [f"Publisher {n}" for n in range(20)]
CHUNKS_PER_ARTICLE = 5
WORDS_PER_CHUNK = 60
BATCH_ARTICLES = 500  # as index.lexical.SYNC_BATCH_ARTICLES
TOP = 20


def articles(first: int, count: int, seed: int) -> Iterator[list[StoredChunk]]:
    """Batches of ``BATCH_ARTICLES`` synthetic articles' chunks, with exact spans and metadata."""
    generator = np.random.default_rng(seed)
    for begin in range(first, first + count, BATCH_ARTICLES):
        end = min(first + count, begin + BATCH_ARTICLES)
        words = VOCABULARY[generator.integers(0, len(VOCABULARY), (end - begin, CHUNKS_PER_ARTICLE, WORDS_PER_CHUNK))]
        batch = []
        for offset, article_words in enumerate(words):
            n = begin + offset
            article_hash = f"{n:016x}"
            year, month, day = 2020 + n % 6, 1 + n % 12, 1 + n % 28
            day_number = year * 10000 + month * 100 + day  # YYYYMMDD, as ChunkMeta holds dates
            start = 0
            for index, chunk_words in enumerate(article_words):
                text = " ".join(chunk_words) + "."
                meta = ChunkMeta(
                    article_hash, f"a-{n}", f"a {n}", PUBLISHERS[n % 20], f"{year}-{month:02d}-{day:02d}",
                    day_number, day_number, index, start, start + len(text),
                )  # fmt: skip
                batch.append(StoredChunk(f"{article_hash}:{index}", text, meta))
                start += len(text) + 2
        yield batch


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered):7.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:7.1f} ms"


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


class Fts5:
    name = "fts5 (the term index citeqa had before issue 29)"

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.db = sqlite3.connect(folder / "terms.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, article TEXT)")
        self.db.execute("CREATE INDEX chunks_article ON chunks(article)")
        self.db.execute("CREATE VIRTUAL TABLE terms USING fts5(tokens, tokenize = \"unicode61 tokenchars '_'\")")

    def add(self, chunks: list[StoredChunk]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        for chunk, terms in zip(chunks, tokenize([c.text for c in chunks]), strict=True):
            cursor = self.db.execute(
                "INSERT INTO chunks (chunk_id, article) VALUES (?, ?)", (chunk.id, chunk.meta.article_hash)
            )
            self.db.execute("INSERT INTO terms (rowid, tokens) VALUES (?, ?)", (cursor.lastrowid, " ".join(terms)))
        self.db.execute("COMMIT")

    def remove(self, article_hashes: list[str]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        for article_hash in article_hashes:
            self.db.execute(
                "DELETE FROM terms WHERE rowid IN (SELECT rowid FROM chunks WHERE article = ?)", (article_hash,)
            )
            self.db.execute("DELETE FROM chunks WHERE article = ?", (article_hash,))
        self.db.execute("COMMIT")

    def finish(self) -> None:
        pass

    def top(self, query: str) -> list[str]:
        match = " OR ".join(f'"{term}"' for term in query_terms(query))
        sql = (
            "SELECT c.chunk_id FROM (SELECT rowid AS row, bm25(terms) AS score FROM terms WHERE terms MATCH ? "
            "ORDER BY score LIMIT ?) AS best JOIN chunks c ON c.rowid = best.row ORDER BY best.score"
        )
        return [row[0] for row in self.db.execute(sql, (match, TOP))]


class Citeqa:
    name = "citeqa's LexicalIndex as it ships (Tantivy terms, SQLite rows, stories)"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index = LexicalIndex(folder / "lexical.sqlite3")
        self._writing: contextlib.ExitStack | None = None
        self._terms: TermWriter | None = None

    def _writer(self) -> TermWriter:
        if self._terms is None:  # one writer for a whole build or sync, as ``index.lexical`` holds it
            self._writing = contextlib.ExitStack()
            self._terms = self._writing.enter_context(self.index.terms.writer())
        return self._terms

    def add(self, chunks: list[StoredChunk]) -> None:
        terms = self._writer()
        with self.index.writing() as db:
            self.index.insert(db, terms, chunks)
            terms.commit()

    def remove(self, article_hashes: list[str]) -> None:
        terms = self._writer()
        with self.index.writing() as db:
            self.index.remove_articles(db, terms, article_hashes)
            terms.commit()

    def finish(self) -> None:
        if self._writing is not None:
            self._writing.close()  # merges the segments, releases the writer
        self._writing = self._terms = None

    def top(self, query: str) -> list[str]:
        return [chunk_id for chunk_id, _meta, _score in self.index.top(query, TOP)]


class Tantivy:
    name = "tantivy 0.27 (prototype: terms only)"

    def __init__(self, folder: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field("article", tokenizer_name="raw", index_option="basic")
        builder.add_text_field("tokens", tokenizer_name="whitespace", index_option="freq")
        self.schema = builder.build()
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.index = tantivy.Index(self.schema, path=str(folder))
        self.writer = self.index.writer(heap_size=256 * 2**20, num_threads=1)

    def add(self, chunks: list[StoredChunk]) -> None:
        for chunk, terms in zip(chunks, tokenize([c.text for c in chunks]), strict=True):
            document = self.tantivy.Document(chunk_id=chunk.id, article=chunk.meta.article_hash, tokens=" ".join(terms))
            self.writer.add_document(document)

    def remove(self, article_hashes: list[str]) -> None:
        for article_hash in article_hashes:
            self.writer.delete_documents_by_term("article", article_hash)

    def finish(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index.writer(heap_size=256 * 2**20, num_threads=1)
        self.index.reload()

    def top(self, query: str) -> list[str]:
        terms = query_terms(query)
        if not terms:
            return []
        clauses = [
            (self.tantivy.Occur.Should, self.tantivy.Query.term_query(self.schema, "tokens", term)) for term in terms
        ]
        searcher = self.index.searcher()
        hits = searcher.search(self.tantivy.Query.boolean_query(clauses), TOP).hits
        return [searcher.doc(address)["chunk_id"][0] for _score, address in hits]


def measure(engine: Fts5 | Tantivy | Citeqa, count: int, queries: list[str]) -> list[list[str]]:
    """Prints the engine's figures; returns its top chunks for each query, before the syncs."""
    print(f"\n== {engine.name}: {count:,} articles ({count * CHUNKS_PER_ARTICLE:,} chunks) ==", flush=True)
    started = time.perf_counter()
    for number, batch in enumerate(articles(0, count, seed=1)):
        engine.add(batch)
        if number % 200 == 199:
            done = (number + 1) * BATCH_ARTICLES
            rate = done * CHUNKS_PER_ARTICLE / (time.perf_counter() - started)
            print(f"  {done:,} articles, {rate:,.0f} chunks/s", flush=True)
    engine.finish()
    seconds = time.perf_counter() - started
    print(f"cold build: {count * CHUNKS_PER_ARTICLE / seconds:,.0f} chunks/s ({seconds:.0f} s)", flush=True)
    engine.top(queries[0])
    times = []
    for query in queries:
        begun = time.perf_counter()
        engine.top(query)
        times.append(1000 * (time.perf_counter() - begun))
    print(f"top-{TOP} search: {percentiles(times)}", flush=True)
    found = [engine.top(query) for query in queries]
    syncs = []
    for round_number in range(3):
        removed = [f"{n:016x}" for n in range(round_number * 50, round_number * 50 + 50)]
        begun = time.perf_counter()
        engine.remove(removed)
        for batch in articles(count + round_number * 50, 50, seed=100 + round_number):
            engine.add(batch)
        engine.finish()
        syncs.append(time.perf_counter() - begun)
    print(f"incremental sync of 100 changed articles: {statistics.median(syncs):.2f} s (median of 3)", flush=True)
    print(f"on disk: {folder_mib(engine.folder):,.0f} MiB", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--engines", default="fts5,tantivy,citeqa", help="any of fts5, tantivy, citeqa")
    parser.add_argument("--workdir", type=Path, default=None, help="where the indexes go (default: a temporary folder)")
    args = parser.parse_args()
    generator = np.random.default_rng(7)
    queries = [" ".join(generator.choice(VOCABULARY, generator.integers(3, 7))) for _ in range(args.queries)]
    workdir = Path(tempfile.mkdtemp(prefix="citeqa-lexical-", dir=args.workdir))
    try:
        tops = []
        names = args.engines.split(",")
        for name in names:
            engine = {"fts5": Fts5, "tantivy": Tantivy, "citeqa": Citeqa}[name](workdir / name)
            tops.append(measure(engine, args.articles, queries))
            shutil.rmtree(engine.folder, ignore_errors=True)
        print()
        for (first, a), (second, b) in itertools.combinations(zip(names, tops, strict=True), 2):
            # The same BM25 (k1 1.2, b 0.75) but for the idf of very common terms; synthetic chunks
            # tie often (one occurrence in chunks of one length), and engines break ties apart.
            shared = [len(set(x[:10]) & set(y)) / max(1, len(x[:10])) for x, y in zip(a, b, strict=True)]
            print(f"{first}'s first ten among {second}'s first {TOP}: {statistics.mean(shared):.2f} on average")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
