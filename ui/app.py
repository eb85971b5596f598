"""The Gradio web chat: streamed answers with sources a reader can check, and the corpus panel.

Slow work never blocks the page: answers stream through Gradio's queue; the sources appear as
soon as retrieval finishes, before the model's first token; uploads report per file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.embeddings import MODEL_NAME as EMBEDDING_MODEL
from index.errors import CiteqaError
from index.pipeline import Indexer
from qa.answers import Answer, Answerer, Done, Retrieved, Token
from qa.llm import LLMError
from qa.retriever import checked_k
from ui import render
from ui.uploads import store_and_index

EXAMPLES = [
    "Who will head the Chinese delegation to North Korea?",
    "How long will the delegation stay in North Korea?",
    "What did Russia veto at the UN Security Council?",
    "When did Xi Jinping last visit Pyongyang?",
]
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl"]
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

    def respond(self, message: str, chat: list[dict[str, Any]], turns: list[list[Any]]) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: yields (chat, sources html, citation choices, turns, textbox)."""
        message = (message or "").strip()
        if not message:
            yield chat, gr.skip(), gr.skip(), turns, ""
            return
        chat = [
            *chat,
            {"role": "user", "content": message},
            {"role": "assistant", "content": "_Searching the articles…_"},
        ]
        yield chat, "", gr.update(choices=[], value=None), turns, ""
        history = [(q, a) for q, a, *_ in turns]
        streamed = ""
        try:
            for event in self.answerer.stream(message, history):
                if isinstance(event, Retrieved):
                    chat[-1]["content"] = "_Reading the sources…_"
                    yield chat, render.source_cards(event.sources, "Sources found"), gr.skip(), turns, ""
                elif isinstance(event, Token):
                    streamed += event.text
                    chat[-1]["content"] = streamed + " ▌"
                    yield chat, gr.skip(), gr.skip(), turns, ""
                elif isinstance(event, Done):
                    answer = event.answer
                    chat[-1]["content"] = render.answer_markdown(answer)
                    turns = [*turns, [message, "" if answer.abstained else answer.text, _citation_refs(answer)]]
                    yield chat, render.sources_html(answer), _choices(answer), turns, ""
        except LLMError as error:
            chat[-1]["content"] = (
                f"⚠ The language model is not answering right now: {error}. "
                "The passages found for your question are shown beside the chat; please try again shortly."
            )
            yield chat, gr.skip(), gr.skip(), turns, ""
        except CiteqaError as error:
            chat[-1]["content"] = f"⚠ {error}"
            yield chat, gr.skip(), gr.skip(), turns, ""

    def open_citation(self, choice: str | None, turns: list[list[Any]]) -> str:
        """The full article behind a citation, the cited span highlighted."""
        if not choice:
            return ""
        for *_rest, refs in reversed(turns):
            for ref in refs:
                if ref["label"] == choice:
                    found = self.answerer.retriever.article_text(ref["article_id"])
                    if found is None:
                        return "<p>This article is no longer in the index.</p>"
                    text, article = found
                    return render.article_html(text, article.title, ref["start"], ref["end"])
        return ""

    # ---- corpus --------------------------------------------------------------------------

    def upload(
        self,
        files: list[Any] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects progress)
    ) -> tuple[list[list[str]], list[list[Any]], str]:
        if not files:
            return [], self.articles_table(), self.status()
        progress(0, desc="Indexing the uploaded files")
        pairs = [(Path(str(f)).name, Path(str(f))) for f in files]  # Gradio keeps the browser's name
        results = store_and_index(self.indexer, pairs, self.upload_folder, self.indexer.settings.store.max_file_bytes)
        progress(1, desc="Done")
        table = [[r.file, r.outcome, r.article, r.detail] for r in results]
        return table, self.articles_table(), self.status()

    def articles_table(self) -> list[list[Any]]:
        articles = sorted(self.indexer.store.articles().values(), key=lambda a: a.id)
        return [[a.id, a.title[:90], a.publisher, a.published, a.chunk_count] for a in articles]

    def status(self) -> str:
        store = self.indexer.store
        return (
            f"**Index:** {store.article_count()} articles, {store.chunk_count()} chunks  \n"
            f"**LLM:** {self.answerer.llm.describe()}  \n"
            f"**Embeddings:** {EMBEDDING_MODEL}"
        )

    # ---- API for other tools (Gradio's own API) ---------------------------------------------

    def api_ask(self, question: str) -> dict[str, Any]:
        """Answer a question; the whole checked answer as JSON."""
        with _as_api_error():
            answer = self.answerer.ask(question)
        return answer.to_dict()

    def api_search(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        """Passages for a query, best first, with exact spans and scores."""
        with _as_api_error():
            return [p.to_dict() for p in self.answerer.retriever.search(query, k=checked_k(int(k)))]


@contextlib.contextmanager
def _as_api_error() -> Iterator[None]:
    """citeqa's own errors reach an API caller as their message (a ``gr.Error``), not a traceback."""
    try:
        yield
    except CiteqaError as error:
        raise gr.Error(str(error), print_exception=False) from error


def _citation_refs(answer: Answer) -> list[dict[str, Any]]:
    return [
        {"label": _label(c.number, c.title, c.start, c.end), "article_id": c.article_id, "start": c.start, "end": c.end}
        for c in answer.citations
    ]


def _label(number: int, title: str, start: int, end: int) -> str:
    return f"[{number}] {title[:60]} (chars {start}–{end})"


def _choices(answer: Answer) -> Any:
    labels = [ref["label"] for ref in _citation_refs(answer)]
    return gr.update(choices=labels, value=None, interactive=bool(labels))


def build_app(chat_app: ChatApp, examples: list[str] | None = None) -> gr.Blocks:
    with gr.Blocks(title="citeqa: answers from your news articles", fill_width=True) as demo:
        gr.Markdown(
            "# citeqa\nAsk about the indexed news articles. Every answer cites the passage it came from; "
            "when the articles don't say, citeqa says so."
        )
        turns = gr.State([])
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="cq-chat")
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
                gr.Examples(examples or EXAMPLES, inputs=question, label="Example questions")
            with gr.Column(scale=2):
                sources = gr.HTML(label="Sources", elem_id="cq-sources")
                cited = gr.Dropdown(
                    label="Open a cited article",
                    choices=[],
                    interactive=True,
                    elem_id="cq-open-citation",
                )
                article = gr.HTML(elem_id="cq-article")
        with gr.Tab("Articles"):
            status = gr.Markdown(chat_app.status(), elem_id="cq-status")
            files = gr.File(
                label="Upload articles (.txt .md .html .json .jsonl)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                elem_id="cq-upload",
            )
            index_button = gr.Button("Index uploaded files", elem_id="cq-index")
            upload_results = gr.Dataframe(
                headers=["file", "result", "article", "detail"], label="Upload results", elem_id="cq-upload-results"
            )
            articles = gr.Dataframe(
                value=chat_app.articles_table(),
                headers=["id", "title", "publisher", "date", "chunks"],
                label="Indexed articles",
                elem_id="cq-articles",
            )

        outputs = [chatbot, sources, cited, turns, question]
        for trigger in (question.submit, ask.click):
            trigger(
                chat_app.respond, [question, chatbot, turns], outputs, api_visibility="private", concurrency_id="llm"
            )
        clear.click(
            lambda: ([], "", gr.update(choices=[], value=None), [], "", ""),
            None,
            [*outputs, article],
            api_visibility="private",
        )
        cited.change(chat_app.open_citation, [cited, turns], article, api_visibility="private").then(
            None, None, None, js=SCROLL_TO_CITATION
        )
        index_button.click(chat_app.upload, files, [upload_results, articles, status], api_visibility="private")
        gr.api(chat_app.api_ask, api_name="ask", concurrency_id="llm")
        gr.api(chat_app.api_search, api_name="search")
    return demo
