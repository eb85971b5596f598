"""One story from several outlets: syndicated copies and updated versions among retrieved passages.

A wire story runs word for word under every outlet that buys it, and an "UPDATE 1-" repeats the
first version with a paragraph added. Retrieved side by side they fill the model's few places
with one text and tempt it to cite the same sentence three times as if three reports agreed. Here
the passages of one story become one: the newest version (a later date, else the better rank),
which names the other outlets (``Passage.copies``), so an answer cites it once and the reader sees
who else ran it.

Two passages are the same story when the index grouped their articles into one story when they
were indexed (``index.stories``: whole articles compared, a rewritten update included), or when
nearly all word 4-grams of the shorter passage are in the longer one (``SAME_STORY``): a copy the
lexical index has not grouped yet (it catches up within seconds of another process's write) still
matches. Two reports of one event in their own words are neither (the fixture's two flood reports
share no 4-gram).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from index.metadata import date_bounds
from qa.passages import Passage

if TYPE_CHECKING:
    from qa.retriever import Filters, Retriever

__all__ = ["SAME_STORY", "merge_copies", "same_story", "search_by_story"]

SAME_STORY = 0.8
"""Share of the shorter passage's word 4-grams found in the other for one story."""
_N = 4
_WORD = re.compile(r"\w+")


def _grams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + _N]) for i in range(max(1, len(words) - _N + 1))}


def same_story(a: Passage, b: Passage) -> bool:
    """Whether two passages of different articles carry the same text (a copy or a version)."""
    return a.article_id != b.article_id and _overlap(_grams(a.text), _grams(b.text))


def _overlap(grams_a: set[tuple[str, ...]], grams_b: set[tuple[str, ...]]) -> bool:
    smaller = min(len(grams_a), len(grams_b))
    return smaller > 0 and len(grams_a & grams_b) / smaller >= SAME_STORY


def merge_copies(passages: Sequence[Passage]) -> list[Passage]:
    """The passages with each story once, in rank order: its newest version (the better ranked on
    the same day), carrying the other copies' publishers (or article ids) in ``copies``; ranks
    renumbered."""
    grams = {id(p): _grams(p.text) for p in passages}  # once a passage, not once a pair

    def same(a: Passage, b: Passage) -> bool:
        if a.article_id == b.article_id:
            return False
        return (bool(a.story) and a.story == b.story) or _overlap(grams[id(a)], grams[id(b)])

    stories: list[list[Passage]] = []
    for passage in sorted(passages, key=lambda p: p.rank):
        story = next((s for s in stories if any(same(passage, member) for member in s)), None)
        if story is None:
            stories.append([passage])
        else:
            story.append(passage)
    merged = []
    for rank, story in enumerate(stories, 1):
        kept = max(story, key=lambda p: (date_bounds(p.published)[1], -p.rank))
        named = [name for p in story if p is not kept for name in (p.publisher or p.article_id, *p.copies)]
        others = dict.fromkeys([*kept.copies, *named])
        merged.append(replace(kept, rank=rank, copies=tuple(name for name in others if name != kept.publisher)))
    return merged


def search_by_story(retriever: Retriever, query: str, k: int, filters: Filters | None = None) -> list[Passage]:
    """The ``k`` best passages with each story once (``merge_copies``): when copies of one story
    took several places, the search looks twice as far down so that ``k`` stories fill them. What
    the web API's and MCP's ``search`` give by default, as ``citeqa search`` does."""
    passages = retriever.search(query, k=k, filters=filters)
    merged = merge_copies(passages)
    if len(merged) < len(passages):
        merged = merge_copies(retriever.search(query, k=2 * k, filters=filters))[:k]
    return merged
