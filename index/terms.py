"""The lexical index's term half: BM25 over tokenised chunks in Tantivy, with the filters' fields.

Why Tantivy (issue 29): SQLite FTS5 scores every chunk that holds a query term, so its top-k
grows with the collection; Tantivy skips blocks of postings that cannot reach the top k (block-max
WAND). ``benchmarks/lexical_1m.py`` measures both on this project's 2-core machines (same tokens,
same BM25 with k1 1.2 and b 0.75; figures in its docstring). On the SQuAD sample the switch left
retrieval as it was (``python -m evals.retrieval``, untuned titles: hybrid recall@5 0.991 both,
MRR 0.939 both). The chunk table, publisher counts, stories and sync state stay in
``index.lexical``'s SQLite database; a document here holds only what a search ranks and filters on.

Writing: Tantivy allows one writer per index and refuses (rather than waits for) a second, in any
process; ``TermIndex.writer()`` therefore first takes a file lock beside the index, so writers on
one machine queue, and holds the writer for a whole sync, so its segments are merged once, at the
end, instead of a segment being left for every batch. Reading: each search reloads the index
(about 0.05 ms), so it sees every commit of every process.

Crash safety rests on the SQLite rows: a batch commits here before its rows commit there, an
article's documents are deleted before they are added (never twice), a search drops a hit whose
chunk the table lacks, and a sync that lists every hash compares the two counts and rebuilds from
Chroma when they differ (``index.lexical``).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import tantivy

from index.records import ChunkFilter, StoredChunk

__all__ = ["TermIndex", "TermWriter"]

WRITER_HEAP_BYTES = 64 * 2**20
"""Tantivy's indexing memory before it writes a segment (one thread)."""


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article_id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("publisher", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published_lo", indexed=True, fast=True)
    builder.add_integer_field("published_hi", indexed=True, fast=True)
    # Tokens come already cut, lower-cased and stemmed by ``index.lexical.tokenize``.
    builder.add_text_field("tokens", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


class TermWriter:
    """The machine's one writer, inside ``TermIndex.writer()``."""

    def __init__(self, index: Any) -> None:
        self._writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)

    def add(self, chunks: Sequence[StoredChunk], tokens: Sequence[Sequence[str]]) -> None:
        """Index these chunks (whole articles); any earlier documents of their articles go first."""
        for article_hash in dict.fromkeys(chunk.meta.article_hash for chunk in chunks):
            self._writer.delete_documents_by_term("article", article_hash)
        for chunk, terms in zip(chunks, tokens, strict=True):
            meta = chunk.meta
            self._writer.add_document(
                tantivy.Document(
                    chunk_id=chunk.id,
                    article=meta.article_hash,
                    article_id=meta.article_id,
                    publisher=meta.publisher,
                    published_lo=meta.published_lo,
                    published_hi=meta.published_hi,
                    tokens=" ".join(terms),
                )
            )

    def remove(self, article_hashes: Sequence[str]) -> None:
        for article_hash in article_hashes:
            self._writer.delete_documents_by_term("article", article_hash)

    def clear(self) -> None:
        self._writer.delete_all_documents()

    def commit(self) -> None:
        """Make what was added and removed searchable (before the SQLite rows commit)."""
        self._writer.commit()

    def rollback(self) -> None:
        """Drop what was added and removed since the last commit."""
        self._writer.rollback()

    def close(self) -> None:
        """Finish merging the segments and release the writer."""
        self._writer.wait_merging_threads()


class TermIndex:
    """BM25 search over chunk documents in a Tantivy index folder. Thread-safe for searching."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.schema = _schema()
        with self._locked():  # two processes creating the index at once would race on its meta file
            self._index = tantivy.Index(self.schema, path=str(folder), reuse=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.folder.parent / f"{self.folder.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writer(self) -> Iterator[TermWriter]:
        """This machine's one writer, waiting for another process's to finish (a file lock)."""
        with self._locked():
            writer = TermWriter(self._index)
            try:
                yield writer
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.close()

    def count(self) -> int:
        """How many chunk documents the index holds."""
        self._index.reload()
        return int(self._index.searcher().num_docs)

    def top(self, terms: Sequence[str], n: int, where: ChunkFilter) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``n`` best chunks ``where`` accepts, best first."""
        query = self._query(terms, self._filter(where))
        return self._search(query, n) if query is not None and n > 0 else []

    def scores(self, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 score of each of ``chunk_ids`` (those without a query term are left out); the
        same scores ``top`` gives, since a filter adds nothing to a score."""
        only = tantivy.Query.term_set_query(self.schema, "chunk_id", list(chunk_ids))
        query = self._query(terms, [only])
        return dict(self._search(query, len(chunk_ids))) if query is not None and chunk_ids else {}

    def _search(self, query: Any, n: int) -> list[tuple[str, float]]:
        self._index.reload()
        searcher = self._index.searcher()
        return [
            (searcher.doc(address)["chunk_id"][0], float(score)) for score, address in searcher.search(query, n).hits
        ]

    def _query(self, terms: Sequence[str], filters: list[Any]) -> Any | None:
        """Any of the terms, ranked by BM25, among the documents every filter accepts."""
        if not terms:
            return None
        any_term = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "tokens", term)) for term in terms]
        )
        if not filters:
            return any_term
        unscored = [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, any_term), *unscored])

    def _filter(self, where: ChunkFilter) -> list[Any]:
        """The filter as Tantivy queries (the same test as ``ChunkFilter.accepts``)."""
        clauses: list[Any] = []
        if where.publishers:
            clauses.append(tantivy.Query.term_set_query(self.schema, "publisher", list(where.publishers)))
        if where.article_ids:
            clauses.append(tantivy.Query.term_set_query(self.schema, "article_id", list(where.article_ids)))
        dated: list[Any] = []
        if where.published_from is not None:
            dated.append(self._range("published_hi", max(1, where.published_from), None))
        if where.published_to is not None:
            dated.append(self._range("published_lo", 1, max(1, where.published_to)))
        if dated:
            within = (
                dated[0] if len(dated) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in dated])
            )
            if where.keep_undated:
                undated = self._range("published_lo", 0, 0)
                within = tantivy.Query.boolean_query([(tantivy.Occur.Should, undated), (tantivy.Occur.Should, within)])
            clauses.append(within)
        return clauses

    def _range(self, field: str, lower: int | None, upper: int | None) -> Any:
        return tantivy.Query.range_query(self.schema, field, tantivy.FieldType.Integer, lower, upper)
