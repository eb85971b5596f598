"""What citeqa hands to other programs, as named shapes (TypedDicts): one for a passage (``Hit``)
and one for an answer (``CheckedAnswer``), whichever door a program comes through. ``citeqa
search --json`` and ``citeqa ask --json``, the web app's API (``/search``, ``/ask``), the MCP
server's tools and the LangChain retriever's metadata are these records, and the eval's result rows
hold them (adding their own fields around them), so an agent, a script and a report read one format.

Before, an answer reached programs in three shapes and a passage in four: the CLI's JSON and MCP's
differed for the same answer (issue 28). They live in ``qa/`` so that ``evals/`` can use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing_extensions import TypedDict

if TYPE_CHECKING:  # the MCP server starts without importing the model's client
    from qa.answers import Answer, Citation
    from qa.passages import Passage

__all__ = [
    "Article",
    "ArticleSpan",
    "CheckedAnswer",
    "CitedSpan",
    "Disputed",
    "Hit",
    "InStory",
    "checked_answer",
    "hit",
]


class ArticleSpan(TypedDict):
    """Characters ``[start, end)`` of an indexed article, and whose article it is."""

    article_id: str
    title: str
    publisher: str
    published: str
    url: str
    start: int
    end: int


class InStory(ArticleSpan):
    """An article's span, and the story the article belongs to: ``story`` names the group of its
    syndicated copies and versions (``index.stories``), ``also`` the other outlets that ran it."""

    story: str
    also: list[str]


class Hit(InStory):
    """One passage: ``text`` is exactly the article's characters ``[start, end)``; ``rank`` from 1;
    ``score`` the fused score (0 unrelated, 1 the best a passage can score), ``dense_score`` the
    cosine of its best chunk and ``lexical_score`` its BM25 score (None when that search did not
    find it)."""

    text: str
    rank: int
    score: float
    dense_score: float | None
    lexical_score: float | None


class CitedSpan(InStory):
    """Citation ``[number]`` of an answer: ``quote`` is exactly the article's ``[start, end)``,
    inside the answer's passage of rank ``passage``."""

    number: int
    quote: str
    passage: int


class Disputed(TypedDict):
    """One side where the cited sources disagree on a figure: citation ``[number]`` gives ``words``."""

    number: int
    publisher: str
    words: str


class CheckedAnswer(TypedDict):
    """An answer after its checks: every ``[n]`` in ``text`` is ``citations``' number ``n``."""

    question: str
    text: str
    """The answer with [n] markers, or "The articles don't say." when it abstains."""
    abstained: bool
    reason: str
    """Why it abstained ("" for an answer)."""
    citations: list[CitedSpan]
    disagreement: list[Disputed]
    """Where the cited sources give different figures for what was asked, each side (the answer
    states them all); empty when they agree."""
    time_scope: str
    """The time the question named, as searched ("last week (26 October 2026 to 4 November
    2026)"); "" when it named none."""
    passages: list[Hit]
    """What retrieval found (under an abstention, the closest passages)."""


class Article(ArticleSpan):
    """An article's text (or the span asked for) and its length in characters."""

    length: int
    text: str


def _span(item: Passage | Citation) -> ArticleSpan:
    """The article and the span of a passage or a citation (both carry the same fields)."""
    return ArticleSpan(
        article_id=item.article_id,
        title=item.title,
        publisher=item.publisher,
        published=item.published,
        url=item.url,
        start=item.start,
        end=item.end,
    )


def _in_story(item: Passage | Citation) -> InStory:
    """The span of a passage or a citation, and its passage's story."""
    passage: Passage = getattr(item, "passage", item)
    return InStory(**_span(item), story=passage.story, also=list(passage.copies))


def hit(passage: Passage) -> Hit:
    return Hit(
        **_in_story(passage),
        text=passage.text,
        rank=passage.rank,
        score=float(passage.fused_score),
        dense_score=passage.dense_score,
        lexical_score=passage.lexical_score,
    )


def checked_answer(answer: Answer) -> CheckedAnswer:
    return CheckedAnswer(
        question=answer.question,
        text=answer.text,
        abstained=answer.abstained,
        reason=answer.reason,
        citations=[
            CitedSpan(**_in_story(c), number=c.number, quote=c.quote, passage=c.passage.rank) for c in answer.citations
        ],
        disagreement=[Disputed(number=d.number, publisher=d.publisher, words=d.words) for d in answer.disagreement],
        time_scope=answer.time_scope,
        passages=[hit(p) for p in answer.passages],
    )
