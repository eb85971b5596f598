"""citeqa's one exception tree: every error citeqa raises on purpose derives from ``CiteqaError``
and carries a message for people (what went wrong with which input, and what to do), so that a
front door (the CLI, the web API, the MCP server) catches the base once and shows the message::

    CiteqaError
    ├── SettingsError (also ValueError)       index/settings.py    a setting's value cannot be used
    ├── StoreUnavailable                      index/store.py       the index cannot be opened or reached
    ├── EmbeddingModelMissing                 index/embeddings.py  the packaged MiniLM is not installed
    ├── DateError (also ValueError)           index/dates.py       a publication date in no known form
    ├── RetrievalError                        qa/passages.py
    │   ├── EmptyIndexError                                        nothing is indexed yet
    │   ├── EmptyQueryError (also ValueError)                      the question is empty
    │   ├── BadFilterError (also ValueError)                       a filter value cannot be used
    │   └── BadLimitError (also ValueError)                        k is not 1 to 50 (web API, MCP)
    ├── EmbeddedModelError                    qa/embedded_llm.py   the packaged model cannot be joined or started
    ├── LLMError                              qa/llm.py            the model gave no answer
    │   ├── LLMUnavailable                                         cannot reach it (or it refuses the key/model)
    │   ├── LLMTimeout                                             no answer within the deadline
    │   ├── LLMRateLimited                                         429 after the retries
    │   └── LLMBadResponse                                         an HTTP error or a reply that is not the API
    └── DatasetError (also ValueError)        evals/dataset.py     an eval dataset cannot be read

It lives on the ground floor so that every stage can derive from it without an upward import;
``qa`` exports it and every error above but ``DatasetError`` (``evals`` is downstream of ``qa``)
with the rest of the public API; ``tests/test_errors.py`` holds this drawing to the code. Per-file indexing failures are not raised:
they are reported per file (``index.pipeline``), so that one bad file never stops the rest.
"""

from __future__ import annotations

__all__ = ["CiteqaError"]


class CiteqaError(Exception):
    """Base of every error citeqa raises on purpose; ``str(error)`` is the message for the user."""
