"""Retrieval quality: recall@k and MRR of the gold article, for dense, BM25 and hybrid search.

    python -m evals.retrieval [DATASET_FOLDER] [--limit N]

Indexes the dataset's articles into a collection of its own, then asks every answerable question.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from evals.dataset import Question, load_dataset
from evals.metrics import retrieval_scores
from index.settings import Settings
from qa.retriever import Mode, Retriever, unique_articles

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "squad2-dev"
KS = (1, 5, 10)


@dataclass(frozen=True)
class RetrievalScores:
    mode: str
    questions: int
    recall: dict[int, float]
    mrr: float

    def row(self) -> str:
        recalls = "".join(f"{self.recall[k]:>10.3f}" for k in KS)
        return f"{self.mode:<15}{self.questions:>6}{recalls}{self.mrr:>8.3f}"


def header() -> str:
    return f"{'mode':<15}{'n':>6}" + "".join(f"{f'recall@{k}':>10}" for k in KS) + f"{'MRR':>8}"


def gold_rank(retriever: Retriever, question: Question, mode: Mode, depth: int = max(KS)) -> int | None:
    """1-based rank of the gold article among the distinct articles retrieved, or None."""
    passages = retriever.search(question.question, k=depth * 2, mode=mode)
    articles = unique_articles(passages)[:depth]
    return articles.index(question.article_id) + 1 if question.article_id in articles else None


def score(retriever: Retriever, questions: Sequence[Question], mode: Mode, progress: bool = True) -> RetrievalScores:
    ranks = [gold_rank(retriever, q, mode) for q in tqdm(questions, desc=mode, disable=not progress, leave=False)]
    scores = retrieval_scores(ranks, KS)
    return RetrievalScores(mode, len(ranks), {k: scores[f"recall@{k}"] for k in KS}, scores["mrr"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_DATASET))
    parser.add_argument("--limit", type=int, default=None, help="Use the first N answerable questions.")
    parser.add_argument("--titles", default="", help="Only questions on these titles, comma-separated (tune on some).")
    parser.add_argument(
        "--alphas", default="", help="Also hybrid-convex at these cosine weights, comma-separated (e.g. 0.3,0.5,0.7)."
    )
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset)
    settings, report = dataset.index(Settings.from_env(), progress=True)
    print(f"Indexed {dataset.name}: {report.summary()}", file=sys.stderr)
    pool = dataset.on_titles(args.titles.split(",")) if args.titles else dataset.questions
    questions = [q for q in pool if q.answerable and q.article_id][: args.limit]
    print(
        f"{dataset.name}: gold-article retrieval on {len(questions)} answerable questions (attribution: {dataset.folder}/README.md)"
    )
    print(header())
    runs = [("dense", "convex"), ("lexical", "convex"), ("hybrid", "rrf"), ("hybrid", "convex")]
    for mode, fusion in runs:
        retriever = Retriever(settings, fusion=fusion)
        result = score(retriever, questions, mode, progress=sys.stderr.isatty())
        label = f"{mode}-{fusion}" if mode == "hybrid" else mode
        print(dataclasses.replace(result, mode=label).row(), flush=True)
    for alpha in [float(a) for a in args.alphas.split(",") if a]:
        result = score(Retriever(settings, alpha=alpha), questions, "hybrid", progress=sys.stderr.isatty())
        print(dataclasses.replace(result, mode=f"hybrid a={alpha:g}").row(), flush=True)


if __name__ == "__main__":
    main()
