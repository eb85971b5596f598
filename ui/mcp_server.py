"""citeqa as a tool for agents: an MCP server over stdio (``citeqa mcp``).

Three tools, over the same index and pipeline as the web chat:

- ``search``: passages for a query, best first, with their exact spans (filters: publisher, article
  id, a date range);
- ``ask``: the checked answer, every sentence cited, or an abstention with its reason;
- ``get_article``: an article's text and metadata, or a span of it (where a citation points).

The parts (store, retriever, model) are built on the first call, not at start, so a host's
handshake is instant; the embedded model is the machine's shared server (``qa.model_server``).
Tools run on a worker thread, so the protocol (pings, cancellation) is served while a model
answers, and ``ask`` reports its progress in words. Errors come back as tool errors with citeqa's
plain message, never a traceback.

Built on the ``mcp`` package's ``FastMCP`` (1.x: the line Gradio's own MCP support accepts; Gradio
6.31's built-in endpoint also caps pydantic at 2.12.5, under the 2.14 citeqa pins, so the web app
does not serve one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError

from index.errors import CiteqaError
from index.settings import Settings
from qa.shapes import Article, CheckedAnswer, Hit, checked_answer, hit

T = TypeVar("T")

INSTRUCTIONS = (
    "citeqa answers questions from an index of news articles. Use `ask` for an answer in which every "
    "sentence cites its passage (it says so when the articles don't hold the answer); `search` to read "
    "the passages yourself; `get_article` to open an article, or the span [start, end) a citation gives."
)


def build_server(settings: Settings) -> FastMCP:
    """The MCP server for ``settings``' index (not yet running)."""

    def parts() -> Any:
        """The process's parts, imported and built on the first tool call (chromadb and the
        embedder take seconds to load; a host's handshake should not wait for them)."""
        from qa.parts import parts_for

        return parts_for(settings, progress=True)

    server = FastMCP("citeqa", instructions=INSTRUCTIONS)

    @server.tool()
    async def search(
        query: str,
        k: int = 5,
        publisher: list[str] | None = None,
        article_id: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        by_story: bool = True,
    ) -> list[Hit]:
        """Passages of the indexed news articles for a query, best first (hybrid dense + BM25).

        k: how many (1 to 50). publisher: only these publishers. article_id: only these articles.
        since / until: publication date bounds, YYYY, YYYY-MM or YYYY-MM-DD (undated articles are left out).
        by_story: one passage per story (a syndicated copy or an earlier version gives its place to
        the newest, which lists the other outlets in `also`); false: every copy in its own place.
        """

        def run() -> list[Hit]:
            from qa.copies import search_by_story
            from qa.retriever import Filters, checked_k

            filters = Filters(tuple(publisher or ()), tuple(article_id or ()), since, until)
            retriever = parts().retriever
            passages = (
                search_by_story(retriever, query, checked_k(k), filters)
                if by_story
                else retriever.search(query, k=checked_k(k), filters=filters)
            )
            return [hit(p) for p in passages]

        return await _off_the_loop(run)

    @server.tool()
    async def ask(question: str, ctx: Context, as_of: str | None = None) -> CheckedAnswer:
        """A grounded answer from the indexed news articles: every sentence cites the exact span it
        comes from, checked against it; when the articles don't hold the answer it says so
        (abstained=true, with the reason). Takes seconds to a minute on a CPU.

        as_of: the day the question is asked, YYYY-MM-DD (default today): "last week" is read from
        it and articles published after it are not used."""
        from qa.answers import Done, Status
        from qa.question_time import parse_as_of

        def run() -> CheckedAnswer:
            step = 0
            for event in parts().answerer.stream(question, as_of=parse_as_of(as_of)):
                if isinstance(event, Status):
                    say(step, event.text)
                    step += 1
                elif isinstance(event, Done):
                    return checked_answer(event.answer)
            raise ToolError("the answer ended without a result; ask again")

        def say(step: int, message: str) -> None:
            anyio.from_thread.run(lambda: ctx.report_progress(step, None, message))

        return await _off_the_loop(run)

    @server.tool()
    async def get_article(article_id: str, start: int | None = None, end: int | None = None) -> Article:
        """An indexed article's text and metadata; with start and/or end, only the characters
        [start, end) (the span a citation or search hit gives)."""

        def run() -> Article:
            store = parts().store
            found = store.find_article(article_id)
            text = store.article_text(found.hash) if found is not None else None
            if found is None or text is None:
                raise ToolError(f"no article {article_id!r} is indexed; `search` gives the ids of those that are")
            low, high = start if start is not None else 0, end if end is not None else len(text)
            if not 0 <= low <= high <= len(text):
                raise ToolError(
                    f"the span [{low}, {high}) is outside article {article_id!r}, which has {len(text)} characters"
                )
            return Article(
                article_id=found.id,
                title=found.title,
                publisher=found.publisher,
                published=found.published,
                url=found.url,
                length=len(text),
                start=low,
                end=high,
                text=text[low:high],
            )

        return await _off_the_loop(run)

    return server


async def _off_the_loop(work: Callable[[], T]) -> T:
    """Run ``work`` on a worker thread; citeqa's own errors become tool errors with their message."""
    try:
        return await anyio.to_thread.run_sync(work)
    except CiteqaError as error:
        raise ToolError(str(error)) from error


def serve_stdio(settings: Settings) -> None:
    """Serve MCP on stdin/stdout until the host closes it."""
    build_server(settings).run("stdio")
