"""Grounded answers: retrieve, select the sentences that matter, stream the model's reply, then
check every sentence against its sources before the answer is final.

``Answerer.stream`` yields events as they happen (sources first, then tokens, then the checked
answer), so a UI can show the sources before the first token and never blocks on the model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from index.settings import Settings
from qa.citations import Check, CheckedSentence, Verdict, Verifier, answer_confidence
from qa.disagreement import Side, disputed_sides, missing_side
from qa.endpoint import ChatModel
from qa.evidence import Source, select_sources
from qa.forms import SYNTHESIS_MAX_SENTENCES, Form, question_form
from qa.llm import Deadline, LLMError, Usage
from qa.passages import Passage
from qa.prompt import ANSWER_PREFIX, FOUND_PREFIX, build_messages, build_rewrite_messages, with_reply_start
from qa.question_time import about_time, read_question_time, search_in_time

if TYPE_CHECKING:
    from qa.shapes import CheckedAnswer
from qa.retriever import RELEVANT_COSINE, Filters, Retriever
from qa.second_chance import second_chance_sources

NOT_IN_ARTICLES = "The articles don't say."
PASSAGES_PER_QUESTION = 5
ANSWER_MAX_TOKENS = {Form.FACT: 80, Form.SYNTHESIS: 200}
"""Five short cited sentences fit in 200 tokens; a reply that loops stops there."""
_REFERS_BACK = re.compile(
    r"^(and|but|so|also|then|what about|how about)\b|\b(he|she|it|they|them|his|her|its|their|this|that|these|those|there|then)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Citation:
    """One cited span: ``article_text[start:end] == quote``, inside ``passage``. The article's
    id, title, publisher, date and url are the passage's: read them there (or through the
    properties below), not from a copy."""

    number: int
    passage: Passage
    start: int
    end: int
    quote: str

    @property
    def article_id(self) -> str:
        return self.passage.article_id

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def publisher(self) -> str:
        return self.passage.publisher

    @property
    def published(self) -> str:
        return self.passage.published

    @property
    def url(self) -> str:
        return self.passage.url


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    state: Check
    """``verified``, ``reattributed`` or ``added``; unsupported sentences are not kept."""


@dataclass(frozen=True)
class DisputedFigure:
    """One cited source's figure where the answer's sources disagree on what was asked."""

    number: int
    """The citation ``[number]`` of the source."""
    publisher: str
    words: str
    """The figure in the source's words: "some 1,500 residents"."""


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    """The answer with ``[n]`` markers, or ``NOT_IN_ARTICLES`` when it abstains."""
    sentences: list[AnswerSentence]
    citations: list[Citation]
    abstained: bool
    reason: str
    """Why it abstained (empty for an answer)."""
    passages: list[Passage]
    """What retrieval found: under an abstention, the closest passages."""
    dropped: list[str] = field(default_factory=list)
    """Sentences of the model's reply that no source supports (removed from the answer)."""
    raw: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    confidence: float | None = None
    """The model's least confident log probability on its answer's own words (None if not reported)."""
    verdict: Verdict | None = None
    """The sentence-by-sentence check of the model's reply (None when no reply was written)."""
    found: float | None = None
    """The model's probability that the sources hold the answer ("Found: Yes"; None if not reported)."""
    form: Form = Form.FACT
    first_reply: str = ""
    """The model's first reply when the checks rejected it and a second reading of the other
    sources gave this answer ("" when the first reply stood, or the answer was declined)."""
    time_scope: str = ""
    """The time the question named, as searched: "last week (23 November to 30 November 2026)"."""
    disagreement: list[DisputedFigure] = field(default_factory=list)
    """Where the cited sources give different figures for what was asked, each side (the answer
    states them all: ``qa.disagreement``); empty when they agree."""

    def to_dict(self) -> CheckedAnswer:
        """The answer as programs receive it (``qa.shapes.CheckedAnswer``, the one machine shape of
        an answer: ``citeqa ask --json``, the web API and MCP give the same)."""
        from qa.shapes import checked_answer

        return checked_answer(self)


