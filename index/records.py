"""The named shapes of what the store keeps in Chroma, and the one place their keys are spelled.

Chroma keeps metadata as flat dicts of strings and numbers. Every chunk carries its article's
fields, so that a search can filter on them without a second read; the article's manifest record
carries the same fields and its bookkeeping. Code above the store sees only these shapes:

    ArticleFields   who published an article, when, under which title; its content hash and id
    ChunkMeta       an ArticleFields and the chunk's place in the article: index, start, end
    StoredChunk     a chunk's id, its text and its ChunkMeta
    StoredArticle   a manifest record: ArticleFields, url, chunk count, where it was found
    ChunkFilter     which chunks a search may return (publishers, article ids, a date range)

The publisher is stored under the key ``"source"``: that is the name every existing index was
written with, and renaming the key would make a publisher filter miss every chunk indexed before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from index.articles import Article
from index.metadata import date_bounds

__all__ = ["ArticleFields", "ChunkFilter", "ChunkMeta", "StoredArticle", "StoredChunk"]

PUBLISHER_KEY = "source"
"""Chroma's key for the publisher (see the module docstring)."""


@dataclass(frozen=True)
class ArticleFields:
    """What every chunk of an article and its manifest record carry."""

    article_hash: str
    article_id: str
    title: str = ""
    publisher: str = ""
    published: str = ""
    """ISO-like date as given (``2024``, ``2024-06``, ``2024-06-05``), empty when unknown."""
    published_lo: int = 0
    """First day ``published`` may mean, as YYYYMMDD (0 when unknown): what date filters compare."""
    published_hi: int = 0

    @classmethod
    def of(cls, article: Article) -> ArticleFields:
        lo, hi = date_bounds(article.published)
        return cls(article.content_hash, article.id, article.title, article.publisher, article.published, lo, hi)

    def to_chroma(self) -> dict[str, str | int]:
        return {
            "article_hash": self.article_hash,
            "article_id": self.article_id,
            "title": self.title,
            PUBLISHER_KEY: self.publisher,
            "published": self.published,
            "published_lo": self.published_lo,
            "published_hi": self.published_hi,
        }

    @staticmethod
    def read(meta: dict[str, Any], fallback_hash: str = "") -> dict[str, Any]:
        """The article fields of a Chroma metadata dict, as keyword arguments."""
        return {
            "article_hash": str(meta.get("article_hash") or fallback_hash),
            "article_id": str(meta.get("article_id") or fallback_hash),
            "title": str(meta.get("title") or ""),
            "publisher": str(meta.get(PUBLISHER_KEY) or ""),
            "published": str(meta.get("published") or ""),
            "published_lo": int(meta.get("published_lo") or 0),
            "published_hi": int(meta.get("published_hi") or 0),
        }


@dataclass(frozen=True)
class ChunkMeta(ArticleFields):
    """One chunk's article fields and its span: ``article_text[start:end]`` is the chunk."""

    chunk_index: int = 0
    start: int = 0
    end: int = 0

    def to_chroma(self) -> dict[str, str | int]:
        return {**super().to_chroma(), "chunk_index": self.chunk_index, "start": self.start, "end": self.end}

    @classmethod
    def from_chroma(cls, meta: dict[str, Any] | None) -> ChunkMeta:
        meta = meta or {}
        return cls(
            **ArticleFields.read(meta),
            chunk_index=int(meta.get("chunk_index") or 0),
            start=int(meta.get("start") or 0),
            end=int(meta.get("end") or 0),
        )


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    meta: ChunkMeta


@dataclass(frozen=True)
class StoredArticle(ArticleFields):
    """The manifest record of one distinct article (keyed by ``article_hash``)."""

    url: str = ""
    chunk_count: int = 0
    locations: tuple[str, ...] = field(default_factory=tuple)
    """Where it was found: paths, ``path#record-id`` for JSON records, or URLs."""

    @property
    def hash(self) -> str:
        return self.article_hash

    @property
    def id(self) -> str:
        return self.article_id

    def to_chroma(self) -> dict[str, str | int | list[str]]:
        """Locations are a list, so that ``Store.article_at`` finds an article by one of them
        (``$contains``); Chroma refuses an empty list, so an article found nowhere has none."""
        places = sorted(set(self.locations))
        return {
            **super().to_chroma(),
            "url": self.url,
            "chunk_count": self.chunk_count,
            **({"locations": places} if places else {}),
        }

    @classmethod
    def from_chroma(cls, record_id: str, meta: dict[str, Any] | None) -> StoredArticle:
        meta = meta or {}
        return cls(
            **ArticleFields.read(meta, fallback_hash=record_id),
            url=str(meta.get("url") or ""),
            chunk_count=int(meta.get("chunk_count") or 0),
            locations=_places(meta.get("locations")),
        )

    @classmethod
    def of(cls, article: Article, chunk_count: int = 0, locations: tuple[str, ...] = ()) -> StoredArticle:
        return cls(**vars(ArticleFields.of(article)), url=article.url, chunk_count=chunk_count, locations=locations)


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks a search may return; empty fields do not restrict. Dates are YYYYMMDD bounds:
    a chunk passes when its article's date range meets ``[published_from, published_to]``, and
    articles of unknown date are left out of any date-bounded search unless ``keep_undated``."""

    publishers: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    published_from: int | None = None
    published_to: int | None = None
    keep_undated: bool = False
    """Articles of unknown date pass the date bounds: a window read from a question's words ("last
    week") cannot say that an undated text is not from then; a reader's own date filter can."""

    def __bool__(self) -> bool:
        return bool(self.publishers or self.article_ids or self.published_from or self.published_to)

    def accepts(self, meta: ArticleFields) -> bool:
        if self.publishers and meta.publisher not in self.publishers:
            return False
        if self.article_ids and meta.article_id not in self.article_ids:
            return False
        if self.keep_undated and meta.published_lo == 0:
            return True
        if self.published_from is not None and (meta.published_hi == 0 or meta.published_hi < self.published_from):
            return False
        return not (self.published_to is not None and (meta.published_lo == 0 or meta.published_lo > self.published_to))


def _places(value: Any) -> tuple[str, ...]:
    """Stored locations: a list, or the JSON text of one in records written before issue 29."""
    if isinstance(value, str):
        return tuple(json.loads(value or "[]"))
    return tuple(str(place) for place in value or ())
