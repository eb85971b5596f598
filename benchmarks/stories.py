"""Story grouping (``index.stories``): precision and recall on known copies, and its cost.

    python benchmarks/stories.py [--threshold 0.45]

Indexes, into a lexical index of its own (the tables and code the sync uses, without Chroma or
the embedder), the news-weeks fixture (40 articles, whose stories of several articles are listed
in ``evals/data/news-weeks/stories.json``), the SQuAD sample (257 Wikipedia paragraphs) and
news-long (200 articles, many on the same events in other words). Only the fixture's listed
stories are true groups; any other pair grouped is a false one. Articles are chunked by the real
chunker, so the text a story is judged on is put back together from chunks as in a sync.

Prints pair precision and recall, each false or missed pair, and the grouping's cost per article
(the whole insert, and the share of it that grouping takes).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETS = [
    ROOT / "evals" / "data" / "news-weeks" / "articles.jsonl",
    ROOT.parent / "shared" / "datasets" / "squad2-dev" / "articles.jsonl",
    ROOT / "evals" / "data" / "news-long" / "articles.jsonl",
]


def main() -> None:
    from index import stories
    from index.articles import Article, load_file
    from index.chunking import Chunker
    from index.embeddings import shared_embedder
    from index.lexical import LexicalIndex
    from index.records import ArticleFields, ChunkMeta, StoredChunk

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=stories.SAME_STORY)
    threshold = parser.parse_args().threshold
    stories.SAME_STORY = threshold

    known = json.loads((ROOT / "evals/data/news-weeks/stories.json").read_text())["stories"]
    true_pairs = {frozenset(pair) for story in known for pair in itertools.combinations(story, 2)}
    chunker = Chunker(shared_embedder().count_tokens)
    articles = [a for path in SETS if path.exists() for a in load_file(path, 1 << 40) if isinstance(a, Article)]
    grouping = 0.0
    add_article = stories.add_article

    def timed_add(*args: object) -> str:
        nonlocal grouping
        started = time.perf_counter()
        try:
            return add_article(*args)  # type: ignore[arg-type]
        finally:
            grouping += time.perf_counter() - started

    stories.add_article = timed_add
    with tempfile.TemporaryDirectory() as folder:
        index = LexicalIndex(Path(folder) / "lexical.sqlite3")
        started = time.perf_counter()
        for article in articles:
            fields = ArticleFields.of(article)
            chunks = [
                StoredChunk(f"{c.article_hash}:{c.index}", c.text, ChunkMeta(**vars(fields), chunk_index=c.index, start=c.start, end=c.end))
                for c in chunker.split(article.text, article.content_hash)
            ]  # fmt: skip
            index.add(chunks)
        total = time.perf_counter() - started
        story = index.stories([a.content_hash for a in articles])
    by_story: dict[str, list[str]] = {}
    for article in articles:
        by_story.setdefault(story[article.content_hash], []).append(article.id)
    found = {frozenset(pair) for ids in by_story.values() for pair in itertools.combinations(ids, 2)}
    right = found & true_pairs
    print(f"articles: {len(articles)} ({', '.join(p.parent.name for p in SETS if p.exists())}); threshold {threshold}")
    print(f"pairs grouped: {len(found)}, right {len(right)}, known {len(true_pairs)}")
    print(f"precision: {len(right) / len(found) if found else float('nan'):.3f}")
    print(f"recall:    {len(right) / len(true_pairs):.3f}")
    for pair in sorted(map(sorted, found - true_pairs)):
        print("  false pair:", *pair)
    for pair in sorted(map(sorted, true_pairs - found)):
        print("  missed pair:", *pair)
    print(
        f"insert: {1000 * total / len(articles):.2f} ms an article, of which grouping {1000 * grouping / len(articles):.2f} ms"
    )


if __name__ == "__main__":
    main()
