"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates, fused.

Why hybrid: MiniLM finds paraphrases but blurs names and numbers; BM25 finds exact names and
numbers but misses paraphrases. Every candidate from either search gets both scores exactly, and
the default fusion is a convex combination of the cosine and the max-normalised BM25 score. On
the SQuAD sample that beat both searches alone, where reciprocal rank fusion (``fusion="rrf"``,
kept for comparison) did not beat BM25 alone: rank fusion throws away how far apart the scores are.

After fusion, overlapping or touching chunks of one article merge into one passage, and one
article may fill at most ``per_article`` of the ``k`` places while other articles are still
relevant, so a long article cannot crowd out the rest unless it alone is relevant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np

from index.embeddings import MiniLMEmbedder, shared_embedder
from index.lexical import LexicalCache, LexicalIndex, shared_lexical
from index.metadata import date_bounds
from index.records import ChunkFilter, ChunkMeta, StoredArticle
from index.settings import Settings
from index.store import Store, shared_store
from qa.passages import BadFilterError, BadLimitError, EmptyIndexError, EmptyQueryError, Passage

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["convex", "rrf"]
ALPHA = 0.5
"""Weight of the cosine against the max-normalised BM25 score. Chosen again on the SQuAD sample's
tuning titles after BM25 moved from bm25s to SQLite FTS5 (Normans, Steam engine, Harvard
University; 423 answerable questions, ``python -m evals.retrieval --titles ... --alphas``): recall@5
0.979 / 0.983 / 0.983 / 0.983 / 0.979 and MRR 0.914 / 0.917 / 0.919 / 0.920 / 0.920 at 0.3 / 0.4 /
0.5 / 0.6 / 0.7, differences of a question or two, so 0.5 stays. On the other three titles (Warsaw,
Immune system, Force; 659 questions, nothing chosen there): hybrid recall@5 0.991, MRR 0.939,
against 0.939 and 0.825 for the dense search alone and 0.979 and 0.929 for BM25 alone."""
RRF_K = 60
CANDIDATES = 20
MAX_CANDIDATES = 320  # the widest look down the lists when passages merge into fewer than k
MAX_QUERY_CHARS = 2000
MAX_PASSAGE_CHARS = 1600
ARTICLE_CACHE = 512
RELEVANT_COSINE = 0.3
"""A chunk this similar to the query counts as relevant when deciding whether to cap an article."""
MAX_K = 50
"""The most passages the web API and the MCP server hand out for one search."""
FILTER_IN_CHROMA_ROWS = 2000
"""A filter that matches at most this many chunks goes to Chroma as a ``where`` clause; a broader one
is applied to a wider unfiltered nearest-neighbour list instead. Chroma's filtered query costs what
its matching rows cost: at 40k chunks a clause matching most rows took 217-244 ms, one matching 10
articles 13 ms, against 2 ms unfiltered (``../shared/notes/chroma-scale.md``); at 50k chunks a date
range matching one chunk in twelve took 437 ms p50 (``benchmarks/scale.py``)."""
MAX_OVERFETCH = 1000
"""The widest unfiltered list read to apply a broad filter to (then the filter goes to Chroma)."""


def checked_k(k: int) -> int:
    """``k`` when a front door may ask for that many passages; ``BadLimitError`` otherwise
    (k=0 returned nothing, silently, through the web API)."""
    if not 1 <= k <= MAX_K:
        raise BadLimitError(f"k={k} is out of range: ask for 1 to {MAX_K} passages")
    return k


