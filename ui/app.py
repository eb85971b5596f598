"""The Gradio web chat: streamed answers with sources a reader can check, and the corpus panel.

Slow work never blocks the page: answers stream through Gradio's queue; the sources appear as
soon as retrieval finishes, before the model's first token; uploads report per file.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from index.articles import SUPPORTED_SUFFIXES
from index.dates import reader_date
from index.embeddings import MODEL_NAME as EMBEDDING_MODEL
from index.errors import CiteqaError
from index.pipeline import Indexer
from qa.answers import Answer, Answerer, Done, Retrieved, Status, Token
from qa.copies import search_by_story
from qa.llm import LLMError
from qa.question_time import parse_as_of
from qa.retriever import Filters, checked_k
from qa.shapes import CheckedAnswer, Hit, checked_answer, hit
from ui import render
from ui.uploads import UploadResult, fetch_and_index, store_and_index

T = TypeVar("T")
EXAMPLES = [
    "Who will head the Chinese delegation to North Korea?",
    "How long will the delegation stay in North Korea?",
    "What did Russia veto at the UN Security Council?",
    "When did Xi Jinping last visit Pyongyang?",
]
UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
ARTICLES_SHOWN = 500
"""Rows of the Articles tab's list (a list of 100k articles was unusable, and read them all)."""
SEND_NOW = "(question, busy) => busy ? [question, question] : ['', question]"
"""Runs in the browser on Enter or "Ask": the question box empties at once and the question goes on
to ``take_question``. The box used to empty when the server's reply came back, up to a second
later (0.6 s seen in Chromium), wiping whatever the reader had started typing meanwhile. While an
answer is being written (the page's busy mark is set) the box keeps the question: it is refused."""
SCROLL_TO_CITATION = (
    "() => { setTimeout(() => document.getElementById('cq-cited')?.scrollIntoView({block: 'center'}), 150); }"
)


