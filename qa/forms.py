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


def question_form(question: str) -> Form:
    """``Form.SYNTHESIS`` for summaries, explanations, lists, timelines and comparisons."""
    return Form.SYNTHESIS if _SYNTHESIS.search(question or "") else Form.FACT
