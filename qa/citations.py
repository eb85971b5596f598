"""Checking an answer against its sources: the part that makes citations trustworthy.

A small model's ``[n]`` markers are patchy: right claim, wrong number; a number that points
nowhere; no marker at all; or a fluent claim that no source makes. Every sentence of the answer
is checked against the source sentences:

- a cited source that supports the sentence keeps its citation (``verified``);
- a marker whose source does not support it is moved to the source that does (``reattributed``)
  or dropped; a sentence without a marker that a source supports gets one (``added``);
- a sentence no source supports is removed (``unsupported``).

"Supports" is lexical and strict on purpose: the words the answer adds to the question (names,
numbers, facts) must be in the source sentence, every number must be there exactly, and every
name the sentence uses must be one the cited source gives (the entity rule: "Zhao Leji went in
June 2019" citing "President Xi Jinping went in June 2019" is not supported, although the
question was about Zhao Leji). A sentence that adds nothing to the question (an echo of it)
supports nothing. Then the answer as a whole must be about what was asked: the question's names
and numbers must appear in the supporting text, or the answer is withheld. That second check is
what catches the answer that quotes the right passage for a question the passage does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import bm25s.stopwords
import Stemmer

from index.sentences import split_sentences
from qa.evidence import Source
from qa.forms import split_scene
from qa.injection import addresses_the_assistant
from qa.prompt import ABSTAIN_TOKEN

_STEM = Stemmer.Stemmer("english")
_STOP = frozenset(bm25s.stopwords.STOPWORDS_EN) | {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "many",
    "much",
    "did",
    "does",
    "do",
    "according",
    "said",
    "says",
    "source",
    "sources",
    "article",
    "articles",
    "yes",
    "no",
    "found",
    "answer",
}
_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NAME_RUN = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_WHO = re.compile(r"^\W*(who|whom|whose)\b", re.IGNORECASE)
_ASKS_FOR_A_QUANTITY = re.compile(
    r"\b(how (many|much|far|old|big|large|fast|high|tall|deep|heavy|full)|"
    r"what (percentage|proportion|share|number|amount|sum|rate|price|size)|by how much)\b",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(
    r"\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|dozen|half|quarter|third|"
    r"double|twice|once|several|few|a pair)\b",
    re.IGNORECASE,
)
_ASKS_FOR_A_THING = re.compile(r"^\W*(who|whom|whose|which|where|what)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DECLINE = re.compile(
    r"not in (the )?sources|(sources|articles|passages|text) (do|does) not (say|mention|state|contain|provide|specify)|"
    r"(cannot|can't|can not|unable to) (tell|determine|answer|find)|no information|not (mentioned|stated|specified)",
    re.IGNORECASE,
)


_FOUND_NO = re.compile(r"\s*found\s*:\s*no\b", re.IGNORECASE)
_REPLY_HEAD = re.compile(r"^\s*(found\s*:\s*yes\b[.,]?\s*)?(answer\s*:\s*)?", re.IGNORECASE)


class Check(StrEnum):
    VERIFIED = "verified"
    REATTRIBUTED = "reattributed"
    ADDED = "added"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    """The sentence without markers."""
    cited: tuple[int, ...]
    """Source numbers the model wrote."""
    sources: tuple[int, ...]
    """Source numbers that support it after checking (empty when unsupported)."""
    state: Check
    support: float


@dataclass
class Verdict:
    sentences: list[CheckedSentence] = field(default_factory=list)
    declined: bool = False
    """The model itself said the sources do not answer."""
    off_question: bool = False
    """The supported sentences do not address the question's names or numbers."""
    question_coverage: float = 1.0
    confidence: float | None = None
    unsure: bool = False
    """The model hesitated on its answer's own words (see ``Verifier.min_confidence``)."""

    @property
    def kept(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.state is not Check.UNSUPPORTED]

    @property
    def abstain(self) -> bool:
        return self.declined or self.off_question or self.unsure or not self.kept


