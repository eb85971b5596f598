"""The lexical (BM25) index: derived from Chroma's stored chunks, rebuilt whenever it is stale.

Chroma stays the one source of truth: this index is a cache in the data folder, stamped with the
store's signature (the set of committed articles). A missing, corrupt or stale copy is rebuilt.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.records import ChunkMeta
from index.store import Store

FORMAT_VERSION = 3
CURRENT = "current"
KEEP_OLD_VERSIONS_S = 60.0  # a reader that read ``current`` just before a save has this long to load it
_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)
    return [list(t) for t in tokens]


@dataclass
class LexicalIndex:
    signature: str
    chunk_ids: list[str]
    meta: list[ChunkMeta]
    bm25: bm25s.BM25 | None
    _rows: dict[str, int] | None = None

    @functools.cached_property
    def articles(self) -> frozenset[str]:
        """Hashes of the committed articles this index was built from."""
        return frozenset(m.article_hash for m in self.meta)

    def row_of(self, chunk_id: str) -> int | None:
        if self._rows is None:
            self._rows = {chunk_id: row for row, chunk_id in enumerate(self.chunk_ids)}
        return self._rows.get(chunk_id)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros when no query word is in the corpus)."""
        if self.bm25 is None or not self.chunk_ids:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        vocab = self.bm25.vocab_dict
        known = [token for token in tokenize([query])[0] if token in vocab]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


def build(store: Store) -> LexicalIndex:
    signature = store.signature()
    chunks = store.all_chunks()
    ids = [chunk.id for chunk in chunks]
    texts = [chunk.text for chunk in chunks]
    meta = [chunk.meta for chunk in chunks]
    bm25 = None
    if texts:
        bm25 = bm25s.BM25()
        bm25.index(tokenize(texts), show_progress=False)
    return LexicalIndex(signature, ids, meta, bm25)


class LexicalCache:
    """Loads the saved index, rebuilding and saving it when the store has moved on."""

    def __init__(self, store: Store, folder: Path, recheck_s: float = 2.0) -> None:
        self.store = store
        self.folder = folder
        self.recheck_s = recheck_s
        self._index: LexicalIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> LexicalIndex:
        """The current index; whether the store moved on is checked at most every ``recheck_s``
        seconds (another process may index meanwhile), keeping the check off the hot path."""
        with self._lock:
            now = time.monotonic()
            if self._index is not None and now - self._checked_at < self.recheck_s:
                return self._index
            self._checked_at = now
            signature = self.store.signature()
            if self._index is not None and self._index.signature == signature:
                return self._index
            loaded = self._load()
            if loaded is None or loaded.signature != signature:
                loaded = build(self.store)
                self._save(loaded)
            self._index = loaded
            return loaded

    def refresh(self) -> LexicalIndex:
        with self._lock:
            self._index = build(self.store)
            self._save(self._index)
            return self._index

    def _load(self) -> LexicalIndex | None:
        try:
            current = self.folder / (self.folder / CURRENT).read_text(encoding="utf-8").strip()
            head = json.loads((current / "header.json").read_text(encoding="utf-8"))
            if head.get("format") != FORMAT_VERSION:
                return None
            bm25 = bm25s.BM25.load(str(current / "bm25")) if head["chunk_ids"] else None
            meta = [ChunkMeta(**fields) for fields in head["meta"]]
            return LexicalIndex(head["signature"], head["chunk_ids"], meta, bm25)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, corrupt, or removed by another process meanwhile: simply rebuilt

    def _save(self, index: LexicalIndex) -> None:
        """Write a new version in a folder of its own, then point ``current`` at it with one atomic
        rename. Processes saving at once never share a staging folder (issue 14: a fixed ``.tmp``
        folder failed 89 of 1,080 refreshes of two processes), and a reader sees the old version or
        the new one, never a half-written one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        version = Path(tempfile.mkdtemp(prefix=f"v{FORMAT_VERSION}-", dir=self.folder))
        if index.bm25 is not None:
            index.bm25.save(str(version / "bm25"))
        head = {
            "format": FORMAT_VERSION,
            "signature": index.signature,
            "chunk_ids": index.chunk_ids,
            "meta": [vars(m) for m in index.meta],
        }
        (version / "header.json").write_text(json.dumps(head), encoding="utf-8")
        pointer = version.with_suffix(".current")
        pointer.write_text(version.name, encoding="utf-8")
        os.replace(pointer, self.folder / CURRENT)
        self._remove_old_versions(keep=version)

    def _remove_old_versions(self, keep: Path) -> None:
        """Versions other than the current one, once old enough that no reader is still loading them."""
        cutoff = time.time() - KEEP_OLD_VERSIONS_S
        for entry in self.folder.iterdir():
            if entry == keep or entry.name == CURRENT:
                continue
            with contextlib.suppress(FileNotFoundError):  # another process removed it first
                if entry.stat().st_mtime < cutoff:
                    if entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)


def cache_folder(store: Store) -> Path:
    settings = store.settings
    where = (
        "server-" + "".join(c if c.isalnum() else "_" for c in settings.store.chroma_url)
        if settings.store.chroma_url
        else "local"
    )
    return Path(settings.store.home) / "bm25" / where / settings.store.collection