@dataclass(frozen=True)
class Filters:
    """Restrict a search; the same filter applies to the dense and the lexical search."""

    publishers: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    published_from: str | None = None
    """Earliest date (YYYY, YYYY-MM or YYYY-MM-DD); articles of unknown date are left out."""
    published_to: str | None = None
    keep_undated: bool = False
    """Articles of unknown date pass the date bounds (a window read from the question's words)."""

    def bounds(self) -> tuple[int | None, int | None]:
        low = _bound(self.published_from, first=True)
        high = _bound(self.published_to, first=False)
        return low, high

    def chunk_filter(self) -> ChunkFilter:
        """The store's form of this filter (raises ``BadFilterError`` for a date that is not one)."""
        low, high = self.bounds()
        return ChunkFilter(self.publishers, self.article_ids, low, high, self.keep_undated)

    def within(self, first: date | None, last: date) -> Filters:
        """This filter narrowed to articles published from ``first`` (None: any day) to ``last``;
        undated articles are kept unless this filter already bounds the dates, as a reader's own
        date filter does."""
        low, high = self.bounds()
        new_low = max(low or 0, _bound(first, first=True) or 0)
        new_high = min(high or 99991231, _bound(last, first=False) or 99991231)
        return replace(
            self,
            published_from=_day(new_low) if new_low else None,
            published_to=_day(new_high),
            keep_undated=self.keep_undated or (low is None and high is None),
        )


def _day(value: int) -> str:
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"


