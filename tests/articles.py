"""Small articles written straight to the store, with made-up vectors (no model): for tests of
the store and the indexes derived from it, where what the text means does not matter."""

from __future__ import annotations

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.store import NewArticle


def two_chunk_article(n: int, words: str, location: str = "") -> NewArticle:
    """Report ``n`` about ``words``: two chunks split at its paragraph break, unit vectors drawn
    from a generator seeded with ``n`` (so the same article always has the same vectors)."""
    text = f"Report {n} on {words}. It was filed on Monday.\n\nA second part about {words} follows here."
    article = Article(id=f"report-{n}", text=text, title=f"Report {n}", location=location or f"r{n}.txt")
    cut = text.index("\n\n")
    chunks = [
        Chunk(article.content_hash, 0, text[:cut], 0, cut),
        Chunk(article.content_hash, 1, text[cut + 2 :], cut + 2, len(text)),
    ]
    vectors = np.random.default_rng(n).standard_normal((2, 384), dtype=np.float32)
    return NewArticle(article, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), [article.location])
