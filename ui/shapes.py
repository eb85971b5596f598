"""What citeqa's front doors hand to other programs, as named shapes (TypedDicts): the MCP
server's tool results and the web app's API (``/ask``, ``/search``) are the same records, so an
agent and a script see one format, with an output schema for each.
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
    """One passage: ``text`` is exactly the article's characters ``[start, end)``."""

    text: str
    score: float


class CitedSpan(InStory):
    """Citation ``[number]`` of an answer: ``quote`` is exactly the article's ``[start, end)``."""

    number: int
    quote: str


class Disputed(TypedDict):
    """One side where the cited sources disagree on a figure: citation ``[number]`` gives ``words``."""

    number: int
    publisher: str
    words: str


class CheckedAnswer(TypedDict):
    question: str
    text: str
    """The answer with [n] markers, or "The articles don't say." when it abstains."""
    abstained: bool
    reason: str
    citations: list[CitedSpan]
    disagreement: list[Disputed]
    """Where the cited sources give different figures for what was asked, each side (the answer
    states them all); empty when they agree."""


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
    return Hit(**_in_story(passage), text=passage.text, score=float(passage.fused_score))


def checked_answer(answer: Answer) -> CheckedAnswer:
    return CheckedAnswer(
        question=answer.question,
        text=answer.text,
        abstained=answer.abstained,
        reason=answer.reason,
        citations=[CitedSpan(**_in_story(c), number=c.number, quote=c.quote) for c in answer.citations],
        disagreement=[Disputed(number=d.number, publisher=d.publisher, words=d.words) for d in answer.disagreement],
    )
