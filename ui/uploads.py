"""Uploaded articles: checked, copied under a name of our own, then indexed.

A browser-supplied file name is never used as a path: only a sanitised stem (letters, digits,
``._-``, for the article's display id) survives, joined with a content hash and an allowed suffix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from index.articles import SUPPORTED_SUFFIXES, split_location
from index.pipeline import Indexer, ItemResult, Outcome
from index.web import is_url


@dataclass(frozen=True)
class UploadResult:
    file: str
    outcome: str
    article: str
    detail: str


def safe_name(original: str, data: bytes) -> str | None:
    """``stem-hash.suffix`` for a supported suffix, else None."""
    base = re.split(r"[\\/]", original)[-1]
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(base).stem).strip("._-")[:60] or "article"
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"


def store_and_index(
    indexer: Indexer, uploads: list[tuple[str, Path]], folder: Path, max_bytes: int
) -> list[UploadResult]:
    """``uploads`` holds (name as the browser sent it, temporary path). One bad file never stops the rest."""
    folder.mkdir(parents=True, exist_ok=True)
    results: list[UploadResult] = []
    stored: dict[str, str] = {}
    for original, temporary in uploads:
        shown = re.split(r"[\\/]", original)[-1][:80]
        size = temporary.stat().st_size
        if size > max_bytes:
            results.append(
                UploadResult(
                    shown, "failed", "", f"{size / 1_048_576:.1f} MB is over the {max_bytes / 1_048_576:g} MB limit"
                )
            )
            continue
        data = temporary.read_bytes()
        name = safe_name(original, data)
        if name is None:
            results.append(
                UploadResult(shown, "failed", "", f"unsupported file type; use one of {', '.join(SUPPORTED_SUFFIXES)}")
            )
            continue
        target = folder / name
        target.write_bytes(data)
        stored[str(target.resolve())] = shown
    if stored:
        report = indexer.index_paths([Path(p) for p in stored])
        kept: set[str] = set()
        for item in report.results:
            results.append(_result(item, stored))
            if item.outcome is not Outcome.FAILED:
                kept.add(_stored_path(item.location, stored))
        for path in stored.keys() - kept:
            Path(path).unlink(missing_ok=True)  # nothing of it was indexed: do not keep a rejected file
    return results


def _stored_path(location: str, stored: dict[str, str]) -> str:
    """The stored file an item's location names (``path``, ``path#record-id`` or ``path:line``)."""
    return split_location(location, stored)[0]


def _result(item: ItemResult, stored: dict[str, str]) -> UploadResult:
    """Name results by the uploaded file's name, never by our stored path."""
    path, record = split_location(item.location, stored)
    shown = stored.get(path, Path(path).name)
    label = f"{shown} ({record})" if record else shown
    return UploadResult(label, item.outcome.value, item.article_id, _detail(item))


def _detail(item: ItemResult) -> str:
    return item.reason or (f"{item.chunks} chunks" if item.outcome in (Outcome.ADDED, Outcome.UPDATED) else "")


def fetch_and_index(indexer: Indexer, addresses: str) -> list[UploadResult]:
    """Index the web pages and feeds at ``addresses`` (one a line, as a reader pastes them; a page
    or a feed told apart by what the site sends), with one result a page, as ``citeqa index``
    gives. A line that is no web address is named and the rest are fetched."""
    lines = [line.strip() for line in (addresses or "").splitlines() if line.strip()]
    results = [
        UploadResult(
            line[:80], Outcome.FAILED.value, "", "not a web address: give one starting with https:// or http://"
        )
        for line in lines
        if not is_url(line)
    ]
    urls = list(dict.fromkeys(line for line in lines if is_url(line)))
    if urls:
        report = indexer.index_paths(urls)
        results += [UploadResult(r.location, r.outcome.value, r.article_id, _detail(r)) for r in report.results]
    return results
