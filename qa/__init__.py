"""citeqa's public Python API.

from qa import Retriever
for passage in Retriever().search("Who leads the delegation?", k=3):
    print(passage.title, passage.start, passage.end, passage.text)
"""

from index.settings import Settings
from qa.answers import Answer, Answerer, AnswerSentence, Citation, Done, Retrieved, Token
from qa.llm import LLM, LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable
from qa.passages import BadFilterError, EmptyIndexError, EmptyQueryError, Passage, RetrievalError
from qa.retriever import Filters, Retriever

__all__ = [
    "LLM",
    "Answer",
    "AnswerSentence",
    "Answerer",
    "BadFilterError",
    "Citation",
    "Done",
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
    "Token",
]
