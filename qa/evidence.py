"""From retrieved passages to the few sentences the model sees, numbered as sources.

On a CPU the user waits for the model to read the prompt (24 to 30 tokens a second for a prompt
it has not seen, on this project's 2-core machines), so the prompt carries the sentences that
matter, not whole chunks. Each source is one sentence with its exact span in its article: a
citation of ``[n]`` then points at a span, not at a whole passage.

The budget, measured on the SQuAD sample's tuning titles (Normans, Steam engine, Harvard
University; 414 answerable questions whose article was retrieved): the sources held a gold
answer for 0.906 at 110 tokens, 0.937 at 150 and 0.954 at 200; weighting the overlap by rarity
or changing the weights moved it by under 1 point. Each 40 tokens costs about a second and a half
before the first token here, so a factoid question gets 150 tokens; a summary or explanation, which
needs more points and writes more anyway, gets 300. (140 and 220 cut the CI run by under 3
minutes, and answers on the untuned SQuAD titles fell from 0.767 to 0.667.)

A news article states its main facts first, so its first sentences (the lede, within
``LEAD_CHARS``) get a bonus (``LEAD_BONUS``), and a summary or an explanation always starts
from the lede of the best-ranked article; a question about "the article" (or story, report)
is answered from that one article alone, so that an unrelated article retrieved beside it, or an
instruction planted in one, has no place in its summary. "Who leads the delegation?" is about
the delegation of the lede, not the one of the last paragraph. On the SQuAD tuning titles the bonus moved evidence
recall by under 1 point either way. Credit lines and copyright notices are never sources.

A long question that sets its scene first ("Owners of cars hit by the braking recall were told
they need not book a garage visit. How will most of them get the repair?") is scored twice, as a
whole and by its ask (``qa.forms.split_scene``), half each (``ASK_WEIGHT``): scored as a whole,
the sentences that retell the scene filled the budget and the one that answers ("the fix will be
sent over the air") was left out. On the tuning sets (news-long-tune and squad-quiz-tune, 64
answerable questions whose article was found) the sources held a gold answer for 0.875 before and
0.922 after; 0.3 gave 0.891 and 0.7 0.922; one-sentence questions are scored as before.

Long articles are read whole (``Retriever.whole_articles``). A quiz question retells its story, so
retrieval matches the article's retelling, and among many similar stories (news-long's 200 articles)
the chunk that holds the asked detail is often not among the passages: "Three mannequins ... sit in the
crew seats" was left out for "What was put in the crew seats instead?". So the sentences of the
retrieved articles outside their passages that share a word with the ask compete too, the
``FURTHER_MOST`` best by shared words (only those are embedded: each sentence costs about 15 ms on
these machines), each shown within its paragraph. A sentence is weighed by the rank of its article
(the order of the articles' best passages), ``1 / (1 + RANK_DECAY * (rank - 1))``: weighed by its
passage's rank instead, the seed's lede lost to its third passage ("Who leads the delegation?"). On
the tuning sets (news-long-tune and squad-quiz-tune, 85 answerable questions, retrieval only) the
sources held a gold answer for 75 before, 77 with whole articles (2, 4 or 8 further sentences alike),
78 with five passages (``PASSAGES_PER_QUESTION`` in ``qa.answers``), and 79 with five passages and
RANK_DECAY 0.5 (0.25: 78, 1.0: 77).

Sources are listed in article order (article id, then position), not by score: questions about
the same articles then share the start of their prompt, which llama.cpp does not read again. A
question about time (a window, "the latest", "when", a timeline) gets them in date order instead,
each article's under its publisher and date (``qa.prompt``), so a timeline reads in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.dates import reader_date
from index.embeddings import MiniLMEmbedder
from index.lexical import query_terms, tokenize
from index.metadata import date_bounds
from index.relative_dates import resolve_relative_dates
from index.sentences import split_sentences
from qa.forms import Form, split_scene
from qa.injection import addresses_the_assistant
from qa.passages import Passage

BUDGETS: dict[Form, tuple[int, int]] = {Form.FACT: (150, 6), Form.SYNTHESIS: (300, 10)}
"""(token budget, most sources) for each form of question."""
MAX_SENTENCE_CHARS = 600
LEAD_CHARS = 400
LEAD_BONUS = 0.2
ASK_WEIGHT = 0.5
FURTHER_MOST = 4
PARAGRAPH_CHARS = 800
RANK_DECAY = 0.5
_ONE_ARTICLE = re.compile(r"\b(the|this|that) (article|story|report|piece|news item)\b", re.IGNORECASE)
_BOILERPLATE = re.compile(
    r"^\W*(with (additional )?assistance from|(additional )?reporting by|editing by|writing by|written by|"
    r"©|\(c\)\s*\d{4}|copyright\b|all rights reserved|to contact the (reporter|editor)|follow us on)",
    re.IGNORECASE,
)


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
    dates: tuple[str, ...] = ()
    """Its relative days as dates ("Thursday: 5 March 2026"), from its article's publication day."""
    in_time: bool = False
    """Shown under its article's publisher and date, in date order: the question is about time
    (``qa.question_time.about_time``)."""

    @property
    def article_id(self) -> str:
        return self.passage.article_id

    @property
    def stated(self) -> str:
        """What the model is shown and an answer is checked against: the sentence, then its dates.

        "The union said on Monday (Monday: 2 March 2026)" lets an answer give the date, and the
        checks find that date in the source it cites."""
        return f"{self.text} ({'; '.join(self.dates)})" if self.dates else self.text

    @property
    def dateline(self) -> str:
        """Who published its article and when, as a reader writes it ("Ledger Markets, 29 October
        2026"; "" when neither is known): shown to the model once above the article's sources."""
        return ", ".join(part for part in (self.passage.publisher, reader_date(self.passage.published)) if part)

    @property
    def attested(self) -> str:
        """What an answer citing this source may state: the sentence, its dates, and who published
        it ("Ledger Markets reported..."). Not the day it was published: a story of 5 October
        says the strike starts "from Wednesday", and "the strike began on 5 October" must not pass
        for being the article's date (the 7th is among its ``dates``)."""
        return f"{self.stated} ({self.passage.publisher})" if self.passage.publisher else self.stated