class ChatApp:
    """The page's behaviour, kept apart from its layout so that it can be tested and reused."""

    def __init__(self, answerer: Answerer, indexer: Indexer) -> None:
        self.answerer = answerer
        self.indexer = indexer
        self.upload_folder = Path(indexer.settings.store.home) / "uploads"

    # ---- chat ----------------------------------------------------------------------------

    def take_question(self, message: str, busy: bool) -> tuple[Any, str | None, bool, Any]:
        """The server's step of a question the page has sent (``SEND_NOW`` emptied the box
        already): (question box, question to answer, busy, the page's busy mark).

        While an answer is being written a new question is refused with a message and stays in
        the box (put back, should the page have emptied it before it learnt it was busy), so
        nothing typed is lost; a question taken leaves the box to what the reader types next."""
        message = (message or "").strip()
        if not message:
            return gr.skip(), None, busy, gr.skip()
        if busy:
            gr.Warning(
                "An answer is still being written. Your question stays in the box: send it when the answer is done."
            )
            return message, None, busy, gr.skip()
        return gr.skip(), message, True, "busy"

    def respond(
        self,
        message: str | None,
        chat: list[dict[str, Any]],
        turns: list[list[Any]],
        publishers: list[str] | None = None,
        published_from: str = "",
        published_to: str = "",
        as_of: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: yields (chat, turns, busy).

        ``publishers`` and the two dates narrow the search (the reader's "Narrow the question"
        panel); ``as_of`` is the day the question is asked (empty: today), from which "last week"
        is read. A date that is not one comes back as a message in the chat, naming it.

        While the model works the reply shows only what is happening, in words (a status line,
        then the titles of the articles being read); the answer appears once it is checked, so
        nothing shown is ever taken back and citation numbers never change."""
        if not message:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        turn = len(turns) + 1
        chat = [*chat, {"role": "user", "content": f"<p>{render.text_only(message)}</p>"}, _progress("Starting…")]
        yield chat, turns, True
        history = [(q, a) for q, a, *_ in turns]
        sources: list[Any] = []
        words = 0
        filters = Filters(
            publishers=tuple(publishers or ()),
            published_from=(published_from or "").strip() or None,
            published_to=(published_to or "").strip() or None,
        )
        try:
            for event in self.answerer.stream(message, history, filters, parse_as_of(as_of)):
                if isinstance(event, Status):
                    chat[-1] = _progress(event.text, sources)
                    yield chat, turns, True
                elif isinstance(event, Retrieved):
                    sources = event.sources
                elif isinstance(event, Token):
                    words += len(event.text.split())
                    chat[-1] = _progress(f"Writing the answer… {words} word{'s' if words != 1 else ''} so far", sources)
                    yield chat, turns, True
                elif isinstance(event, Done):
                    answer = event.answer
                    chat[-1] = {"role": "assistant", "content": render.answer_html(answer, turn)}
                    turns = [*turns, [message, "" if answer.abstained else answer.text, _citation_refs(answer)]]
                    yield chat, turns, False
        except LLMError as error:
            chat[-1] = _notice(f"⚠ The language model is not answering right now: {error}. Please try again shortly.")
            yield chat, turns, False
        except CiteqaError as error:
            chat[-1] = _notice(f"⚠ {error}")
            yield chat, turns, False

    def open_citation(self, anchor: str, turns: list[list[Any]]) -> str:
        """The full article behind citation ``cq-t<turn>-s<n>``, the cited span highlighted."""
        match = re.fullmatch(r"#?cq-t(\d+)-s(\d+)", (anchor or "").strip())
        if not match:
            return render.ARTICLE_HINT
        turn, number = int(match.group(1)), int(match.group(2))
        if not 1 <= turn <= len(turns):
            return render.ARTICLE_HINT
        for ref in turns[turn - 1][2]:
            if ref["number"] == number:
                found = self.answerer.retriever.article_text(ref["article_id"])
                if found is None:
                    return "<p>This article is no longer in the index.</p>"
                text, article = found
                return render.article_html(
                    text, article.title, article.publisher, article.published, ref["start"], ref["end"]
                )
        return render.ARTICLE_HINT

    # ---- corpus --------------------------------------------------------------------------

    def upload(
        self,
        files: list[Any] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects progress)
    ) -> tuple[list[list[str]], list[list[Any]], str, Any]:
        if not files:
            gr.Warning("Choose one or more files to index first (.txt .md .html .json .jsonl).")
            return self._indexed([])
        progress(0, desc="Indexing the uploaded files")
        pairs = [(Path(str(f)).name, Path(str(f))) for f in files]  # Gradio keeps the browser's name
        results = store_and_index(self.indexer, pairs, self.upload_folder, self.indexer.settings.store.max_file_bytes)
        progress(1, desc="Done")
        return self._indexed(results)

    def fetch(
        self,
        addresses: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects progress)
    ) -> tuple[list[list[str]], list[list[Any]], str, Any]:
        """Index the pages and feeds pasted in the Articles tab: the same per-item results as an upload."""
        if not (addresses or "").strip():
            gr.Warning("Paste one or more web page or feed addresses first, one a line.")
            return self._indexed([])
        progress(0, desc="Fetching the pages and feeds")
        results = fetch_and_index(self.indexer, addresses or "")
        progress(1, desc="Done")
        return self._indexed(results)

    def _indexed(self, results: list[UploadResult]) -> tuple[list[list[str]], list[list[Any]], str, Any]:
        """What the Articles tab shows after indexing: a row per result, the articles, the status
        line and the narrowing panel's publishers."""
        table = [[r.file, r.outcome, r.article, r.detail] for r in results]
        articles = gr.update(value=self.articles_table(), label=self.articles_label())
        return table, articles, self.status(), gr.update(choices=self.publisher_choices())

    def publisher_choices(self) -> list[str]:
        """The publishers of the indexed articles, for the narrowing panel: the list the lexical
        index keeps as articles come and go (reading every article from Chroma for it cost what
        the whole collection costs, at every page load and upload)."""
        return self.indexer.lexical.get().publishers()

    def articles_table(self) -> list[list[Any]]:
        """The first ``ARTICLES_SHOWN`` indexed articles by id, from the lexical index's rows (it
        read every article from Chroma, after every upload: issue 29)."""
        articles = self.indexer.lexical.get().first_articles(ARTICLES_SHOWN)
        return [[render.reader_title(a.title), a.publisher, reader_date(a.published), a.article_id] for a in articles]

    def articles_label(self) -> str:
        total = self.indexer.lexical.get().article_count()
        if total <= ARTICLES_SHOWN:
            return f"Indexed articles ({total:,})"
        return f"Indexed articles: the first {ARTICLES_SHOWN:,} of {total:,} by id (search to find the others)"

    def status(self) -> str:
        store = self.indexer.store
        return (
            f"**Index:** {store.article_count()} articles, {store.chunk_count()} chunks  \n"
            f"**LLM:** {self.answerer.llm.describe()}  \n"
            f"**Embeddings:** {EMBEDDING_MODEL}"
        )

    # ---- API for other tools (Gradio's own API) ---------------------------------------------

    def api_ask(self, question: str, as_of: str = "") -> CheckedAnswer:
        """Answer a question: the checked answer (text with [n] markers, or an abstention and its
        reason) and its citations, each with its article, span and quote (the MCP ``ask`` shape).
        ``as_of`` (YYYY-MM-DD, empty for today) is the day "last week" is read from."""
        with _as_api_error():
            return checked_answer(self.answerer.ask(question, as_of=parse_as_of(as_of)))

    def api_search(self, query: str, k: int = 5, by_story: bool = True) -> list[Hit]:
        """Passages for a query, best first (k from 1 to 50), with their exact spans and scores;
        ``by_story``: one passage per story (copies and earlier versions named in ``also``)."""
        with _as_api_error():
            retriever, k = self.answerer.retriever, checked_k(int(k))
            passages = search_by_story(retriever, query, k) if by_story else retriever.search(query, k=k)
            return [hit(p) for p in passages]


@contextlib.contextmanager
def _as_api_error() -> Iterator[None]:
    """citeqa's own errors reach an API caller as their message (a ``gr.Error``), not a traceback."""
    try:
        yield
    except CiteqaError as error:
        raise gr.Error(str(error), print_exception=False) from error


def _with_real_types(method: Callable[..., T]) -> Callable[..., T]:
    """``method`` with its type hints evaluated: Gradio describes an API endpoint from
    ``inspect.signature``, which under ``from __future__ import annotations`` holds only strings
    (the API page said "Any")."""

    @functools.wraps(method)
    def typed(*args: Any, **kwargs: Any) -> T:
        return method(*args, **kwargs)

    typed.__signature__ = inspect.signature(method, eval_str=True)  # type: ignore[attr-defined]
    return typed


def _citation_refs(answer: Answer) -> list[dict[str, Any]]:
    return [{"number": c.number, "article_id": c.article_id, "start": c.start, "end": c.end} for c in answer.citations]


def _progress(status: str, sources: list[Any] | None = None) -> dict[str, Any]:
    """The reply while the answer is being prepared: a status message, not answer text."""
    return {
        "role": "assistant",
        "content": render.progress_html(sources),
        "metadata": {"title": status, "status": "pending"},
    }


def _notice(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": f'<p class="cq-notice">{render.text_only(text)}</p>'}


def build_app(chat_app: ChatApp, examples: list[str] | None = None) -> gr.Blocks:
    with gr.Blocks(title="citeqa: answers from your news articles", fill_width=True) as demo:
        gr.Markdown(
            "# citeqa\nAsk about the indexed news articles. Every answer cites the passage it came from; "
            "when the articles don't say, citeqa says so."
        )
        turns = gr.State([])
        pending = gr.State(None)
        busy = gr.State(False)
        with gr.Tab("Chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3, elem_id="cq-chat-column"):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=560,
                    elem_id="cq-chat",
                    render_markdown=False,
                    buttons=["copy", "copy_all"],  # no "share": it publishes to Hugging Face and has no name
                    placeholder="Answers appear here, each with its sources under it.",
                )
                question = gr.Textbox(
                    label="Your question",
                    placeholder="Ask about the articles and press Enter",
                    elem_id="cq-question",
                    lines=1,
                    max_lines=4,
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="cq-ask")
                    clear = gr.Button("Clear conversation", elem_id="cq-clear")
                with gr.Accordion("Narrow the question to publishers or dates", open=False, elem_id="cq-narrow"):
                    publishers = gr.Dropdown(
                        choices=chat_app.publisher_choices(),
                        multiselect=True,
                        label="Publishers (none chosen: all)",
                        elem_id="cq-publishers",
                    )
                    with gr.Row():
                        published_from = gr.Textbox(
                            label="Published from", placeholder="YYYY, YYYY-MM or YYYY-MM-DD", elem_id="cq-from"
                        )
                        published_to = gr.Textbox(
                            label="Published until", placeholder="YYYY, YYYY-MM or YYYY-MM-DD", elem_id="cq-to"
                        )
                    as_of = gr.Textbox(
                        label='Asked on ("last week" is read from this day; later articles are left out)',
                        placeholder="YYYY-MM-DD, empty for today",
                        elem_id="cq-as-of",
                    )
                gr.Examples(examples or EXAMPLES, inputs=question, label="Example questions")
            with gr.Column(scale=2, elem_id="cq-article-column"):
                gr.HTML("<h2 class='cq-panel-title'>Article</h2>", elem_id="cq-article-heading")
                article = gr.HTML(render.ARTICLE_HINT, elem_id="cq-article")
                # Filled by the page's script when a citation is clicked (see ``ui.render.HEAD``).
                open_ref = gr.Textbox(
                    label="Citation to open", elem_id="cq-open-ref", elem_classes="cq-offscreen", show_label=False
                )
                open_button = gr.Button("Open", elem_id="cq-open-button", elem_classes="cq-offscreen")
                # The page's side of a question on its way (``SEND_NOW``): what was sent, and
                # whether an answer is being written (read in the browser, set by the server).
                sent_text = gr.Textbox(
                    label="Question sent", elem_id="cq-sent", elem_classes="cq-offscreen", interactive=False
                )
                busy_mark = gr.Textbox(
                    label="Answer being written", elem_id="cq-busy", elem_classes="cq-offscreen", interactive=False
                )
        with gr.Tab("Articles"):
            status = gr.Markdown(chat_app.status(), elem_id="cq-status")
            files = gr.File(
                label="Upload articles (.txt .md .html .json .jsonl)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                elem_id="cq-upload",
            )
            index_button = gr.Button("Index uploaded files", elem_id="cq-index")
            addresses = gr.Textbox(
                label="Web pages or RSS/Atom feeds, one address a line (a feed's new and updated pages are indexed)",
                placeholder="https://example.com/news/story\nhttps://example.com/rss.xml",
                lines=3,
                elem_id="cq-addresses",
            )
            fetch_button = gr.Button("Fetch and index", elem_id="cq-fetch")
            upload_results = gr.Dataframe(
                headers=["file", "result", "article", "detail"], label="Upload results", elem_id="cq-upload-results"
            )
            articles = gr.Dataframe(
                value=chat_app.articles_table(),
                headers=["title", "publisher", "date", "id"],
                label=chat_app.articles_label(),
                elem_id="cq-articles",
            )

        answering = []
        for trigger in (question.submit, ask.click):
            sent = trigger(None, [question, busy_mark], [question, sent_text], js=SEND_NOW, api_visibility="private")
            taken = sent.then(
                chat_app.take_question,
                [sent_text, busy],
                [question, pending, busy, busy_mark],
                api_visibility="private",
            )
            responding = taken.then(
                chat_app.respond,
                [pending, chatbot, turns, publishers, published_from, published_to, as_of],
                [chatbot, turns, busy],
                api_visibility="private",
                concurrency_id="llm",
            )
            responding.then(lambda busy: "busy" if busy else "", busy, busy_mark, api_visibility="private")
            answering.append(responding)
        # Clearing clears everything: messages, follow-up memory, the open article, and an answer
        # still being written (cancelled, so that it cannot write the old conversation back).
        cleared = ([], [], render.ARTICLE_HINT, None, False, "", "")
        reset = [chatbot, turns, article, pending, busy, open_ref, busy_mark]
        clear.click(lambda: cleared, None, reset, api_visibility="private", cancels=answering)
        chatbot.clear(lambda: cleared, None, reset, api_visibility="private", cancels=answering)
        open_button.click(chat_app.open_citation, [open_ref, turns], article, api_visibility="private").then(
            None, None, None, js=SCROLL_TO_CITATION
        )
        index_button.click(
            chat_app.upload, files, [upload_results, articles, status, publishers], api_visibility="private"
        )
        fetch_button.click(
            chat_app.fetch, addresses, [upload_results, articles, status, publishers], api_visibility="private"
        )
        gr.api(_with_real_types(chat_app.api_ask), api_name="ask", concurrency_id="llm")
        gr.api(_with_real_types(chat_app.api_search), api_name="search")
    return demo