def _bound(value: str | date | None, first: bool) -> int | None:
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    lo, hi = date_bounds(text)
    if lo == 0:
        raise BadFilterError(f"date filter {text!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    return lo if first else hi


@dataclass
class _Candidate:
    chunk_id: str
    meta: ChunkMeta | None
    """None until read from the store (a chunk found by BM25 alone)."""
    dense: float | None = None
    lexical: float | None = None
    fused: float = 0.0


@dataclass
class _Group:
    """Chunks of one article that overlap or touch: one passage."""

    article_hash: str
    start: int
    end: int
    best: _Candidate
    chunk_ids: list[str] = field(default_factory=list)


class Retriever:
    """Search the indexed articles. Thread-safe; open one and reuse it.

    >>> retriever = Retriever()
    >>> for passage in retriever.search("Who leads the Chinese delegation?", k=3):
    ...     print(passage.rank, passage.title, passage.text[:60])
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        embedder: MiniLMEmbedder | None = None,
        lexical: LexicalCache | None = None,
        per_article: int = 2,
        fusion: Fusion = "convex",
        alpha: float = ALPHA,
    ) -> None:
        self.settings = settings or Settings.from_env()
        # Parts not passed are the process's own for these settings: never a second copy.
        self.store = store or shared_store(self.settings)
        self.embedder = embedder or shared_embedder()
        self.lexical = lexical or shared_lexical(self.store)
        self.per_article = per_article
        self.fusion = fusion
        self.alpha = alpha
        self._article_cache: dict[str, tuple[StoredArticle, str]] = {}
        self._lanes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        publishers: Sequence[str] = (),
        article_ids: Sequence[str] = (),
        published_from: str | None = None,
        published_to: str | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first.

        Raises ``EmptyQueryError`` for a blank query, ``EmptyIndexError`` when nothing is indexed
        and ``BadFilterError`` for an unusable filter value.
        """
        query = (query or "").strip()
        if not query:
            raise EmptyQueryError()
        query = query[:MAX_QUERY_CHARS]
        filters = filters or Filters(tuple(publishers), tuple(article_ids), published_from, published_to)
        where = filters.chunk_filter()  # validates dates before any work
        lexical = self.lexical.get() if mode != "dense" else None
        pool = CANDIDATES
        vector = None
        while True:
            candidates: dict[str, _Candidate] = {}
            # BM25 (Tantivy) and the read of its hits' embeddings run while the query is embedded
            # and Chroma searched (all let go of the GIL): they overlap instead of adding up.
            best = self._lanes.submit(self._lexical_hits, lexical, query, pool, where) if lexical is not None else None
            if vector is None:
                vector = self.embedder.embed_query(query)
            found = 0
            if mode != "lexical":
                found = max(found, self._dense_candidates(vector, where, candidates, pool, lexical))
            vectors: dict[str, tuple[ChunkMeta, np.ndarray]] = {}
            if best is not None:
                hits, vectors = best.result()
                found = max(found, self._lexical_candidates(hits, candidates))
            if not candidates and self.store.article_count() == 0:
                raise EmptyIndexError()
            self._complete(candidates, vector, query, lexical, vectors)
            self._fuse(list(candidates.values()), mode)
            ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)
            groups, filled_from_capped = self._passages(ranked, k)
            # One long repetitive article can fill every candidate place: its chunks merge into fewer
            # than k passages (issue 14: `search -k 5` gave 3), or it takes places past its cap.
            # Then look further down the lists for other articles (unless both lists ran out).
            done = len(groups) >= k and not filled_from_capped
            if done or found < pool or pool >= MAX_CANDIDATES:
                return self._materialise(groups)
            pool *= 4

    # ---- the two searches ----------------------------------------------------------------

    def _dense_candidates(
        self,
        vector: np.ndarray,
        where: ChunkFilter,
        candidates: dict[str, _Candidate],
        pool: int,
        lexical: LexicalIndex | None,
    ) -> int:
        nearest = self._broadly_filtered_nearest(vector, where, pool, lexical) if where else None
        if nearest is None:
            nearest = self._nearest(vector, pool, where, lexical)
        for chunk_id, meta, distance in nearest:
            candidates[chunk_id] = _Candidate(chunk_id, meta, dense=1.0 - distance)
        return len(nearest)

    def _broadly_filtered_nearest(
        self, vector: np.ndarray, where: ChunkFilter, pool: int, lexical: LexicalIndex | None
    ) -> list[tuple[str, ChunkMeta, float]] | None:
        """The ``pool`` nearest chunks a broad filter accepts, from a wider unfiltered list; None
        when the filter is narrow (Chroma applies it cheaply) or the wider list holds too few."""
        if lexical is None:
            return None
        matching, total = lexical.matching(where)
        if matching <= FILTER_IN_CHROMA_ROWS or total == 0:
            return None
        wider = min(MAX_OVERFETCH, total, int(pool * total / matching * 1.5) + 1)
        accepted = [hit for hit in self._nearest(vector, wider, None, lexical) if where.accepts(hit[1])]
        return accepted[:pool] if len(accepted) >= pool or wider >= total else None  # all read: complete

    def _nearest(
        self, vector: np.ndarray, n: int, where: ChunkFilter | None, lexical: LexicalIndex | None
    ) -> list[tuple[str, ChunkMeta, float]]:
        """The dense search's hits with their metadata: from the lexical index's rows where it holds
        them (one local read), from Chroma for chunks it has not synced yet."""
        if lexical is None:
            return self.store.nearest_chunks(vector, n, where)
        hits = self.store.nearest_ids(vector, n, where)
        metas = lexical.metas([chunk_id for chunk_id, _distance in hits])
        unsynced = [chunk_id for chunk_id, _distance in hits if chunk_id not in metas]
        if unsynced:
            metas.update(self.store.chunk_metas(unsynced))
        return [(chunk_id, metas[chunk_id], distance) for chunk_id, distance in hits if chunk_id in metas]

    def _lexical_hits(
        self, lexical: LexicalIndex, query: str, pool: int, where: ChunkFilter
    ) -> tuple[list[tuple[str, ChunkMeta, float]], dict[str, tuple[ChunkMeta, np.ndarray]]]:
        """BM25's best chunks and their stored embeddings, read while the query is embedded and
        the dense search runs (the embeddings of chunks BM25 alone found give their cosine; read
        after the dense search they added 10 ms to a search at 10k articles on a server)."""
        hits = lexical.top(query, pool, where)
        return hits, self.store.chunk_vectors([chunk_id for chunk_id, _meta, _score in hits]) if hits else {}

    @staticmethod
    def _lexical_candidates(best: list[tuple[str, ChunkMeta, float]], candidates: dict[str, _Candidate]) -> int:
        for chunk_id, meta, score in best:
            candidate = candidates.setdefault(chunk_id, _Candidate(chunk_id, meta))
            candidate.lexical = score
        return len(best)

    def _complete(
        self,
        candidates: dict[str, _Candidate],
        vector: np.ndarray,
        query: str,
        index: LexicalIndex | None,
        vectors: dict[str, tuple[ChunkMeta, np.ndarray]],
    ) -> None:
        """Give every candidate both scores, exactly: the BM25 score of chunks found by the dense
        search alone from the lexical index, and the cosine of chunks found by BM25 alone from
        their stored embeddings (a chunk gone from Chroma since the lexical index saw it drops out)."""
        if index is not None:
            unscored = [c.chunk_id for c in candidates.values() if c.lexical is None]
            for chunk_id, score in index.scores(query, unscored).items():
                candidates[chunk_id].lexical = score
        missing = [c for c in candidates.values() if c.dense is None]
        if not missing:
            return
        unread = [c.chunk_id for c in missing if c.chunk_id not in vectors]
        found = {**vectors, **self.store.chunk_vectors(unread)} if unread else vectors
        for candidate in missing:
            if candidate.chunk_id not in found:
                del candidates[candidate.chunk_id]  # removed from Chroma since the lexical index synced
                continue
            meta, embedding = found[candidate.chunk_id]
            candidate.meta = meta
            candidate.dense = float(np.dot(embedding, vector))

    def _fuse(self, candidates: list[_Candidate], mode: Mode) -> None:
        best_lexical = max((c.lexical or 0.0 for c in candidates), default=0.0)
        if self.fusion == "rrf" and mode == "hybrid":
            for order_key in (lambda c: c.dense or 0.0, lambda c: c.lexical or 0.0):
                for rank, candidate in enumerate(sorted(candidates, key=order_key, reverse=True)):
                    candidate.fused += 1.0 / (RRF_K + rank + 1)
            return
        weight = {"hybrid": self.alpha, "dense": 1.0, "lexical": 0.0}[mode]
        for candidate in candidates:
            lexical = (candidate.lexical or 0.0) / best_lexical if best_lexical > 0 else 0.0
            candidate.fused = weight * (candidate.dense or 0.0) + (1.0 - weight) * lexical

    # ---- from ranked chunks to passages --------------------------------------------------

    def _passages(self, ranked: list[_Candidate], k: int) -> tuple[list[_Group], bool]:
        """Merge chunks into passages, capping each article while other relevant articles remain.

        Order of filling: relevant chunks (capped per article), then the capped article's other
        chunks, then the weakly matching rest. Also says whether a capped article's chunks had to
        fill places (other articles ran out among these candidates).
        """
        best_lexical = max((c.lexical or 0.0 for c in ranked), default=0.0)

        def relevant(c: _Candidate) -> bool:
            return (c.dense or 0.0) >= RELEVANT_COSINE or (c.lexical or 0.0) >= 0.5 * best_lexical > 0

        groups: list[_Group] = []
        deferred: list[_Candidate] = []
        for candidate in (c for c in ranked if relevant(c)):
            if len(groups) >= k:
                break
            if self._merge(candidate, groups):
                continue
            if sum(g.article_hash == _meta(candidate).article_hash for g in groups) >= self.per_article:
                deferred.append(candidate)
            else:
                groups.append(self._group(candidate))
        filled_from_capped = False
        for candidate in [*deferred, *(c for c in ranked if not relevant(c))]:
            if len(groups) >= k:
                break
            if not self._merge(candidate, groups):
                groups.append(self._group(candidate))
                filled_from_capped = filled_from_capped or candidate in deferred
        return groups, filled_from_capped

    @staticmethod
    def _group(candidate: _Candidate) -> _Group:
        meta = _meta(candidate)
        return _Group(meta.article_hash, meta.start, meta.end, candidate, [candidate.chunk_id])

    @staticmethod
    def _merge(candidate: _Candidate, groups: list[_Group]) -> bool:
        """Fold the chunk into the passages of its article that it overlaps or touches.

        Returns False when it touches none (it starts a passage of its own). A merged passage
        spans at most ``MAX_PASSAGE_CHARS``; a chunk that would make it longer is dropped, as
        context its neighbour already gives. So passages of one article never overlap or touch.
        """
        meta = _meta(candidate)
        start, end = meta.start, meta.end
        touched = [g for g in groups if g.article_hash == meta.article_hash and _touch(start, end, g.start, g.end)]
        if not touched:
            return False
        low, high = min(start, *(g.start for g in touched)), max(end, *(g.end for g in touched))
        if high - low > MAX_PASSAGE_CHARS:
            return True
        keep = touched[0]
        keep.start, keep.end = low, high
        keep.chunk_ids.append(candidate.chunk_id)
        for other in touched[1:]:
            keep.chunk_ids.extend(other.chunk_ids)
            groups.remove(other)
        return True

    def _materialise(self, groups: list[_Group]) -> list[Passage]:
        articles = self._articles([g.article_hash for g in groups])
        stories, others = self._stories(list(articles))
        passages: list[Passage] = []
        for group in groups:
            if group.article_hash not in articles:
                continue  # chunks of an article not committed (a run still writing, or killed)
            article, text = articles[group.article_hash]
            best = group.best
            passages.append(
                Passage(
                    text=text[group.start : group.end],
                    article_id=article.article_id,
                    article_hash=group.article_hash,
                    title=article.title,
                    publisher=article.publisher,
                    published=article.published,
                    url=article.url,
                    start=group.start,
                    end=group.end,
                    rank=len(passages) + 1,
                    fused_score=best.fused,
                    dense_score=best.dense,
                    lexical_score=best.lexical,
                    chunk_ids=tuple(group.chunk_ids),
                    story=stories.get(group.article_hash, group.article_hash),
                    copies=others.get(group.article_hash, ()),
                )
            )
        return passages

    def _stories(self, hashes: list[str]) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
        """Each article's story, and the other outlets (else article ids) that carried it, from
        the lexical index as it is (an article it has not grouped yet is a story of its own)."""
        index = self.lexical.index
        stories = index.stories(hashes)
        members = index.story_members(sorted(set(stories.values())))
        others: dict[str, tuple[str, ...]] = {}
        for article_hash, story in stories.items():
            group = members.get(story, [])
            own = next((m.publisher for m in group if m.article_hash == article_hash), "")
            names = (m.publisher or m.article_id for m in group if m.article_hash != article_hash)
            others[article_hash] = tuple(name for name in dict.fromkeys(names) if name != own)
        return stories, others

    def _articles(self, hashes: list[str]) -> dict[str, tuple[StoredArticle, str]]:
        """Article texts and metadata by content hash, for committed articles only (read from the
        manifest, which holds committed articles alone). A hash names one exact text, so what is
        cached never goes stale; an article deleted after it was cached is no longer found by
        the searches (the dense search finds only stored chunks, and BM25-only hits are dropped
        when their embedding is gone)."""
        missing = [h for h in dict.fromkeys(hashes) if h not in self._article_cache]
        if missing:
            for article, text in self.store.article_records(missing):
                if len(self._article_cache) >= ARTICLE_CACHE:
                    self._article_cache.pop(next(iter(self._article_cache)))
                self._article_cache[article.article_hash] = (article, text)
        return {h: self._article_cache[h] for h in hashes if h in self._article_cache}

    def whole_articles(self, passages: Sequence[Passage]) -> list[Passage]:
        """The articles of ``passages``, each whole as one passage at the best rank of its passages.

        The evidence step reads these for the answer sentence a passage left out: a news article
        retells its story first and answers the asker's detail paragraphs later, and the chunk
        that matched the question is often the retelling (issue 25)."""
        best: dict[str, Passage] = {}
        for passage in sorted(passages, key=lambda p: p.rank):
            best.setdefault(passage.article_hash, passage)
        articles = self._articles(list(best))
        return [
            replace(passage, text=articles[hash_][1], start=0, end=len(articles[hash_][1]), chunk_ids=())
            for hash_, passage in best.items()
            if hash_ in articles
        ]

    def article_text(self, article_id: str) -> tuple[str, StoredArticle] | None:
        """The full text and record of an article, by public id or content hash (for showing a source)."""
        stored = self.store.find_article(article_id)
        if stored is None:
            return None
        return (self.store.article_text(stored.hash) or "", stored)


def _meta(candidate: _Candidate) -> ChunkMeta:
    if candidate.meta is None:  # pragma: no cover - _complete reads every candidate's metadata
        raise AssertionError(f"chunk {candidate.chunk_id} has no metadata")
    return candidate.meta


def _touch(start: int, end: int, other_start: int, other_end: int, gap: int = 2) -> bool:
    """Spans overlap, or only a paragraph break or a space lies between them."""
    return start <= other_end + gap and end >= other_start - gap


def unique_articles(passages: Iterable[Passage]) -> list[str]:
    """Article ids in the order they first appear (what article-level recall is measured on)."""
    return list(dict.fromkeys(p.article_id for p in passages))
