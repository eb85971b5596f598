"""Stories: the copies and versions of one article, grouped as articles are indexed.

A wire story runs under every outlet that buys it, with the outlet's own headline and credit
line; an "UPDATE 1-" repeats the first version with the news added. Each is its own article (its
own publisher, date and citation), and each belongs to one *story*: the articles linked to it,
directly or through others, by sharing most of their text.

**The rule.** Two articles are linked when at least ``SAME_STORY`` of the shorter one's word
5-grams (``SHINGLE_WORDS``) are in the other. Measured on every pair of the news-weeks fixture
(40 articles), the SQuAD sample (257 Wikipedia paragraphs of six titles) and news-long (200
articles: other outlets' briefs of the same events, earlier and later chapters of one story):

- syndicated copies 0.92-0.95, the ferry talks and their "UPDATE 1-" 0.84, the battery plant's
  rewritten update (650 jobs, not 800) 0.46;
- the most among different stories: 0.39 (two Steam_engine paragraphs that share a sentence),
  then 0.24 (two Warsaw paragraphs); two outlets' own reports of one event at most 0.18.

Words as written, not the lexical index's stemmed tokens without stop words: those put the
rewritten update (0.37) under the Steam_engine pair (0.41). Containment, not Jaccard: an update
that adds a paragraph contains its first version but shares only 0.42 of their union.

**Finding candidates.** MinHash signatures (``datasketch``, 128 permutations) cut into 64 bands
of 2 rows, kept in SQLite: a pair sharing a band is a candidate, then checked exactly against the
articles' stored 5-gram hashes. A pair whose 5-gram Jaccard is 0.28 (the rewritten update)
becomes a candidate with probability 0.99, one at 0.05 with 0.15. A band row is 16 bytes and an
article's 5-grams 4 bytes a word.

**Cost** (this 2-core machine): 0.5 ms an article of the news sets, 1 ms for a synthetic article
of 300 words (``benchmarks/scale.py``'s), where the lexical index's own insert takes 0.4 ms: a cold
build of the lexical index runs at about 4,900 chunks/s with grouping, 12,300 without. Words are
hashed once each and grams rolled in numpy, permutations drawn once, band keys folded in numpy
(from 3 ms an article: SHA-1 of every gram's text, permutations drawn per article, BLAKE2 per band).

**Kept exact.** A story is named by the smallest article hash among its members, so the stories
after any order of additions and deletions are the ones a rebuild from Chroma gives. The tables
live in the lexical index's database (derived from Chroma, shared by the processes of one
machine, written inside its transactions), so they follow the store on the embedded Chroma and on
a server alike.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
from datasketch import MinHash

__all__ = ["SAME_STORY", "SCHEMA", "add_article", "containment", "remove_articles", "shingles", "stories_of"]

SHINGLE_WORDS = 5
SAME_STORY = 0.45
"""Share of the shorter article's word 5-grams found in the other for the two to be one story."""
MIN_SHINGLES = 8
"""An article of fewer 5-grams (a one-line brief) is its own story: a line is in too many texts."""
NUM_PERM = 128
BANDS, ROWS = 64, 2
_WORD = re.compile(r"\w+")
_FNV_PRIME = np.uint64(0x100000001B3)
_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)

SCHEMA = """
CREATE TABLE IF NOT EXISTS story_articles (
    id INTEGER PRIMARY KEY,
    article_hash TEXT NOT NULL UNIQUE,
    story TEXT NOT NULL,
    shingles BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS story_articles_story ON story_articles(story);
CREATE TABLE IF NOT EXISTS story_bands (key INTEGER NOT NULL, article INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS story_bands_key ON story_bands(key);
CREATE INDEX IF NOT EXISTS story_bands_article ON story_bands(article);
CREATE TABLE IF NOT EXISTS story_links (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));
CREATE INDEX IF NOT EXISTS story_links_b ON story_links(b);
"""