def sentences_of(passage: Passage) -> list[tuple[int, int]]:
    """Article spans of the passage's sentences (very long ones are cut at a word boundary)."""
    spans = []
    for start, end in split_sentences(passage.text):
        if end - start > MAX_SENTENCE_CHARS:
            cut = passage.text.rfind(" ", start, start + MAX_SENTENCE_CHARS)
            end = cut if cut > start else start + MAX_SENTENCE_CHARS
        spans.append((passage.start + start, passage.start + end))
    return spans


def _sentences(passage: Passage, skip: Sequence[tuple[int, int]] = ()) -> list[tuple[Passage, int, int, str]]:
    """The passage's sentences that may be sources (no credit line, nothing addressed to the
    assistant), leaving out those inside the ``skip`` spans."""
    out = []
    for start, end in sentences_of(passage):
        text = passage.text[start - passage.start : end - passage.start]
        inside = any(low <= start and end <= high for low, high in skip)
        if not inside and not _BOILERPLATE.match(text) and not addresses_the_assistant(text):
            out.append((passage, start, end, text))
    return out


def _further(ask: str, passages: Sequence[Passage], articles: Sequence[Passage]) -> list[tuple[Passage, int, int, str]]:
    """Sentences of the retrieved articles outside their retrieved passages that share a word with
    the ask: the most ``FURTHER_MOST`` by shared words, then by place in the article."""
    asked = set(query_terms(ask))
    scored = []
    for article in articles:
        spans = [(p.start, p.end) for p in passages if p.article_id == article.article_id]
        candidates = _sentences(article, spans)
        terms = tokenize([c[3] for c in candidates]) if candidates else []
        for candidate, words in zip(candidates, terms, strict=True):
            shared = len(asked & set(words))
            if shared:
                scored.append((-shared, article.rank, candidate[1], candidate))
    chosen = [candidate for *_key, candidate in sorted(scored, key=lambda item: item[:3])[:FURTHER_MOST]]
    return [(_paragraph(article, start, end), start, end, text) for article, start, end, text in chosen]


