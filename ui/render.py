"""HTML and Markdown for the chat: answers, sources with highlighted quotes, and full articles.

All article text is escaped before it is shown: an article is data, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from index.dates import reader_date
from qa.answers import Answer, Citation
from qa.citations import Check
from qa.evidence import Source
from qa.passages import Passage

CSS = """
.cq-source { border: 1px solid #d1d5db; border-radius: 8px; padding: 8px 10px; margin: 8px 0 0 0; }
.cq-source.cq-shown, .cq-source:target { outline: 3px solid #1e40af; outline-offset: 1px; }
.cq-title { font-weight: 600; font-size: 0.95em; margin-bottom: 2px; }
.cq-meta { color: #374151; font-size: 0.85em; margin-bottom: 4px; }
.cq-passage { font-size: 0.9em; line-height: 1.45; }
.cq-passage mark, .cq-article mark { background: #ffe27a; color: #000; padding: 0 1px; }
.cq-cite, .cq-open { color: #1e40af; font-weight: 600; text-decoration: underline; cursor: pointer; }
.cq-open { display: inline-block; font-size: 0.85em; margin-top: 4px; }
.cq-heading { font-weight: 600; margin: 8px 0 0 0; }
.cq-why, .cq-progress, .cq-hint { color: #374151; }
.cq-notes { font-size: 0.85em; color: #7c2d12; margin: 4px 0; padding-left: 1.2em; }
.cq-dispute { font-size: 0.9em; color: #7c2d12; background: #fff7ed; border-left: 3px solid #c2410c; padding: 2px 8px; margin: 4px 0; }
.cq-reading { font-size: 0.85em; color: #374151; margin: 2px 0 0 0; padding-left: 1.2em; }
.cq-article { white-space: pre-wrap; line-height: 1.5; max-height: 560px; overflow-y: auto; padding: 8px;
  border: 1px solid #d1d5db; border-radius: 8px; }
.cq-panel-title { font-size: 1.1em; margin: 0; }
#cq-question textarea::placeholder { color: #4b5563; opacity: 1; }
#cq-ask { background: #1e40af; border-color: #1e40af; color: #ffffff; }
footer a, footer button, footer .settings, footer .built-with, footer .show-api { color: #4b5563 !important; }
button[role="tab"].selected { color: #9a3412 !important; }
.cq-offscreen { position: absolute !important; left: -10000px !important; width: 1px !important; height: 1px !important;
  overflow: hidden !important; }
"""

HEAD = """
<script>
// A click on a citation "[n]" (or on "Open the article") shows its source card and opens the
// article at the quote: the server is asked through a hidden box and button (Gradio strips data-*
// attributes from chat messages, so the card's anchor, cq-t<turn>-s<n>, names the citation).
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest("a.cq-cite, a.cq-open") : null;
  if (!link) return;
  event.preventDefault();
  const anchor = (link.getAttribute("href") || "").replace(/^#/, "");
  document.querySelectorAll(".cq-source.cq-shown").forEach((card) => card.classList.remove("cq-shown"));
  const card = document.getElementById(anchor);
  if (card) { card.classList.add("cq-shown"); card.scrollIntoView({block: "nearest"}); }
  const box = document.querySelector("#cq-open-ref textarea, #cq-open-ref input");
  const button = document.querySelector("#cq-open-button");
  if (!box || !button) return;
  box.value = anchor;
  box.dispatchEvent(new Event("input", {bubbles: true}));
  setTimeout(() => button.click(), 60);
});
</script>
"""

STATE_NOTE = {
    Check.REATTRIBUTED: "citation corrected: the model cited another source",
    Check.ADDED: "citation added: the model gave none",
}


def reader_meta(publisher: str, published: str) -> str:
    """ "Reuters · 12 March 2024": the publisher and the date as a reader writes them."""
    return " · ".join(p for p in (publisher, reader_date(published)) if p)


def reader_title(title: str, limit: int = 90) -> str:
    """A title short enough for a card: cut at a word boundary with an ellipsis."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: title.rfind(" ", 0, limit - 1)].rstrip(" ,;:-") + "…"


def highlight(text: str, start: int, end: int, mark_id: str | None = None, show: Callable[[str], str] = escape) -> str:
    """``text`` with ``text[start:end]`` marked; every piece shown through ``show`` (escaped)."""
    start, end = max(0, start), min(len(text), end)
    attribute = f' id="{mark_id}"' if mark_id else ""
    return f"{show(text[:start])}<mark{attribute}>{show(text[start:end])}</mark>{show(text[end:])}"


def citation_card(citation: Citation, turn: int) -> str:
    """A source as a reader sees it: number, title, publisher and date, the quote in its passage,
    and a link that opens the article at the quote. Ids and offsets stay in the API."""
    passage = citation.passage
    body = highlight(passage.text, citation.start - passage.start, citation.end - passage.start, show=text_only)
    return (
        f'<div class="cq-source" id="{citation_anchor(turn, citation.number)}">'
        f'<div class="cq-title">[{citation.number}] {text_only(reader_title(citation.title))}</div>'
        f'<div class="cq-meta">{text_only(reader_meta(citation.publisher, citation.published))}</div>'
        + (f'<div class="cq-meta">Also: {text_only(", ".join(passage.copies))}</div>' if passage.copies else "")
        + f'<div class="cq-passage">{body}</div>'
        f'<a class="cq-open" href="#{citation_anchor(turn, citation.number)}">Open the article at this passage</a>'
        "</div>"
    )


def text_only(text: str) -> str:
    """Model output or article text as plain text in the chat: HTML escaped, and its line breaks
    folded, so the bubble stays one HTML block that neither Markdown nor the browser reads as
    markup. An ``<img onerror=...>`` or a ``**`` in a reply is shown as written."""
    return escape(_SPACE.sub(" ", text), quote=True)


_SPACE = re.compile(r"\s+")
_MARKER = re.compile(r"\[(\d+)\]")


def citation_anchor(turn: int, number: int) -> str:
    return f"cq-t{turn}-s{number}"


def answer_html(answer: Answer, turn: int) -> str:
    """One chat bubble: the checked answer (its text is text), every ``[n]`` a link to its source
    card, then the cards themselves, so each answer keeps its sources (and, on a phone, shows them
    right under it). Corrected and removed claims are marked."""
    scope = (
        f'<p class="cq-why">Searched articles published {text_only(answer.time_scope)}.</p>'
        if answer.time_scope
        else ""
    )
    if answer.abstained:
        body = (
            f'<p class="cq-answer"><strong>{text_only(answer.text)}</strong></p>'
            f'<p class="cq-why">No answer: {text_only(answer.reason)}.</p>'
        )
        return body + scope + passages_block(answer.passages, "Closest passages (they do not answer the question)")
    text = _MARKER.sub(
        lambda m: (
            f'<a class="cq-cite" href="#{citation_anchor(turn, int(m.group(1)))}" '
            f'title="Show source {m.group(1)} and open its article">[{m.group(1)}]</a>'
        ),
        text_only(answer.text),
    )
    notes = [f"citation {STATE_NOTE[s.state]}: {text_only(s.text)}" for s in answer.sentences if s.state in STATE_NOTE]
    notes += [f"removed, no source supports it: <s>{text_only(d)}</s>" for d in answer.dropped]
    parts = [f'<p class="cq-answer">{text}</p>', dispute_html(answer, turn), scope]
    if notes:
        parts.append('<ul class="cq-notes">' + "".join(f"<li>⚠ {n}</li>" for n in notes) + "</ul>")
    cards = "".join(citation_card(c, turn) for c in answer.citations)
    parts.append(f'<div class="cq-sources" role="group" aria-label="Sources of this answer">{cards}</div>')
    return "".join(parts)


def dispute_html(answer: Answer, turn: int) -> str:
    """A mark a reader sees at a glance when the cited sources give different figures: each side,
    by outlet, linked to its source card ("" when they agree)."""
    if not answer.disagreement:
        return ""
    sides = " · ".join(
        f"{text_only(side.publisher or 'another report')}: {text_only(side.words)} "
        f'<a class="cq-cite" href="#{citation_anchor(turn, side.number)}">[{side.number}]</a>'
        for side in answer.disagreement
    )
    return f'<p class="cq-dispute" role="note"><strong>⚖ The sources disagree:</strong> {sides}</p>'


def passages_block(passages: list[Passage], heading: str) -> str:
    cards = "".join(
        f'<div class="cq-source"><div class="cq-title">{text_only(reader_title(p.title))}</div>'
        f'<div class="cq-meta">{text_only(reader_meta(p.publisher, p.published))}</div>'
        f'<div class="cq-passage">{text_only(p.text)}</div></div>'
        for p in passages[:3]
    )
    return (
        f'<div class="cq-sources" role="group" aria-label="{escape(heading)}">'
        f'<p class="cq-heading">{escape(heading)}</p>{cards}</div>'
    )


def progress_html(sources: list[Source] | None = None) -> str:
    """Under the status line of a wait: the articles being read. Never part of the answer (the
    answer replaces the whole message)."""
    if not sources:
        return ""
    titles = list(dict.fromkeys(reader_title(s.passage.title) for s in sources))
    return '<ul class="cq-reading">' + "".join(f"<li>{text_only(t)}</li>" for t in titles) + "</ul>"


def article_html(text: str, title: str, publisher: str, published: str, start: int | None, end: int | None) -> str:
    body = highlight(text, start, end, "cq-cited") if start is not None and end is not None else escape(text)
    meta = reader_meta(publisher, published)
    return (
        f"<h3>{escape(reader_title(title, 160))}</h3>"
        + (f'<p class="cq-meta">{escape(meta)}</p>' if meta else "")
        + f"<div class='cq-article' tabindex='0' aria-label='Article text'>{body}</div>"
    )


ARTICLE_HINT = (
    "<p class='cq-hint'>Click a citation such as [1] in an answer to open its article here, "
    "the quoted passage highlighted.</p>"
)