def terms(text: str) -> set[str]:
    """Stemmed content words, lower case, stop words removed (numbers kept)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return {_STEM.stemWord(w) for w in words if w not in _STOP}


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def names(text: str) -> set[str]:
    """Stemmed capitalised words (people, places, organisations, months): the entities a sentence names."""
    return {_STEM.stemWord(w.lower()) for w in _WORD.findall(text) if w[:1].isupper() and w.lower() not in _STOP}


def claim_names(claim: str, question: str) -> set[str]:
    """The names a claim uses, without its first word when the question has that word and does not
    write it as a name: "Post 2008 students ..." answering "... Post 2008, students are required
    ..." is capitalised by its place in both ("B cells help ..." answering "What do B cells ..." is
    not)."""
    found = names(claim)
    first = next(iter(_WORD.findall(claim)), "")
    stem = _STEM.stemWord(first.lower())
    inside = _names_inside_sentences(question) | names(claim[len(first) :])
    if first and stem in terms(question) and stem not in inside:
        found.discard(stem)
    return found


@lru_cache(maxsize=64)
def _names_inside_sentences(text: str) -> frozenset[str]:
    """Stemmed capitalised words that do not open their sentence: names by spelling, not by place.
    Cached: it is read of the same question for every claim against every source."""
    return frozenset(name for start, end in split_sentences(text) for name in names(text[start:end].split(" ", 1)[-1]))


def key_terms(question: str) -> set[str]:
    """The question's names and numbers: capitalised words after the first, and digits."""
    words = _WORD.findall(question)
    names = {w for w in words[1:] if w[:1].isupper() and w.lower() not in _STOP}
    return {_STEM.stemWord(w.lower()) for w in names} | numbers(question)


def answer_confidence(tokens: Sequence[tuple[str, float]], question: str) -> float | None:
    """The model's least confident step on the words its answer adds to the question.

    The echo of the question ("The delegation will be led by") is always confident; the
    answer's own words are where a model that is guessing hesitates. None without log probabilities.
    """
    if not tokens:
        return None
    asked = terms(question)
    text = ""
    spans = []
    for token, logprob in tokens:
        spans.append((len(text), len(text) + len(token), logprob))
        text += token
    answer_end = text.find("[")
    words = [
        (m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text[: answer_end if answer_end > 0 else len(text)])
    ]
    new_words = [(a, b) for a, b, w in words if w.lower() not in _STOP and _STEM.stemWord(w.lower()) not in asked]
    steps = [lp for a, b, lp in spans if any(a < wb and b > wa for wa, wb in new_words)]
    if not steps:
        steps = [lp for _a, _b, lp in spans]
    return min(steps) if steps else None


def _present(key: str, context: set[str]) -> bool:
    """A name is present when the context has it, or a form of it ("Chinese" for "China")."""
    if key in context or key.isdigit():
        return key in context
    for term in context:
        shared = next((i for i, (a, b) in enumerate(zip(key, term, strict=False)) if a != b), min(len(key), len(term)))
        if shared >= 4 and shared >= min(len(key), len(term)) - 2:
            return True
    return False


