"""Articles into chunks with exact character spans.

langchain-text-splitters does the splitting on paragraph, then sentence, then clause boundaries,
with lengths measured in the embedding model's own word pieces. Chunks are kept well under the
model's 256-piece limit: MiniLM was trained on short passages, and short passages keep the
answer prompt short later on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

CHUNK_TOKENS = 160
OVERLAP_TOKENS = 24
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """A slice of an article: ``article_text[start:end] == text``."""

    article_hash: str
    index: int
    text: str
    start: int
    end: int

    @property
    def id(self) -> str:
        return chunk_id(self.article_hash, self.index)


def chunk_id(article_hash: str, index: int) -> str:
    """The id of an article's ``index``-th chunk: the store reads an article's chunks by id with it
    (the manifest record holds the count), and repair counts them from the ids alone."""
    return f"{article_hash}:{index:05d}"


class Chunker:
    def __init__(
        self,
        count_tokens: Callable[[str], int],
        chunk_tokens: int = CHUNK_TOKENS,
        overlap_tokens: int = OVERLAP_TOKENS,
    ) -> None:
        self.count_tokens = count_tokens
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            length_function=count_tokens,
            separators=SEPARATORS,
            keep_separator="end",
            strip_whitespace=True,
        )

    def split(self, text: str, article_hash: str) -> list[Chunk]:
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self.splitter.split_text(text):
            start = _locate(text, piece, cursor)
            chunks.append(Chunk(article_hash, len(chunks), piece, start, start + len(piece)))
            # Overlapping chunks may begin before the previous one ends, never before it begins.
            cursor = start + 1
        return chunks


def _locate(text: str, piece: str, cursor: int) -> int:
    start = text.find(piece, cursor)
    if start < 0:
        start = text.find(piece)
    if start < 0:  # the splitter only removes surrounding white space, so this cannot happen
        raise ValueError(f"chunk not found in its article: {piece[:60]!r}")
    return start