@dataclass(frozen=True)
class _Attempt:
    """One reading of the sources by the model: its "Found" probability, reply and verdict."""

    found: float | None
    raw: str
    confidence: float | None
    verdict: Verdict
    first_token_at: float | None


@dataclass(frozen=True)
class Status:
    """What the answerer is doing now, in words ("Reading 4 sources…"), for a UI to show during
    a wait. Not part of the answer: a UI that shows it must take it away when the answer comes."""

    text: str


@dataclass(frozen=True)
class Retrieved:
    """Retrieval is done: show the sources while the model reads them."""

    standalone_question: str
    passages: list[Passage]
    sources: list[Source]


@dataclass(frozen=True)
class Token:
    """A piece of the model's raw reply. The checked answer (``Done``) may drop sentences of it,
    renumber its citations or abstain instead: a reader's UI shows progress, not these pieces."""

    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer


Event = Status | Retrieved | Token | Done


class Answerer:
    """Questions in, checked and cited answers out. Reuse one instance: it holds the models."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        retriever: Retriever | None = None,
        llm: ChatModel | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        """``llm`` is any ``qa.endpoint.ChatModel``. Parts not passed are the process's own for
        these settings (``qa.parts``): never a second retriever, store or model client."""
        from qa.parts import parts_for  # the composition root builds Answerers too

        self.settings = settings or Settings.from_env()
        self.retriever = retriever or parts_for(self.settings).retriever
        self.llm: ChatModel = llm or parts_for(self.settings).llm
        self.verifier = verifier or Verifier()

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
        as_of: date | None = None,
    ) -> Answer:
        for event in self.stream(question, history, filters, as_of):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover

    def stream(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
        as_of: date | None = None,
    ) -> Iterator[Event]:
        """Events for one question. ``as_of`` is the day it is asked (today when None): "last week"
        is read against it, and no article published after it is used. Raises ``RetrievalError``
        for an empty question or index and ``LLMError`` when the model cannot be reached; both
        carry a message for the user."""
        started = time.perf_counter()
        self.llm.start()  # the embedded model's start-up is not part of any answer's deadline
        deadline = self.llm.deadline()  # one for the whole answer: rewrite, Found step and reply
        rewrite = self.needs_rewrite(question, history)
        if rewrite:
            yield Status("Rewriting the follow-up as a full question…")
        standalone = self.standalone(question, history, deadline, rewrite=rewrite)
        form = question_form(standalone)
        scope = read_question_time(standalone, as_of or date.today()).describe()
        yield Status(f"Searching the articles published {scope}…" if scope else "Searching the articles…")
        passages, sources = self.evidence(standalone, form, filters, as_of)
        retrieved_at = time.perf_counter()
        yield Retrieved(standalone, passages, sources)
        if sources:
            articles = len({s.article_id for s in sources})
            yield Status(f"Reading {_count(len(sources), 'source')} from {_count(articles, 'article')}…")
        if not sources:
            nothing = f"nothing relevant was published {scope}" if scope else "nothing relevant was found"
            answer = self._abstain(question, standalone, passages, nothing, "", started)
            answer.time_scope = scope
            yield Done(answer)
            return
        usage = Usage()
        attempt = yield from self._attempt(standalone, sources, form, deadline, usage)
        first_token_at = attempt.first_token_at
        if not self.verifier.found_enough(attempt.found):
            answer = self._abstain(question, standalone, passages, "the sources do not hold the answer", "", started)
            answer.found, answer.form, answer.time_scope = attempt.found, form, scope
            yield Done(answer)
            return
        retry_sources = second_chance_sources(attempt.verdict, standalone, sources)
        first_reply = ""
        if retry_sources:
            yield Status("The answer did not hold up against its sources; reading the other sources again…")
            try:
                retry = yield from self._attempt(standalone, retry_sources, form, deadline, Usage())
            except LLMError:
                retry = None  # out of time or model trouble: the first verdict stands
            if retry is not None and self.verifier.found_enough(retry.found) and not retry.verdict.abstain:
                first_reply, attempt, sources = attempt.raw, retry, retry_sources
        timings = {
            "retrieval_s": retrieved_at - started,
            "first_token_s": (first_token_at or time.perf_counter()) - started,
            "total_s": time.perf_counter() - started,
        }
        # Reports that disagree on the figure asked for: the side the model left out is added.
        sides = (
            [] if attempt.verdict.abstain else disputed_sides(standalone, sources, attempt.raw, self.retriever.embedder)
        )
        answer = compose_answer(question, standalone, passages, sources, attempt.verdict, attempt.raw, sides)
        answer.timings, answer.prompt_tokens, answer.confidence = timings, usage.prompt_tokens, attempt.confidence
        answer.verdict, answer.found, answer.form = attempt.verdict, attempt.found, form
        answer.first_reply, answer.time_scope = first_reply, scope
        yield Done(answer)

    def _attempt(
        self, standalone: str, sources: list[Source], form: Form, deadline: Deadline, usage: Usage
    ) -> Generator[Event, None, _Attempt]:
        """One try: the "Found" step, then (when the model is sure enough) the reply, streamed as
        tokens, and its check against ``sources``."""
        messages = build_messages(standalone, sources, form)
        found = self.llm.yes_probability(with_reply_start(messages, FOUND_PREFIX), deadline=deadline)
        if not self.verifier.found_enough(found):
            return _Attempt(found, "", None, Verdict(declined=True), None)
        pieces: list[str] = []
        first_token_at = None
        reply = with_reply_start(messages, ANSWER_PREFIX)
        for piece in self.llm.stream(
            reply, max_tokens=ANSWER_MAX_TOKENS[form], usage=usage, logprobs=True, deadline=deadline
        ):
            if first_token_at is None:
                first_token_at = time.perf_counter()
                yield Status("Writing the answer…")
            pieces.append(piece)
            yield Token(piece)
        yield Status("Checking every sentence against its source…")
        raw = "".join(pieces)
        confidence = answer_confidence(usage.tokens, standalone)
        return _Attempt(
            found, raw, confidence, self.verifier.verify(raw, standalone, sources, confidence), first_token_at
        )

    def evidence(
        self,
        standalone: str,
        form: Form = Form.FACT,
        filters: Filters | None = None,
        as_of: date | None = None,
    ) -> tuple[list[Passage], list[Source]]:
        """What the model will be shown for a (standalone) question: the passages retrieval found
        and the numbered source sentences chosen from them. The time the question names ("last
        week", read against ``as_of`` or today) narrows the search; "the latest" prefers the
        newest of the passages about as relevant as the best."""
        passages, when = search_in_time(self.retriever, standalone, PASSAGES_PER_QUESTION, filters, as_of)
        if when.window is not None:
            # A window holds few articles, so the search fills its places with whatever it has: a
            # school-lunch report for "what did the bank decide last week?". Only dated passages
            # close in meaning count then (undated ones were not narrowed: SQuAD's "Today, Warsaw
            # has..."), and none means nothing relevant was published in that time.
            passages = [p for p in passages if not p.published or (p.dense_score or 0.0) >= RELEVANT_COSINE]
        articles = self.retriever.whole_articles(passages)
        in_time = about_time(standalone, when)
        return passages, select_sources(standalone, passages, self.retriever.embedder, form, articles, in_time)

    @staticmethod
    def needs_rewrite(question: str, history: Sequence[tuple[str, str]]) -> bool:
        """Whether a question refers back to the conversation (and the model must rewrite it)."""
        question = " ".join((question or "").split())
        return bool(history and question and (_REFERS_BACK.search(question) or len(question.split()) <= 6))

    def standalone(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        deadline: Deadline | None = None,
        *,
        rewrite: bool | None = None,
    ) -> str:
        """A follow-up ("and until when?") rewritten from the chat history into a full question.
        ``rewrite`` is ``needs_rewrite``'s decision when the caller has already made it."""
        question = " ".join((question or "").split())
        if not (self.needs_rewrite(question, history) if rewrite is None else rewrite):
            return question
        try:
            rewritten = self.llm.complete(
                build_rewrite_messages(history, question), max_tokens=48, deadline=deadline
            ).strip()
        except LLMError:
            rewritten = ""
        rewritten = rewritten.splitlines()[0].strip().strip('"') if rewritten else ""
        if not rewritten or len(rewritten) > 300:
            return f"{history[-1][0]} {question}"
        return rewritten

    @staticmethod
    def _abstain(
        question: str, standalone: str, passages: list[Passage], reason: str, raw: str, started: float | None
    ) -> Answer:
        answer = Answer(question, standalone, NOT_IN_ARTICLES, [], [], True, reason, passages, raw=raw)
        if started is not None:
            elapsed = time.perf_counter() - started
            answer.timings = {"retrieval_s": elapsed, "first_token_s": elapsed, "total_s": elapsed}
        return answer


def compose_answer(
    question: str,
    standalone: str,
    passages: list[Passage],
    sources: list[Source],
    verdict: Verdict,
    raw: str,
    sides: Sequence[Side] = (),
) -> Answer:
    """The answer from a checked reply: its kept sentences with their citations renumbered in
    order of first use, a sentence the model wrote twice kept once, and where the sources disagree
    on the figure asked for (``sides``, from ``qa.disagreement.disputed_sides``) the side the reply
    left out added in its source's words; an abstention when the checks withheld the reply."""
    if verdict.abstain:
        reason = (
            "the sources do not hold the answer"
            if verdict.declined
            else "the answer's claims are not about what was asked"
            if verdict.off_question
            else "the model was unsure of its answer"
            if verdict.unsure
            else "no source supports the model's answer"
        )
        answer = Answerer._abstain(question, standalone, passages, reason, raw, None)
        answer.dropped = [s.text for s in verdict.sentences]
        return answer
    by_number = {s.number: s for s in sources}
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    parts: list[str] = []
    said: set[str] = set()
    kept = _complete_sentences(verdict.kept, raw)[:SYNTHESIS_MAX_SENTENCES]
    other = missing_side(sides, raw)
    if other is not None:  # the other side of a disagreement, in its source's words
        n = other.source.number
        kept = [*kept, CheckedSentence(other.sentence(), (n,), (n,), Check.VERIFIED, 1.0)]
    for checked in kept:
        # The small model sometimes writes one sentence again and again ("Ferries left
        # Larkhaven on Wednesday, October 7, 2026." four times in a timeline): once is enough.
        words = " ".join(re.findall(r"\w+", checked.text.lower()))
        if words in said:
            continue
        said.add(words)
        numbers = []
        for original in checked.sources:
            if original not in renumber:
                renumber[original] = len(renumber) + 1
                citations.append(_citation(renumber[original], by_number[original]))
            numbers.append(renumber[original])
        sentences.append(AnswerSentence(checked.text, tuple(numbers), checked.state))
        body = checked.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?" else "."
        body = body.rstrip(".!?")
        parts.append(body + "".join(f" [{n}]" for n in numbers) + end)
    return Answer(
        question=question,
        standalone_question=standalone,
        text=" ".join(parts),
        sentences=sentences,
        citations=citations,
        abstained=False,
        reason="",
        passages=passages,
        dropped=[s.text for s in verdict.sentences if s.state is Check.UNSUPPORTED],
        raw=raw,
        disagreement=_disputed(sides, renumber),
    )


def _disputed(sides: Sequence[Side], renumber: dict[int, int]) -> list[DisputedFigure]:
    """The sides of a disagreement the answer cites, by their citation numbers (none when fewer
    than two are cited: then the answer shows no dispute)."""
    cited = [
        DisputedFigure(renumber[side.source.number], side.source.passage.publisher, side.words)
        for side in sides
        if side.source.number in renumber
    ]
    return cited if len(cited) > 1 else []


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _complete_sentences(kept: list[CheckedSentence], raw: str) -> list[CheckedSentence]:
    """The kept sentences without a last one that the token limit cut off mid-sentence."""
    if len(kept) > 1 and not re.search(r"[.!?…\]\"”’)]\s*$", raw):
        return kept[:-1]
    return kept


def _citation(number: int, source: Source) -> Citation:
    return Citation(number, source.passage, source.start, source.end, source.text)
