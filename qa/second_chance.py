"""A second chance for a rejected reply: the sources it did not lean on, asked again.

A small model often has the answer in front of it and names the wrong thing: "associated with the
Red Hand [3]" when [3] says Blue Crescent and [2] mentions the Red Hand, or an echo of the scene
sentence a quiz question retold. The checks rightly reject such a reply, and before this the
answer was declined although a source held the right one. Now the model is asked once more,
without the sources that misled it (see ``second_chance_sources``), and the second reply goes through the same "Found" threshold and the same checks. A reply the model
itself declined is not retried: that is the answerability signal, not a slip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from qa.citations import Verdict, claim_names, names, terms
from qa.evidence import Source

__all__ = ["second_chance_sources"]


def second_chance_sources(verdict: Verdict, question: str, sources: Sequence[Source]) -> list[Source]:
    """The sources for a second try, renumbered from 1 in their order. When the rejected reply named
    something its cited sources do not hold ("the Red Hand [3]" where [3] says Blue Crescent), the
    sources that hold that name are left out, and the cited one stays: it may well hold the answer.
    When it named nothing wrong (an echo of the question, a claim no source states), the sources it
    cited are left out. Empty when the reply was the model's own decline, was not rejected, or
    leaves nothing else to read."""
    if verdict.declined or not verdict.abstain or not verdict.sentences:
        return []
    by_number = {s.number: s for s in sources}
    asked = names(question)
    wrong: set[str] = set()
    cited: set[int] = set()
    for sentence in verdict.sentences:
        numbers = {n for n in (*sentence.cited, *sentence.sources) if n in by_number}
        cited |= numbers
        held = set().union(*(terms(by_number[n].stated) for n in numbers))
        wrong |= {name for name in claim_names(sentence.text, question) - asked if name not in held}
    if wrong:
        rest = [s for s in sources if not wrong & terms(s.stated)]
    else:
        rest = [s for s in sources if s.number not in cited]
    if len(rest) == len(sources):
        return []  # nothing to leave out: the same reading again would give the same reply
    return [replace(source, number=number) for number, source in enumerate(rest, 1)]
