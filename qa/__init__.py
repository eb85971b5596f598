"""citeqa's public Python API.

from qa import Retriever
for passage in Retriever().search("Who leads the delegation?", k=3):
    print(passage.title, passage.start, passage.end, passage.text)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.dates import DateError
    from index.embeddings import EmbeddingModelMissing
    from index.errors import CiteqaError
    from index.settings import Settings, SettingsError
    from index.store import StoreUnavailable
    from qa.answers import Answer, Answerer, AnswerSentence, Citation, DisputedFigure, Done, Retrieved, Status, Token
    from qa.embedded_llm import EmbeddedModelError
    from qa.endpoint import ChatModel
    from qa.llm import LLM, LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable
    from qa.passages import BadFilterError, BadLimitError, EmptyIndexError, EmptyQueryError, Passage, RetrievalError
    from qa.retriever import Filters, Retriever

_HOMES = {
    "CiteqaError": "index.errors",
    "DateError": "index.dates",
    "EmbeddingModelMissing": "index.embeddings",
    "Settings": "index.settings",
    "SettingsError": "index.settings",
    "StoreUnavailable": "index.store",
    "EmbeddedModelError": "qa.embedded_llm",
    "ChatModel": "qa.endpoint",
    **dict.fromkeys(
        ["Answer", "Answerer", "AnswerSentence", "Citation", "DisputedFigure", "Done", "Retrieved", "Status", "Token"],
        "qa.answers",
    ),
    **dict.fromkeys(["LLM", "LLMBadResponse", "LLMError", "LLMRateLimited", "LLMTimeout", "LLMUnavailable"], "qa.llm"),
    **dict.fromkeys(
        ["BadFilterError", "BadLimitError", "EmptyIndexError", "EmptyQueryError", "Passage", "RetrievalError"],
        "qa.passages",
    ),
    **dict.fromkeys(["Filters", "Retriever"], "qa.retriever"),
}


def __getattr__(name: str) -> Any:
    """Import on first use: ``qa.model_server`` and the CLI's light commands do not pay for
    chromadb, openai and onnxruntime (about 5.7 s of imports here)."""
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "LLM",
    "Answer",
    "AnswerSentence",
    "Answerer",
    "BadFilterError",
    "BadLimitError",
    "ChatModel",
    "Citation",
    "CiteqaError",
    "DateError",
    "DisputedFigure",
    "Done",
    "EmbeddedModelError",
    "EmbeddingModelMissing",
    "EmptyIndexError",
    "EmptyQueryError",
    "Filters",
    "LLMBadResponse",
    "LLMError",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "Passage",
    "RetrievalError",
    "Retrieved",
    "Retriever",
    "Settings",
    "SettingsError",
    "Status",
    "StoreUnavailable",
    "Token",
]
