"""The Chroma store: the single source of truth for indexed text.

Two collections: ``<name>-chunks`` holds the embedded chunks; ``<name>-articles`` is the manifest,
one record per distinct article (keyed by content hash) holding its full text and metadata.

Consistency without transactions: an article's chunks are written first and its manifest record
last, so the manifest record is the commit mark. Readers ignore chunks whose article has no
manifest record, and ``repair()`` (run at the start of every indexing run) removes them, so a run
killed part-way leaves no half-indexed article and the next run completes the work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.embeddings import CiteqaEmbeddingFunction
from index.metadata import date_bounds
from index.settings import Settings

PAGE = 5000


class StoreUnavailable(RuntimeError):
    """The Chroma database or server cannot be opened or reached."""


@dataclass
class StoredArticle:
    """The manifest record of one distinct article."""

    hash: str
    id: str
    title: str
    source: str
    url: str
    published: str
    chunk_count: int
    locations: list[str] = field(default_factory=list)

    @classmethod
    def from_record(cls, record_id: str, meta: dict[str, Any]) -> StoredArticle:
        return cls(
            hash=record_id,
            id=str(meta.get("article_id", record_id)),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published=str(meta.get("published", "")),
            chunk_count=int(meta.get("chunk_count", 0)),
            locations=json.loads(str(meta.get("locations", "[]"))),
        )


@dataclass
class NewArticle:
    """An article ready to be written: its chunks, their embeddings, and where it was found."""

    article: Article
    chunks: Sequence[Chunk]
    embeddings: np.ndarray
    locations: list[str]


def open_client(settings: Settings) -> Any:
    """An embedded ``PersistentClient`` under the data folder, or an ``HttpClient`` for a server."""
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
            )
        except Exception as error:  # chromadb raises plain exceptions for connection failures
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {settings.chroma_url}: {error}; "
                "start it with `chroma run` or unset CITEQA_CHROMA_URL"
            ) from error
    path = Path(settings.home) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path))


class Store:
    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else open_client(settings)
        name = settings.collection
        self.chunks = self.client.get_or_create_collection(
            f"{name}-chunks",
            embedding_function=CiteqaEmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.manifest = self.client.get_or_create_collection(
            f"{name}-articles", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    # ---- reading -------------------------------------------------------------------------

    def articles(self) -> dict[str, StoredArticle]:
        """Every committed article, keyed by content hash."""
        found: dict[str, StoredArticle] = {}
        for ids, metas in self._pages(self.manifest, include=["metadatas"]):
            for record_id, meta in zip(ids, metas, strict=True):
                found[record_id] = StoredArticle.from_record(record_id, meta or {})
        return found

    def article_text(self, article_hash: str) -> str | None:
        got = self.manifest.get(ids=[article_hash], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def find_article(self, article_id: str) -> StoredArticle | None:
        """Look an article up by its public id, or by its content hash."""
        got = self.manifest.get(where={"article_id": article_id}, include=["metadatas"], limit=1)
        if not got["ids"]:
            got = self.manifest.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return StoredArticle.from_record(got["ids"][0], got["metadatas"][0] or {})

    def chunk_count(self) -> int:
        return self.chunks.count()

    def article_count(self) -> int:
        return self.manifest.count()

    def signature(self) -> str:
        """Changes whenever the set of committed articles changes; derived indexes compare it."""
        import hashlib

        ids = sorted(self._all_ids(self.manifest))
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:24]

    def all_chunks(self) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) of every chunk of a committed article."""
        committed = set(self.articles())
        for ids, docs, metas in self._pages(self.chunks, include=["documents", "metadatas"]):
            for chunk_id, doc, meta in zip(ids, docs, metas, strict=True):
                if meta and meta.get("article_hash") in committed:
                    yield chunk_id, doc, meta

    # ---- writing -------------------------------------------------------------------------

    def add_articles(self, items: Sequence[NewArticle]) -> None:
        """Write the chunks of several articles, then the manifest records that commit them.

        Two writes for the whole batch (each Chroma write costs a commit), and the second one
        commits every article of the batch at once.
        """
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        records: list[dict[str, Any]] = []
        for item in items:
            article = item.article
            lo, hi = date_bounds(article.published)
            shared = {
                "article_hash": article.content_hash,
                "article_id": article.id,
                "title": article.title,
                "source": article.source,
                "published": article.published,
                "published_lo": lo,
                "published_hi": hi,
            }
            ids += [c.id for c in item.chunks]
            documents += [c.text for c in item.chunks]
            metadatas += [{**shared, "chunk_index": c.index, "start": c.start, "end": c.end} for c in item.chunks]
            vectors.append(item.embeddings)
            records.append(
                {
                    **shared,
                    "url": article.url,
                    "chunk_count": len(item.chunks),
                    "locations": json.dumps(sorted(set(item.locations))),
                    "indexed_at": time.time(),
                }
            )
        if not items:
            return
        embeddings = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
        batch = self.client.get_max_batch_size()
        for begin in range(0, len(ids), batch):
            end = begin + batch
            self.chunks.upsert(
                ids=ids[begin:end],
                documents=documents[begin:end],
                embeddings=embeddings[begin:end],
                metadatas=metadatas[begin:end],
            )
        self.manifest.upsert(
            ids=[item.article.content_hash for item in items],
            documents=[item.article.text for item in items],
            embeddings=[[1.0]] * len(items),
            metadatas=records,
        )

    def set_locations(self, article_hash: str, locations: Iterable[str]) -> None:
        self.manifest.update(ids=[article_hash], metadatas=[{"locations": json.dumps(sorted(set(locations)))}])

    def delete_article(self, article_hash: str) -> None:
        """Uncommit first (the manifest record), then remove the chunks."""
        self.manifest.delete(ids=[article_hash])
        self.chunks.delete(where={"article_hash": article_hash})

    def repair(self) -> int:
        """Remove what a killed run left behind: chunks of articles that were never committed,
        and committed articles whose chunks are incomplete. Returns how many articles were removed."""
        committed = self.articles()
        counts: dict[str, int] = {}
        for _ids, metas in self._pages(self.chunks, include=["metadatas"]):
            for meta in metas:
                key = str((meta or {}).get("article_hash", ""))
                counts[key] = counts.get(key, 0) + 1
        removed = 0
        for article_hash in counts.keys() - committed.keys():
            self.chunks.delete(where={"article_hash": article_hash})
            removed += 1
        for article_hash, stored in committed.items():
            if counts.get(article_hash, 0) != stored.chunk_count:
                self.delete_article(article_hash)
                removed += 1
        return removed

    @staticmethod
    def _all_ids(collection: Any) -> list[str]:
        ids: list[str] = []
        while True:
            got = collection.get(include=[], limit=PAGE, offset=len(ids))
            if not got["ids"]:
                return ids
            ids.extend(got["ids"])

    @staticmethod
    def _pages(collection: Any, include: list[str]) -> Iterable[tuple[list[Any], ...]]:
        offset = 0
        while True:
            got = collection.get(include=include, limit=PAGE, offset=offset)
            if not got["ids"]:
                return
            yield (got["ids"], *(got[key] for key in include))
            offset += len(got["ids"])
