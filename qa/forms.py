"""What shape of answer a question asks for: one fact, or a few points put together.

A factoid question ("Who leads the delegation?") gets one short sentence; a summary, an
explanation (why, how ... come about), a list, a timeline or a comparison gets as many
sentences as it needs, up to ``SYNTHESIS_MAX_SENTENCES``, each with its own citation. The
choice is made from the question's wording, before retrieval, because it also decides how much
evidence the model is shown.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from index.sentences import split_sentences


class Form(StrEnum):
    FACT = "fact"
    SYNTHESIS = "synthesis"


SYNTHESIS_MAX_SENTENCES = 5

_SYNTHESIS = re.compile(
    r"\b(summari[sz]e|summary|sum up|overview|main points|key points|highlights|gist|tl;?dr|"
    r"explain|why|^\s*describe|list|enumerate|outline|timeline|chronolog\w*|compare|comparison|contrast|"
    r"differ|difference|differences|similarities|what happened|how has|how have|how did .+ develop|"
    r"in (two|three|four|five|\d) (points|bullets|sentences))\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def split_scene(question: str) -> tuple[str, str]:
    """(scene, ask): a long question's sentences that set the scene, and its last sentence, which
    asks. "Police arrested 31 men this week ... at a street festival. Where was the event?" asks
    "Where was the event?"; the scene tells which story, and a reply need not repeat it. The ask
    is the run of questions at the end ("Who won? And by how much?"); a request without a question
    mark ("Summarize the article. In three points.") and a question of one sentence are all ask.
    Cached: the checks ask it for every claim against every source of one answer."""
    question = " ".join((question or "").split())
    spans = split_sentences(question)
    start = len(question)
    for first, end in reversed(spans):
        if not question[first:end].rstrip().rstrip("\"'”’)").endswith("?"):
            break
        start = first
    if start == len(question) or start == 0:
        return "", question
    return question[:start].strip(), question[start:].strip()


def question_form(question: str) -> Form:
    """``Form.SYNTHESIS`` for summaries, explanations, lists, timelines and comparisons, read from
    the question's ask (a scene that "explained" something does not make a fact question a summary)."""
    _scene, ask = split_scene(question)
    return Form.SYNTHESIS if _SYNTHESIS.search(ask) else Form.FACT
