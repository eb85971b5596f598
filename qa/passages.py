"""What retrieval returns: passages with exact spans into their articles, and typed errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.errors import CiteqaError

if TYPE_CHECKING:
    from qa.shapes import Hit


class RetrievalError(CiteqaError):
    """Base class of the errors the retriever raises on purpose."""


class EmptyIndexError(RetrievalError):
    def __init__(self) -> None:
        super().__init__(
            "The index is empty: add articles first with `citeqa index PATH...` (for example `citeqa index seeds/`)."
        )


class EmptyQueryError(RetrievalError, ValueError):
    def __init__(self) -> None:
        super().__init__("The question is empty: type a question about the articles.")


class BadFilterError(RetrievalError, ValueError):
    """A filter value that cannot be used (for example a date that is not YYYY, YYYY-MM or YYYY-MM-DD)."""


class BadLimitError(RetrievalError, ValueError):
    """A number of passages a front door will not hand out (``qa.retriever.checked_k``)."""


@dataclass(frozen=True)
class Passage:
    """A span of one article that answers a query, with how it ranked.

    ``text == article_text[start:end]``: a citation can highlight it exactly.
    """

    text: str
    article_id: str
    article_hash: str
    title: str
    publisher: str
    published: str
    url: str
    start: int
    end: int
    rank: int
    fused_score: float
    dense_score: float | None = None
    """Cosine similarity of the best chunk (None when the chunk was found by BM25 alone)."""
    lexical_score: float | None = None
    """BM25 score of the best chunk (None when it was found by the dense search alone)."""
    chunk_ids: tuple[str, ...] = field(default_factory=tuple)
    story: str = ""
    """The story the article belongs to (``index.stories``: its copies and versions share it),
    named by its smallest article hash; the article's own hash until the index has grouped it."""
    copies: tuple[str, ...] = ()
    """Other outlets that ran the same story (syndicated copies, earlier versions), by publisher
    (else article id): every other article of the story the index knows, and the passages
    ``qa.copies.merge_copies`` folded into this one."""

    def to_dict(self) -> Hit:
        """The passage as programs receive it (``qa.shapes.Hit``, the one machine shape of a passage)."""
        from qa.shapes import hit

        return hit(self)
