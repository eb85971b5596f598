"""Reading articles from disk: the formats citeqa takes and the ways a file can be bad.

Every file yields ``Article`` values or ``LoadFailure`` values, never an exception, so one bad
file (or one bad JSON line) never stops the others.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import os
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.dates import DateError, normalize_date
from index.metadata import detect_metadata

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
RECORD_FIELDS = ("id", "title", "publisher", "source", "url", "published")
"""A record's fields besides ``text``; ``source`` is the older name of ``publisher`` and still read."""
_SCRIPTS = re.compile(
    # Every <script> and <style> but JSON-LD, the structured data where a page states its
    # headline, publisher and datePublished (schema.org), which trafilatura reads as metadata.
    r"<(script|style)\b(?![^>]*application/ld\+json).*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
MIN_HTML_WORDS = 4  # fewer words than this is a menu or a button label, not an article


@dataclass(frozen=True)
class Article:
    """One article's exact text and what is known about it.

    ``text`` is kept exactly as read (for HTML: as extracted), because every chunk and citation
    points into it by character offsets.
    """

    id: str
    text: str
    title: str
    location: str
    """Where it came from on disk: a path, or ``path#record-id`` for a JSON record."""
    publisher: str = ""
    """Who published it (a wire service, a newspaper); empty when unknown."""
    url: str = ""
    published: str = ""
    """ISO-like date: ``2024``, ``2024-06`` or ``2024-06-05``; empty when unknown."""

    @functools.cached_property
    def content_hash(self) -> str:
        return content_hash(self.text)


@dataclass(frozen=True)
class LoadFailure:
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class FileScan:
    """What a walk over the given paths found."""

    files: list[Path] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Locations of folders that could not be listed."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def find_files(paths: Iterable[Path | str]) -> FileScan:
    """Expand files and folders into the supported files under them, in a stable order.

    A folder that cannot be listed, a broken link or a link loop is reported, never skipped in
    silence: ``prune`` must not take a folder it could not read for a folder that was emptied.
    """
    scan = FileScan()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            scan.files.extend(_walk(path, scan))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                scan.files.append(path)
            else:
                scan.failures.append(
                    LoadFailure(
                        display(path),
                        f"unsupported file type {path.suffix or '(none)'!r}; "
                        f"use one of {', '.join(SUPPORTED_SUFFIXES)}",
                    )
                )
        elif path.is_symlink():
            scan.failures.append(LoadFailure(display(path), _BROKEN_LINK))
        else:
            scan.failures.append(LoadFailure(display(path), "no such file or folder"))
    return scan


_BROKEN_LINK = "a symbolic link to nothing, or a loop of links; fix or remove the link"


def _walk(root: Path, scan: FileScan) -> list[Path]:
    def unreadable(error: OSError) -> None:
        folder = Path(error.filename or root)
        scan.unreadable.append(location_of(folder))
        scan.failures.append(
            LoadFailure(display(folder), f"cannot read folder: {error.strerror or error}; nothing under it was changed")
        )

    found: list[Path] = []
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            candidate = Path(folder) / name
            if name.startswith(".") or candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if candidate.is_file():
                found.append(candidate)
            elif candidate.is_symlink():
                scan.failures.append(LoadFailure(display(candidate), _BROKEN_LINK))
    return sorted(found)


def estimate_articles(path: Path) -> int:
    """How many articles a file probably holds, for the progress bar (JSON Lines: its lines)."""
    if path.suffix.lower() != ".jsonl":
        return 1
    try:
        with path.open("rb") as handle:
            return max(1, sum(1 for line in handle if line.strip()))
    except OSError:
        return 1


def split_location(location: str, files: Container[str] = ()) -> tuple[str, str]:
    """(file, record) of an item's location: ``path`` -> (path, ""), ``path#record-id`` (a JSON
    record) -> (path, record-id), and ``path:N`` (a JSON line that could not be read) -> (path,
    "line N") when ``path`` is one of ``files``: a colon may belong to a file's name."""
    path, _, record = location.partition("#")
    if path not in files and ":" in path:
        head, _, line = path.rpartition(":")
        if head in files:
            return head, f"line {line}"
    return path, record


def location_of(path: Path) -> str:
    """Where an article came from, as text every store accepts: a file name that is not valid
    UTF-8 keeps its bad bytes as ``\\xNN`` escapes (Chroma refused the raw name, issue 14)."""
    return display(path.resolve())


def display(path: Path) -> str:
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def load_file(path: Path, max_bytes: int) -> Iterator[Article | LoadFailure]:
    """Read one file into articles; a problem comes back as a ``LoadFailure`` naming the file."""
    where = location_of(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield LoadFailure(
                where,
                f"file is {size / 1_048_576:.1f} MB, over the {max_bytes / 1_048_576:g} MB limit; "
                "split it or raise --max-file-mb / CITEQA_MAX_FILE_MB",
            )
            return
        data = path.read_bytes()
    except OSError as error:
        yield LoadFailure(where, f"cannot read: {error.strerror or error}")
        return
    text_or_failure = _decode(data, where)
    if isinstance(text_or_failure, LoadFailure):
        yield text_or_failure
        return
    text = text_or_failure
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl"):
        yield from _load_records(text, where, display(Path(path.stem)), lines=suffix == ".jsonl")
    elif suffix in (".html", ".htm"):
        yield _load_html(text, where, display(Path(path.name)))
    else:
        yield _plain_article(text, where, display(Path(path.name)))


def load_page(text: str, where: str, name: str, *, html: bool, published: str = "") -> Article | LoadFailure:
    """One fetched page (``index.web``) read as an uploaded file of its kind would be.
    ``published`` (a feed item's date, normalised) dates it before a date read off its words
    (a dateline), but after a date in the page's own metadata."""
    if not text.strip():
        return LoadFailure(where, "page is empty")
    return _load_html(text, where, name, published) if html else _plain_article(text, where, name, published)


def _decode(data: bytes, where: str) -> str | LoadFailure:
    if not data.strip():
        return LoadFailure(where, "file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            return LoadFailure(where, f"UTF-16 text with a bad byte at offset {error.start}; re-save it as UTF-8")
    if b"\x00" in data[:8192]:
        return LoadFailure(where, "looks like a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return LoadFailure(
            where,
            f"not UTF-8 text (bad byte at offset {error.start}); convert it, e.g. with `iconv -f latin1 -t utf-8`",
        )
    return text.removeprefix("\ufeff")


def _plain_article(text: str, where: str, name: str, published: str = "") -> Article | LoadFailure:
    if not text.strip():
        return LoadFailure(where, "file holds only white space")
    meta = detect_metadata(text)
    return Article(
        id=name,
        text=text,
        title=meta.title,
        location=where,
        publisher=meta.publisher,
        published=published or meta.published,
    )


def _load_html(html: str, where: str, name: str, published: str = "") -> Article | LoadFailure:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    text = trafilatura.extract(html, include_comments=False, include_tables=True)
    if not text or len(text.split()) < MIN_HTML_WORDS:
        return LoadFailure(where, "HTML has no main text to index (only markup, scripts or navigation)")
    # Scripts and styles are not the page's words: trafilatura's metadata would keep the text of a
    # <script> inside <title> or <h1> ("Tram line alert(1)"). Its date comes from the page's
    # metadata and <time> only (extensive=False): the extensive search read a wire story's
    # "©2026 Northern Wire" as 1 January 2026, ahead of its "Oct. 5" dateline and its feed's date.
    page = trafilatura.extract_metadata(_SCRIPTS.sub(" ", html), extensive=False)
    meta = detect_metadata(text)
    return Article(
        id=name,
        text=text,
        title=(page.title if page and page.title else meta.title),
        location=where,
        publisher=(page.sitename if page and page.sitename else meta.publisher) or "",
        url=(page.url if page and page.url else "") or "",
        published=_page_date(page.date if page else None) or published or meta.published,
    )


def _page_date(raw: str | None) -> str:
    """trafilatura's date for the page (from its metadata, JSON-LD or <time>), normalised; "" if none."""
    try:
        return normalize_date(raw or "")
    except DateError:
        return ""


def _load_records(text: str, where: str, stem: str, *, lines: bool) -> Iterator[Article | LoadFailure]:
    if lines:
        numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        records: list[tuple[str, object]] = []
        for n, line in numbered:
            try:
                records.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError as error:
                yield LoadFailure(f"{where}:{n}", f"malformed JSON line ({error.msg}); fix or remove it")
            except RecursionError:
                yield LoadFailure(f"{where}:{n}", _TOO_DEEP)
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            yield LoadFailure(where, f"malformed JSON at line {error.lineno} ({error.msg})")
            return
        except RecursionError:
            yield LoadFailure(where, _TOO_DEEP)
            return
        items = loaded if isinstance(loaded, list) else [loaded]
        records = [(f"record {n}", item) for n, item in enumerate(items, 1)]
    for label, record in records:
        yield _record_article(record, where, f"{stem}:{label.split()[-1]}", label)


_TOO_DEEP = 'JSON nested too deeply to read; an article record is one flat object with a "text" field'


def _record_article(record: object, where: str, fallback_id: str, label: str) -> Article | LoadFailure:
    place = f"{where} ({label})"
    if not isinstance(record, dict):
        return LoadFailure(place, 'expected a JSON object with a "text" field')
    body = record.get("text")
    if not isinstance(body, str) or not body.strip():
        return LoadFailure(place, 'record has no "text" (a non-empty string is required)')
    fields = {key: record.get(key) for key in RECORD_FIELDS}
    bad = [
        key
        for key, value in fields.items()
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int))
    ]
    if bad:
        shown = ", ".join(f"{key}={json.dumps(fields[key])}" for key in bad)
        return LoadFailure(place, f"{shown}: must be a string; quote it or leave the field out")
    try:
        published = normalize_date(str(fields["published"] or ""))
    except DateError as error:
        return LoadFailure(place, f"published={error}")
    article_id = str(fields["id"]) if fields["id"] not in (None, "") else fallback_id
    meta = detect_metadata(body)
    return Article(
        id=article_id,
        text=body,
        title=str(fields["title"] or meta.title),
        location=f"{where}#{article_id}",
        publisher=str(fields["publisher"] or fields["source"] or meta.publisher),
        url=str(fields["url"] or ""),
        published=published or meta.published,
    )
