"""The composition root: one place that builds a process's parts from its settings, once.

Every front door takes its parts from here: the CLI, the web app, the eval runner and the MCP
server. Before this, ``citeqa serve`` built two Stores and two lexical caches over one folder (one
in the Indexer, one in the Retriever) that rebuilt the BM25 index side by side while uploads and
answers ran at the same time; several commands built a whole Indexer only to read its store.

What is built, and what shares what::

    Settings ─┬─ Store (the only code that speaks to Chroma) ─┐
              ├─ MiniLMEmbedder (one per process) ────────────┼─ LexicalCache (BM25, derived from the store)
              │                                              ├─ Indexer   (index/)
              │                                              └─ Retriever (qa/)
              └─ LLM (the configured endpoint, or the machine's embedded model) ── Answerer(Retriever, LLM)

A constructor called without its parts takes these same ones, never a copy: ``Indexer(settings)``
and ``Retriever(settings)`` take the process's store and lexical cache for those settings
(``index.store.shared_store``, ``index.lexical.shared_lexical``: the index layer's half of this
root, since ``index/`` must not import ``qa/``), and ``Answerer(settings)`` takes this module's
retriever and LLM. ``tests/test_parts.py`` fails on a second build.

Where a new part goes: a reranker is built here and handed to the ``Retriever``; a new front door
calls ``parts_for(settings)``; a new setting is read in ``index/settings.py`` and used here. Each
part is built on first use, so ``citeqa search`` never starts a model and ``citeqa articles``
never loads the embedder.

It lives in ``qa/`` (not ``ui/``) so that ``evals/`` can use it without an upward import.
"""

from __future__ import annotations

import threading
from functools import cached_property

from index.embeddings import MiniLMEmbedder, shared_embedder
from index.lexical import LexicalCache, shared_lexical
from index.pipeline import Indexer
from index.settings import Settings
from index.store import Store, shared_store
from qa.answers import Answerer
from qa.llm import LLM
from qa.retriever import Retriever

__all__ = ["Parts", "parts_for"]


class Parts:
    """The parts built from one ``Settings``; each is built once, on first use."""

    def __init__(self, settings: Settings, *, progress: bool = False) -> None:
        self.settings = settings
        self.progress = progress
        """Whether the model's first start shows progress (the CLI and the web app: yes)."""
        self._lock = threading.RLock()

    @cached_property
    def store(self) -> Store:
        with self._lock:
            return shared_store(self.settings)

    @cached_property
    def embedder(self) -> MiniLMEmbedder:
        return shared_embedder()

    @cached_property
    def lexical(self) -> LexicalCache:
        with self._lock:
            return shared_lexical(self.store)

    @cached_property
    def indexer(self) -> Indexer:
        with self._lock:
            return Indexer(self.settings, self.store, self.embedder, lexical=self.lexical)

    @cached_property
    def retriever(self) -> Retriever:
        with self._lock:
            return Retriever(self.settings, store=self.store, embedder=self.embedder, lexical=self.lexical)

    @cached_property
    def llm(self) -> LLM:
        with self._lock:
            return LLM(self.settings, progress=self.progress)

    @cached_property
    def answerer(self) -> Answerer:
        with self._lock:
            return Answerer(self.settings, retriever=self.retriever, llm=self.llm)


_built: dict[Settings, Parts] = {}
_registry_lock = threading.Lock()


def parts_for(settings: Settings, *, progress: bool = False) -> Parts:
    """This process's parts for ``settings`` (the same object for equal settings)."""
    with _registry_lock:
        if settings not in _built:
            _built[settings] = Parts(settings, progress=progress)
        return _built[settings]
