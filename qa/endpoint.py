"""What citeqa needs from a chat model, named: the ``ChatModel`` protocol.

``qa.llm.LLM`` (any OpenAI-compatible endpoint, the embedded llama.cpp server included) is the one
implementation; a second backend implements these six methods and is passed as
``Answerer(llm=...)``. What each is for in an answer:

- ``start()`` before the clock starts (the embedded model loads once), ``deadline()`` for the
  whole answer, ``describe()`` for messages;
- ``complete`` rewrites a follow-up question into a standalone one;
- ``yes_probability`` is the "Found" step: the probability that the model's next word is "Yes"
  after "Found:", read from the endpoint's top log probabilities;
- ``stream`` writes the reply token by token (the UI shows progress while it arrives); with
  ``logprobs`` it also fills ``usage.tokens`` with each token's log probability.

**Without log probabilities** (many hosted endpoints, some local servers), ``yes_probability``
returns None and ``usage.tokens`` stays empty. citeqa still answers: the Found step gives no
signal, so the model always writes its reply, and the answer is declined only when the model
declines in its own words ("The articles don't say", "Found: No") or when no sentence of the reply
survives the checks against the sources. The "unsure" check (the model's least confident word of
its answer) is skipped. ``ABSTAIN_WITHOUT_LOGPROBS`` says so in words (``citeqa doctor``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from qa.llm import Deadline, Usage

__all__ = ["ABSTAIN_WITHOUT_LOGPROBS", "ABSTAIN_WITH_LOGPROBS", "ChatModel", "abstention_rule"]

ABSTAIN_WITH_LOGPROBS = (
    "declines when the model's probability that the sources hold the answer is under the threshold, "
    "when it declines in words, or when no sentence of its reply holds up against the sources"
)
ABSTAIN_WITHOUT_LOGPROBS = (
    "the endpoint reports no log probabilities: declines only when the model declines in words "
    "or when no sentence of its reply holds up against the sources"
)


@runtime_checkable
class ChatModel(Protocol):
    """A chat model as an ``Answerer`` uses it. Every method raises an ``LLMError`` subclass on a
    fault (with a message for the user) and keeps to its ``deadline``."""

    def start(self) -> object:
        """Make the model ready (load or find it); not counted in any answer's time."""
        ...

    def deadline(self) -> Deadline:
        """A fresh deadline for one answer (rewrite, Found step and reply together)."""
        ...

    def describe(self) -> str:
        """Which model, where: for messages and ``citeqa doctor``."""
        ...

    def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int = 80, deadline: Deadline | None = None
    ) -> str:
        """The whole reply to ``messages``."""
        ...

    def yes_probability(
        self, messages: list[dict[str, str]], *, max_tokens: int = 3, deadline: Deadline | None = None
    ) -> float | None:
        """P(Yes) against P(No) for the reply's first yes-or-no word; None without log probabilities."""
        ...

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 256,
        usage: Usage | None = None,
        logprobs: bool = False,
        deadline: Deadline | None = None,
    ) -> Iterator[str]:
        """The reply's text as it arrives; with ``logprobs``, each token's log probability in
        ``usage.tokens`` when the endpoint reports them."""
        ...


def abstention_rule(found: float | None) -> str:
    """How an answer is declined, given what the Found step returned."""
    return ABSTAIN_WITHOUT_LOGPROBS if found is None else ABSTAIN_WITH_LOGPROBS
