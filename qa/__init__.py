"""citeqa's public Python API.

from qa import Retriever
for passage in Retriever().search("Who leads the delegation?", k=3):
    print(passage.title, passage.start, passage.end, passage.text)
"""

from index.settings import Settings
from qa.passages import BadFilterError, EmptyIndexError, EmptyQueryError, Passage, RetrievalError
from qa.retriever import Filters, Retriever

__all__ = [
    "BadFilterError",
    "EmptyIndexError",
    "EmptyQueryError",
    "Filters",
    "Passage",
    "RetrievalError",
    "Retriever",
    "Settings",
]