def _paragraph(article: Passage, start: int, end: int) -> Passage:
    """The sentence's paragraph as its passage (at most ``PARAGRAPH_CHARS`` around it): what a
    citation card shows and where the checks find the sentence before it."""
    text = article.text
    low = text.rfind("\n\n", 0, start - article.start)
    high = text.find("\n\n", end - article.start)
    low = article.start + (0 if low < 0 else low + 2)
    high = article.start + (len(text) if high < 0 else high)
    low, high = max(low, start - PARAGRAPH_CHARS // 2), min(high, end + PARAGRAPH_CHARS // 2)
    return replace(article, text=text[low - article.start : high - article.start], start=low, end=high)


def select_sources(
    question: str,
    passages: Sequence[Passage],
    embedder: MiniLMEmbedder,
    form: Form = Form.FACT,
    articles: Sequence[Passage] = (),
    in_time: bool = False,
) -> list[Source]:
    """The sentences most likely to answer, within the form's token budget, in article order (in
    date order when the question is about time: ``in_time``).

    ``articles`` are the passages' articles whole (``Retriever.whole_articles``): their sentences
    outside the passages that share a word with the ask compete too (``FURTHER_MOST`` of them)."""
    budget_tokens, max_sources = BUDGETS[form]
    if form is Form.SYNTHESIS and passages and _ONE_ARTICLE.search(question):
        top = min(passages, key=lambda p: p.rank).article_id
        passages = [p for p in passages if p.article_id == top]
        articles = [a for a in articles if a.article_id == top]
    _scene, ask = split_scene(question)
    candidates = [c for passage in passages for c in _sentences(passage)]
    if articles and form is Form.FACT:
        candidates += _further(ask, passages, articles)
    if not candidates:
        return []
    weighted = [(question, 1.0)] if ask == question else [(question, 1 - ASK_WEIGHT), (ask, ASK_WEIGHT)]
    # The question's vector and terms are those the search computed (each once a question).
    vectors = embedder.embed([c[3] for c in candidates])
    words = [set(terms) for terms in tokenize([c[3] for c in candidates])]
    relevance = np.zeros(len(candidates))
    for text, weight in weighted:
        cosine = vectors @ embedder.embed_query(text)
        asked = set(query_terms(text))
        overlap = np.array([len(asked & w) / max(1, len(asked)) for w in words])
        relevance += weight * (0.5 * cosine + 0.5 * overlap)
    # The prior is the article's: its passages and further sentences share the rank of its best passage.
    by_rank = sorted(passages, key=lambda p: p.rank)
    article_rank = {a: n for n, a in enumerate(dict.fromkeys(p.article_id for p in by_rank), 1)}
    rank_prior = np.array([1.0 / (1 + RANK_DECAY * (article_rank[c[0].article_id] - 1)) for c in candidates])
    lead = np.array([1.0 + LEAD_BONUS if c[1] < LEAD_CHARS else 1.0 for c in candidates])
    scores = relevance * rank_prior * lead
    order = list(np.argsort(-scores))
    if form is Form.SYNTHESIS:  # the best article's lede first, then the rest by score
        top = min(passages, key=lambda p: p.rank).article_id
        order.sort(key=lambda i: not (candidates[i][0].article_id == top and candidates[i][1] < LEAD_CHARS))
    chosen: list[int] = []
    used = 0
    for index in order:
        cost = embedder.count_tokens(candidates[index][3])
        if chosen and used + cost > budget_tokens:
            continue
        chosen.append(int(index))
        used += cost
        if len(chosen) >= max_sources:
            break
    undated = (0, 0)  # every article's day when the question is not about time: article order
    chosen.sort(
        key=lambda i: (
            date_bounds(candidates[i][0].published) if in_time else undated,
            candidates[i][0].article_id,
            candidates[i][1],
        )
    )
    return [
        Source(
            number,
            candidates[i][3],
            candidates[i][1],
            candidates[i][2],
            candidates[i][0],
            float(scores[i]),
            tuple(m.label() for m in resolve_relative_dates(candidates[i][3], candidates[i][0].published)),
            in_time,
        )
        for number, i in enumerate(chosen, 1)
    ]
