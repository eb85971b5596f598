"""Search latency (query embedding included), p50 and p95, at the SQuAD sample's size and at 20,000 chunks.

    python benchmarks/search_latency.py [DATASET_FOLDER] [--queries N]

The 20,000-chunk index is built without running the model 20,000 times: the sample's articles
are copied (each copy's text made distinct so it is a distinct article) and each copy's chunk
embeddings are the originals plus a little noise. Search cost depends on the index's size and
shape, not on what the text says, so this measures what a real index of that size would cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.dataset import load_dataset  # noqa: E402
from index.articles import Article, load_file  # noqa: E402
from index.pipeline import Indexer  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import NewArticle, Store  # noqa: E402
from qa.retriever import Retriever  # noqa: E402

DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "squad2-dev"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def time_searches(retriever: Retriever, questions: list[str]) -> list[float]:
    retriever.search(questions[0])  # warm: loads the BM25 index once
    times = []
    for question in questions:
        started = time.perf_counter()
        retriever.search(question, k=5)
        times.append((time.perf_counter() - started) * 1000)
    return times


def grow_to(store: Store, target_chunks: int, articles: list[Article], indexer: Indexer) -> None:
    rng = np.random.default_rng(7)
    originals = []
    for article in articles:
        chunks = indexer.chunker.split(article.text, article.content_hash)
        stored = store.chunk_vectors([c.id for c in chunks])
        originals.append((article, chunks, np.stack([stored[c.id][1] for c in chunks])))
    copy = 0
    while store.chunk_count() < target_chunks:
        copy += 1
        batch = []
        for article, _chunks, vectors in originals:
            text = f"{article.text}\n[copy {copy}]"
            variant = dataclasses.replace(article, id=f"{article.id}~{copy}", text=text, location=f"copy{copy}")
            chunks = indexer.chunker.split(text, variant.content_hash)
            noisy = vectors[: len(chunks)] + rng.normal(0, 0.02, size=vectors[: len(chunks)].shape)
            if len(chunks) > len(vectors):
                noisy = np.vstack([noisy, vectors[-1:].repeat(len(chunks) - len(vectors), axis=0)])
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            batch.append(NewArticle(variant, chunks, noisy.astype(np.float32), [variant.location]))
        store.add_articles(batch)
        print(f"  {store.chunk_count()} chunks", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_DATASET))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--chunks", type=int, default=20_000)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    questions = [q.question for q in dataset.questions][: args.queries]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings().with_store(home=Path(home), collection="latency")
        indexer = Indexer(settings)
        indexer.index_paths([dataset.articles_path])
        retriever = Retriever(settings)
        print(f"Search latency, {len(questions)} queries, k=5, hybrid, query embedding included")
        p50, p95 = percentiles(time_searches(retriever, questions))
        print(f"{indexer.store.chunk_count():>7} chunks: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        articles = [a for a in load_file(dataset.articles_path, 1 << 40) if isinstance(a, Article)]
        grow_to(indexer.store, args.chunks, articles, indexer)
        indexer.lexical.refresh()
        retriever = Retriever(settings)
        p50, p95 = percentiles(time_searches(retriever, questions))
        print(f"{indexer.store.chunk_count():>7} chunks: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms (target p50 < 25 ms)")


if __name__ == "__main__":
    main()
