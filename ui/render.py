"""HTML and Markdown for the chat: answers, sources with highlighted quotes, and full articles.

All article text is escaped before it is shown: an article is data, never markup.
"""

from __future__ import annotations

from html import escape

from qa.answers import Answer, Citation
from qa.citations import Check
from qa.evidence import Source
from qa.passages import Passage

CSS = """
.cq-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
.cq-source h4 { margin: 0 0 4px 0; font-size: 0.95em; }
.cq-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin-bottom: 4px; }
.cq-passage { font-size: 0.9em; line-height: 1.45; }
.cq-passage mark, .cq-article mark { background: #ffe27a; color: #000; padding: 0 1px; }
.cq-article { white-space: pre-wrap; line-height: 1.5; max-height: 480px; overflow-y: auto; padding: 8px;
  border: 1px solid var(--border-color-primary); border-radius: 8px; }
.cq-abstain { border-left: 4px solid #8a8a8a; padding-left: 8px; }
"""

STATE_NOTE = {
    Check.REATTRIBUTED: "citation corrected: the model cited another source",
    Check.ADDED: "citation added: the model gave none",
}


def meta_line(title: str, publisher: str, published: str, article_id: str) -> str:
    parts = [p for p in (publisher, published) if p]
    return escape(" · ".join([*parts, article_id]))


def highlight(text: str, start: int, end: int, mark_id: str | None = None) -> str:
    """``text`` with ``text[start:end]`` marked; everything escaped."""
    start, end = max(0, start), min(len(text), end)
    attribute = f' id="{mark_id}"' if mark_id else ""
    return f"{escape(text[:start])}<mark{attribute}>{escape(text[start:end])}</mark>{escape(text[end:])}"


def citation_card(citation: Citation) -> str:
    passage = citation.passage
    body = highlight(passage.text, citation.start - passage.start, citation.end - passage.start)
    return (
        f'<div class="cq-source" data-citation="{citation.number}"><h4>[{citation.number}] {escape(citation.title)}</h4>'
        f'<div class="cq-meta">{meta_line(citation.title, citation.publisher, citation.published, citation.article_id)}'
        f" · chars {citation.start}–{citation.end}</div>"
        f'<div class="cq-passage">{body}</div></div>'
    )


def source_cards(sources: list[Source], heading: str) -> str:
    """What retrieval found, shown before the model's first token."""
    if not sources:
        return f"<p><b>{escape(heading)}</b>: nothing relevant was found.</p>"
    cards = []
    for s in sources:
        p = s.passage
        cards.append(
            f'<div class="cq-source"><h4>{escape(p.title)}</h4>'
            f'<div class="cq-meta">{meta_line(p.title, p.publisher, p.published, p.article_id)}</div>'
            f'<div class="cq-passage">{highlight(p.text, s.start - p.start, s.end - p.start)}</div></div>'
        )
    return f"<p><b>{escape(heading)}</b></p>" + "".join(cards)


def passage_cards(passages: list[Passage], heading: str) -> str:
    cards = [
        f'<div class="cq-source"><h4>{escape(p.title)}</h4>'
        f'<div class="cq-meta">{meta_line(p.title, p.publisher, p.published, p.article_id)}</div>'
        f'<div class="cq-passage">{escape(p.text)}</div></div>'
        for p in passages[:3]
    ]
    return f"<p><b>{escape(heading)}</b></p>" + "".join(cards)


def answer_markdown(answer: Answer) -> str:
    """The chat bubble: the checked answer, marks on corrected citations, removed claims shown struck."""
    if answer.abstained:
        lines = [
            f"**{answer.text}**",
            "",
            f"_No answer: {answer.reason}. The closest passages are shown beside the chat._",
        ]
        return "\n".join(lines)
    lines = [answer.text]
    notes = [f"⚠ {STATE_NOTE[s.state]} ({s.text})" for s in answer.sentences if s.state in STATE_NOTE]
    notes += [f"⚠ removed, no source supports it: ~~{d}~~" for d in answer.dropped]
    if notes:
        lines += ["", *[f"<small>{n}</small>" for n in notes]]
    return "\n".join(lines)


def sources_html(answer: Answer) -> str:
    if answer.abstained:
        return passage_cards(answer.passages, "Closest passages (they do not answer the question)")
    return "<p><b>Sources</b></p>" + "".join(citation_card(c) for c in answer.citations)


def article_html(text: str, title: str, start: int | None, end: int | None) -> str:
    body = highlight(text, start, end, "cq-cited") if start is not None and end is not None else escape(text)
    return f"<h3>{escape(title)}</h3><div class='cq-article'>{body}</div>"