def split_answer(raw: str) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence without markers, cited numbers) for each sentence of the model's reply."""
    text = _REPLY_HEAD.sub("", raw.strip(), count=1)
    out: list[tuple[str, tuple[int, ...]]] = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        leading = re.match(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+", sentence)
        if leading and out:  # "...euros. [2]" puts the marker at the start of the next "sentence"
            previous_text, previous_cited = out[-1]
            moved = tuple(int(n) for m in _MARKER.findall(leading.group(0)) for n in re.split(r"[,;]", m))
            out[-1] = (previous_text, previous_cited + moved)
            sentence = sentence[leading.end() :]
        cited = tuple(int(n) for m in _MARKER.findall(sentence) for n in re.split(r"[,;]", m))
        clean = " ".join(_MARKER.sub("", sentence).split())
        if clean.strip(" .") or cited:
            out.append((clean, cited))
    return [(s, c) for s, c in out if s.strip(" .")]


def support(claim: str, question: str, source_text: str, before: str = "", article: str = "") -> float:
    """How much of what the claim adds to the question the source states (0..1).

    What the claim adds must be in the source: 0 when a number or a name it adds is not there, or
    when it adds nothing (an echo). A name or number the claim takes from the question must be
    where the source speaks of it, in the source or the sentence ``before`` it (where "the Russian
    delegation" was introduced as the one "to Pyongyang in July"): "Zhao Leji went in June 2019"
    is not supported by "President Xi Jinping went in June 2019", nor "students paid $57,000 in
    2007" by "for 2012-13 the total cost was $57,000". When the question asks for a thing (who,
    which, where, what) and the claim's answer is a name the source gives, the question's names
    and numbers only say which story it is, and the rest of the ``article`` as shown may carry
    them: "The Gulls won the 2031 Coastal League final" is supported by "The Gulls defeated
    the Pilots in Game 6 to win the title" shown beside "The Gulls finish the 2031 Coastal League
    playoffs"."""
    source_terms = terms(source_text)
    asked_names = names(question)
    claimed = claim_names(claim, question)
    added = claimed - asked_names
    if not numbers(claim) - numbers(question) <= numbers(source_text):
        return 0.0
    if not all(_present(name, source_terms) for name in added):
        return 0.0
    # Numbers as numbers too: "100,000" is the terms "100" and "000" but the number "100000".
    nearby = source_terms | numbers(source_text) | terms(before) | numbers(before)
    if article and added and _ASKS_FOR_A_THING.match(split_scene(question)[1]):
        nearby |= terms(article) | numbers(article)
    shared = (claimed & asked_names) | (numbers(claim) & numbers(question))
    if not all(_present(name, nearby) for name in shared):
        return 0.0
    new = terms(claim) - terms(question)
    if not new:
        return 0.0
    return len(new & source_terms) / len(new)


def only_names_the_asked(claim: str, question: str) -> bool:
    """Does the claim name people or things, all of them already named by the question? For a
    "who" question that is no answer: "Who guided Shoigu's tour?" is not answered by "Sergei
    Shoigu guided the tour". A name is the question's when its last word (the surname, the head
    of "North Korean Foreign Minister Choe Son Hui") is. A claim naming nothing ("the police") is
    left to the other checks."""
    asked = names(question)
    heads = []
    for run in _NAME_RUN.finditer(claim):
        words = [w for w in _WORD.findall(run.group(0)) if w.lower() not in _STOP]
        if words:
            heads.append(_STEM.stemWord(words[-1].lower()))
    return bool(heads) and all(head in asked for head in heads)


def sentence_before(source: Source) -> str:
    """The sentence just before the source in its passage ("" when it opens the passage)."""
    passage = source.passage
    offset = source.start - passage.start
    previous = [passage.text[a:b] for a, b in split_sentences(passage.text) if b <= offset]
    return previous[-1] if previous else ""


@dataclass(frozen=True)
class Verifier:
    """Thresholds chosen on a tuning sample of SQuAD 2.0 questions (see the closing notes of issue 4):
    each check trades declined unanswerable questions against wrongly declined answerable ones."""

    min_support: float = 0.5
    """Share of the words a sentence adds to the question that its source must state. 0.5, not
    0.6: on the SQuAD tuning titles it wrongly declined 0.065 of answerable questions against
    0.097 at no loss elsewhere (irregular verbs: "spoke" for the source's "said ... speak")."""
    min_question_coverage: float = 0.0
    require_key_terms: bool = True
    min_confidence: float | None = -1.5
    """Abstain when the model's least confident step on its answer's own words is below this
    log probability (needs an endpoint that reports log probabilities)."""
    min_found: float = 0.8
    """Abstain before answering when the model's probability of "Found: Yes" is below this.
    Chosen on the SQuAD tuning titles (Normans, Steam engine, Harvard University; 62 questions,
    half unanswerable): 0.8 declined 0.39 of the unanswerable against 0.29 with no threshold, at
    no cost in wrongly declined answerable ones (0.13 both); 0.9 declined 0.58 but wrongly
    declined 0.29. The probability separated the two kinds with AUROC 0.68 there."""

    def found_enough(self, found: float | None) -> bool:
        """Is the model sure enough that the sources hold the answer to write one? (Without log
        probabilities there is no signal, and the checks of the written answer decide.)"""
        return found is None or found >= self.min_found

    def verify(self, raw: str, question: str, sources: Sequence[Source], confidence: float | None = None) -> Verdict:
        verdict = Verdict(confidence=confidence)
        if ABSTAIN_TOKEN.lower() in raw.lower() or _DECLINE.search(raw) or _FOUND_NO.match(raw):
            verdict.declined = True
            return verdict
        # A sentence that instructs the assistant is never evidence, even if it reached the sources.
        by_number = {s.number: s for s in sources if not addresses_the_assistant(s.text)}
        before = {n: sentence_before(s) for n, s in by_number.items()}  # once per reply, not per claim
        article = {
            n: " ".join(o.attested for o in by_number.values() if o.article_id == s.article_id and o.number != n)
            for n, s in by_number.items()
        }
        for claim, cited in split_answer(raw):
            verdict.sentences.append(self._check_sentence(claim, cited, question, by_number, before, article))
        self._check_question(verdict, question, sources)
        if self.min_confidence is not None and confidence is not None and confidence < self.min_confidence:
            verdict.unsure = True
        return verdict

    def _check_sentence(
        self,
        claim: str,
        cited: tuple[int, ...],
        question: str,
        by_number: dict[int, Source],
        before: dict[int, str],
        article: dict[int, str],
    ) -> CheckedSentence:
        if _WHO.match(split_scene(question)[1]) and only_names_the_asked(claim, question):
            return CheckedSentence(claim, cited, (), Check.UNSUPPORTED, 0.0)
        scores = {n: support(claim, question, s.attested, before[n], article[n]) for n, s in by_number.items()}

        def joint(numbers: tuple[int, ...], context: str = "") -> float:
            return support(claim, question, " ".join(by_number[n].attested for n in numbers), context)

        named = tuple(n for n in dict.fromkeys(cited) if n in by_number)
        good_cited = tuple(n for n in named if scores[n] >= self.min_support)
        if good_cited:
            return CheckedSentence(claim, cited, good_cited, Check.VERIFIED, max(scores[n] for n in good_cited))
        if len(named) > 1:
            # "Zhao Leji will head the delegation, which stays until Saturday [1][2]": each source
            # states half of it, the two together state it all.
            together = joint(named, before[named[0]])
            if together >= self.min_support:
                return CheckedSentence(claim, cited, named, Check.VERIFIED, together)
        ranked = sorted(scores, key=lambda n: scores[n], reverse=True)
        state = Check.REATTRIBUTED if cited else Check.ADDED
        if ranked and scores[ranked[0]] >= self.min_support:
            return CheckedSentence(claim, cited, (ranked[0],), state, scores[ranked[0]])
        if len(ranked) > 1:
            # "Mao Ning and Choe Son Hui are the spokeswoman and the foreign minister": two
            # sources, one for each.
            pair = tuple(sorted(ranked[:2]))
            together = joint(pair)
            if together >= self.min_support:
                return CheckedSentence(claim, cited, pair, state, together)
        return CheckedSentence(claim, cited, (), Check.UNSUPPORTED, max(scores.values(), default=0.0))

    def _check_question(self, verdict: Verdict, question: str, sources: Sequence[Source]) -> None:
        """Is the supported answer about what was asked? The question's words are looked for in the
        supporting sentences and the sentences shown from the same articles."""
        kept = verdict.kept
        if not kept:
            return
        articles = {s.article_id for s in sources if any(s.number in k.sources for k in kept)}
        context = " ".join(s.stated for s in sources if s.article_id in articles)
        context_terms = terms(context) | numbers(context)
        asked = terms(question)
        verdict.question_coverage = len(asked & context_terms) / len(asked) if asked else 1.0
        # A name or number of the question that appears nowhere in the passages the answer rests
        # on: the answer is about something else ("the Japanese delegation" in an article that
        # only mentions a Chinese one).
        passages = " ".join(dict.fromkeys(s.passage.text for s in sources if s.article_id in articles))
        passage_terms = terms(passages) | numbers(passages) | context_terms
        verdict.off_question = (
            verdict.question_coverage < self.min_question_coverage
            or (self.require_key_terms and not about_the_question(question, passage_terms))
            or not gives_the_asked_quantity(question, " ".join(k.text for k in kept))
        )


def gives_the_asked_quantity(question: str, answer: str) -> bool:
    """A question that asks how many, how much, how fast ... is answered by a quantity: "Consumer
    prices were rising faster than expected" does not say how fast. True for other questions, and
    for "how long" and "how often", which a day or a word answers ("until Saturday", "weekly").
    On the tuning sets' recorded replies it withheld one wrong answer and no right one."""
    if not _ASKS_FOR_A_QUANTITY.search(split_scene(question)[1]):
        return True
    return bool(_NUMBER.search(answer) or _NUMBER_WORD.search(answer))


def about_the_question(question: str, passage_terms: set[str]) -> bool:
    """Do the passages an answer rests on speak of what the question asks? Every name and number
    of its ask must be there; of a long question's scene, which retells the story in the asker's
    words ("a WWII-era training ground" for "a World War II training ground site"), at least half."""
    scene, ask = split_scene(question)
    if any(not _present(key, passage_terms) for key in key_terms(ask)):
        return False
    scene_keys = key_terms(scene) - key_terms(ask)
    missing = [key for key in scene_keys if not _present(key, passage_terms)]
    return 2 * len(missing) <= len(scene_keys)
