"""From retrieved passages to the few sentences the model sees, numbered as sources.

On a CPU the user waits for the model to read the prompt (about 70 tokens a second here), so the
prompt carries the sentences that matter, not whole chunks. Each source is one sentence with its
exact span in its article: a citation of ``[n]`` then points at a span, not at a whole passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embeddings import MiniLMEmbedder
from index.lexical import tokenize
from index.sentences import split_sentences
from qa.passages import Passage

SOURCE_TOKEN_BUDGET = 110
MAX_SOURCES = 4
MAX_SENTENCE_CHARS = 600


@dataclass(frozen=True)
class Source:
    """One numbered sentence shown to the model."""

    number: int
    text: str
    start: int
    end: int
    """Span of ``text`` in its article."""
    passage: Passage
    score: float

    @property
    def article_id(self) -> str:
        return self.passage.article_id


def sentences_of(passage: Passage) -> list[tuple[int, int]]:
    """Article spans of the passage's sentences (very long ones are cut at a word boundary)."""
    spans = []
    for start, end in split_sentences(passage.text):
        if end - start > MAX_SENTENCE_CHARS:
            cut = passage.text.rfind(" ", start, start + MAX_SENTENCE_CHARS)
            end = cut if cut > start else start + MAX_SENTENCE_CHARS
        spans.append((passage.start + start, passage.start + end))
    return spans


def select_sources(
    question: str,
    passages: Sequence[Passage],
    embedder: MiniLMEmbedder,
    budget_tokens: int = SOURCE_TOKEN_BUDGET,
    max_sources: int = MAX_SOURCES,
) -> list[Source]:
    """The sentences most likely to answer, within a token budget, in reading order."""
    candidates: list[tuple[Passage, int, int, str]] = []
    for passage in passages:
        for start, end in sentences_of(passage):
            text = passage.text[start - passage.start : end - passage.start]
            candidates.append((passage, start, end, text))
    if not candidates:
        return []
    vectors = embedder.embed([question] + [c[3] for c in candidates])
    cosine = vectors[1:] @ vectors[0]
    question_terms = set(tokenize([question])[0])
    overlap = np.array(
        [len(question_terms & set(tokenize([c[3]])[0])) / max(1, len(question_terms)) for c in candidates]
    )
    rank_prior = np.array([1.0 / (1 + 0.25 * (c[0].rank - 1)) for c in candidates])
    scores = (0.5 * cosine + 0.5 * overlap) * rank_prior
    chosen: list[int] = []
    used = 0
    for index in np.argsort(-scores):
        cost = embedder.count_tokens(candidates[index][3])
        if chosen and used + cost > budget_tokens:
            continue
        chosen.append(int(index))
        used += cost
        if len(chosen) >= max_sources:
            break
    chosen.sort(key=lambda i: (candidates[i][0].rank, candidates[i][1]))
    return [
        Source(number, candidates[i][3], candidates[i][1], candidates[i][2], candidates[i][0], float(scores[i]))
        for number, i in enumerate(chosen, 1)
    ]
