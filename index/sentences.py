"""Sentence boundaries as character spans, so that every later stage can cite exact offsets.

A small rule-based splitter is enough for edited news prose, and it keeps offsets exact (the
spans index the original string; nothing is normalised).
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[.!?…][\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n\s*\n")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "capt",
        "sgt",
        "jr",
        "sr",
        "inc",
        "corp",
        "co",
        "ltd",
        "no",
        "vs",
        "etc",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` of the sentences in ``text[start:end]``, trimmed of white space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.start() + len(match.group(0).rstrip())
        if match.group(0).strip() and _ends_with_abbreviation(text, cursor, match.start()):
            continue
        _append_trimmed(text, cursor, stop, spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def _ends_with_abbreviation(text: str, start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = text[start:dot].rsplit(None, 1)[-1] if text[start:dot].split() else ""
    word = word.lstrip("(\"“'").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
