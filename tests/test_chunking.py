"""Chunks keep exact spans into their article and fit the embedding model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.chunking import Chunker
from index.embeddings import MAX_TOKENS, shared_embedder
from index.sentences import split_sentences

NEWS_LONG = Path(__file__).parent.parent / "evals" / "data" / "news-long"


@pytest.fixture(scope="module")
def chunker() -> Chunker:
    return Chunker(shared_embedder().count_tokens)


def test_every_chunk_is_an_exact_slice_of_the_seed(chunker: Chunker, seed_text: str) -> None:
    chunks = chunker.split(seed_text, "h")
    assert len(chunks) > 1
    for chunk in chunks:
        assert seed_text[chunk.start : chunk.end] == chunk.text
    covered = "".join(seed_text[c.start : c.end] for c in chunks)
    assert "Zhao Leji" in covered and "©2024 Bloomberg L.P." in covered


def test_chunks_end_on_sentence_boundaries(chunker: Chunker, seed_text: str) -> None:
    for chunk in chunker.split(seed_text, "h")[:-1]:
        assert chunk.text.rstrip().endswith((".", "”", '"'))


def test_no_chunk_exceeds_the_model_limit(chunker: Chunker) -> None:
    embedder = shared_embedder()
    long_text = " ".join(["Supercalifragilistic antidisestablishmentarianism pneumonoultramicroscopic."] * 300)
    texts = [long_text, "x" * 5000]
    # The repository's own long news articles: always there (../shared need not be).
    texts += [json.loads(line)["text"] for line in (NEWS_LONG / "articles.jsonl").open(encoding="utf-8")][:60]
    assert len(texts) == 62
    for text in texts:
        for chunk in chunker.split(text, "h"):
            assert text[chunk.start : chunk.end] == chunk.text
            assert embedder.count_tokens(chunk.text) <= MAX_TOKENS


def test_sentence_spans_skip_abbreviations() -> None:
    text = "Zhao Leji, China’s No. 3 official, met Mr. Kim. They talked."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Zhao Leji, China’s No. 3 official, met Mr. Kim.",
        "They talked.",
    ]
