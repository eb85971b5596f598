"""What each feed said about the pages it links to when they were last fetched, so that a page
is fetched again only when its feed says it changed.

A feed item carries a stamp: Atom's ``<updated>``, else the item's date. A page indexed before is
fetched again when its item's stamp differs from the one recorded at its last fetch (a story
updated at the same address), and not fetched at all while the stamp is the same. The record is a
cache, not a source of truth (Chroma is): lost or deleted, every known page of a feed is fetched
once more, and its unchanged text is recognised by hash and stored nothing new. It lives beside
the index as one small JSON file, replaced whole on each save (a write that is cut short leaves
the previous file); two processes saving at once lose at most the other's stamps, which costs a
fetch, never an article.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["FeedStamps"]

FILE_NAME = "feed-stamps.json"


class FeedStamps:
    """The stamp each page's feed item had when the page was last fetched, by page address."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILE_NAME
        self._loaded: dict[str, str] | None = None  # read on first use: most indexing runs read no feed
        self._changed = False

    @property
    def _stamps(self) -> dict[str, str]:
        if self._loaded is None:
            self._loaded = {}
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._loaded = {str(k): str(v) for k, v in loaded.items()}
            except (OSError, ValueError):
                pass  # none yet, or unreadable: every known page is fetched once more
        return self._loaded

    def get(self, link: str) -> str | None:
        return self._stamps.get(link)

    def set(self, link: str, stamp: str) -> None:
        if stamp and self._stamps.get(link) != stamp:
            self._stamps[link] = stamp
            self._changed = True

    def save(self) -> None:
        """Write the stamps if any changed (atomically: a temporary file renamed over the old)."""
        if not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".feed-stamps-", dir=self.path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self._stamps, out, ensure_ascii=False, sort_keys=True)
        os.replace(temporary, self.path)
        self._changed = False