def shingles(text: str) -> np.ndarray:
    """The sorted distinct 32-bit hashes of the text's word 5-grams (lower case; a text of fewer
    words is one gram). Each word is hashed once (CRC-32) and the grams are rolled from the words'
    hashes in numpy: hashing every gram's text (SHA-1 through ``datasketch.sha1_hash32``) took
    1.6 ms of an article's 3 ms of grouping at 300 words."""
    words = _WORD.findall(text.lower())
    if not words:
        return np.zeros(0, dtype=np.uint32)
    ids = np.fromiter((zlib.crc32(word.encode()) for word in words), dtype=np.uint64, count=len(words))
    width = min(SHINGLE_WORDS, len(ids))
    grams = np.zeros(len(ids) - width + 1, dtype=np.uint64)
    for offset in range(width):  # FNV-style rolling: gram * prime + next word, wrapping at 2**64
        grams = grams * _FNV_PRIME + ids[offset : len(ids) - width + 1 + offset]
    return np.unique((grams ^ (grams >> np.uint64(32))).astype(np.uint32))


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller set's 5-grams found in the other."""
    smaller = min(len(a), len(b))
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller if smaller else 0.0


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The MinHash permutations, drawn once (each new MinHash drew them again: 0.4 ms an article)."""
    return MinHash(num_perm=NUM_PERM, hashfunc=int, scheme="affine32").permutations


def _band_keys(hashes: np.ndarray) -> list[int]:
    """The MinHash signature's bands, each folded into one 64-bit key (its band number mixed in,
    so equal values in two bands are two keys). Folding in numpy, not hashing each band's bytes:
    a key only proposes a candidate, which is then checked exactly."""
    minhash = MinHash(num_perm=NUM_PERM, hashfunc=int, scheme="affine32", permutations=_permutations())
    minhash.update_batch(hashes.tolist())
    bands = np.asarray(minhash.hashvalues, dtype=np.uint64).reshape(BANDS, ROWS)
    keys = np.arange(1, BANDS + 1, dtype=np.uint64) * _BAND_MIX[0]
    for row in range(ROWS):
        keys = keys * _FNV_PRIME + bands[:, row] * _BAND_MIX[row + 1]
    return keys.view(np.int64).tolist()


def add_article(db: sqlite3.Connection, article_hash: str, text: str) -> str:
    """Put an article in its story (inside the caller's write transaction); returns the story.
    An article already present keeps its story."""
    row = db.execute("SELECT story FROM story_articles WHERE article_hash = ?", (article_hash,)).fetchone()
    if row is not None:
        return str(row[0])
    grams = shingles(text)
    cursor = db.execute(
        "INSERT INTO story_articles (article_hash, story, shingles) VALUES (?, ?, ?)",
        (article_hash, article_hash, grams.tobytes()),
    )
    article = int(cursor.lastrowid or 0)
    if len(grams) < MIN_SHINGLES:
        return article_hash
    keys = _band_keys(grams)
    marks = ",".join("?" * len(keys))
    candidates = db.execute(
        "SELECT a.id, a.article_hash, a.story, a.shingles FROM story_articles a WHERE a.id IN "
        f"(SELECT DISTINCT article FROM story_bands WHERE key IN ({marks}))",
        keys,
    ).fetchall()
    db.executemany("INSERT INTO story_bands (key, article) VALUES (?, ?)", [(key, article) for key in keys])
    linked = [
        (other, story)
        for other, _, story, blob in candidates
        if containment(grams, np.frombuffer(blob, dtype=np.uint32)) >= SAME_STORY
    ]
    db.executemany("INSERT OR IGNORE INTO story_links (a, b) VALUES (?, ?)", [(other, article) for other, _ in linked])
    merged = {story for _, story in linked}
    story = min(merged | {article_hash})
    if merged:
        marks = ",".join("?" * len(merged))
        db.execute(f"UPDATE story_articles SET story = ? WHERE story IN ({marks}) OR id = ?", [story, *merged, article])
    return story


def clear(db: sqlite3.Connection) -> None:
    """Forget every story (inside the caller's write transaction)."""
    for table in ("story_links", "story_bands", "story_articles"):
        db.execute(f"DELETE FROM {table}")


def remove_articles(db: sqlite3.Connection, article_hashes: Iterable[str]) -> None:
    """Take articles out of their stories (inside the caller's write transaction): a story whose
    removed member joined the others falls apart into the groups still linked."""
    affected: set[str] = set()
    for article_hash in article_hashes:
        row = db.execute("SELECT id, story FROM story_articles WHERE article_hash = ?", (article_hash,)).fetchone()
        if row is None:
            continue
        article, story = row
        affected.add(story)
        db.execute("DELETE FROM story_links WHERE a = ? OR b = ?", (article, article))
        db.execute("DELETE FROM story_bands WHERE article = ?", (article,))
        db.execute("DELETE FROM story_articles WHERE id = ?", (article,))
    for story in affected:
        _regroup(db, story)


def _regroup(db: sqlite3.Connection, story: str) -> None:
    """Name each group of a former story's remaining members still linked by its smallest hash."""
    members = dict(db.execute("SELECT id, article_hash FROM story_articles WHERE story = ?", (story,)).fetchall())
    if not members:
        return
    marks = ",".join("?" * len(members))
    neighbours: dict[int, set[int]] = {member: set() for member in members}
    for a, b in db.execute(f"SELECT a, b FROM story_links WHERE a IN ({marks})", list(members)):
        neighbours[a].add(b)
        neighbours[b].add(a)
    unseen = set(members)
    while unseen:
        group, frontier = set(), [unseen.pop()]
        while frontier:
            member = frontier.pop()
            group.add(member)
            frontier += [n for n in neighbours[member] if n in unseen]
            unseen -= neighbours[member]
        name = min(members[member] for member in group)
        db.executemany("UPDATE story_articles SET story = ? WHERE id = ?", [(name, member) for member in group])


def stories_of(db: sqlite3.Connection, article_hashes: Sequence[str]) -> dict[str, str]:
    """The story of each of these articles that the index holds."""
    if not article_hashes:
        return {}
    marks = ",".join("?" * len(article_hashes))
    sql = f"SELECT article_hash, story FROM story_articles WHERE article_hash IN ({marks})"
    return dict(db.execute(sql, list(article_hashes)).fetchall())
