"""citeqa on a Chroma server at 10k, 30k and 100k articles (about five chunks each): issue 12's figures.

    python benchmarks/scale.py [--sizes 10000,30000,100000] [--queries 60] [--writers 4]
    python benchmarks/scale.py --sizes none --lexical-articles 1000000   # the lexical half alone

Starts its own `chroma run` on 127.0.0.1 (and stops it), grows one collection through the sizes
and prints, at each size: the index rate; a new client's time to its first search, with the
machine's lexical index already on disk and without it (then building it, in chunks/s); hybrid
search p50/p95 without a filter, with a publisher filter and with a date range; how long until an
article committed by another client is found by the lexical and by the dense search; a client's
steady memory; and an exactness check: ``--writers`` clients on their own data folders (machines)
adding, replacing and deleting articles at once while two of them keep syncing, then every
client's lexical index compared with Chroma's chunks (missing and extra must both be 0).

The articles are synthetic: text drawn from a fixed vocabulary of 5,000 words, unit vectors drawn
at random (search cost depends on the index's size and shape, not on what the text says), and
metadata like real articles' (20 publishers, dates over six years). Query vectors come from the
real MiniLM, as in a search. A new client is a new process: its time includes Python's imports.

Measured here (2 cores), ``--sizes 10000,100000 --operations 50`` after issue 29: hybrid search
p50/p95 at 100k articles (500k chunks) 26.8/33.9 ms unfiltered, 100.0/119.8 ms with a publisher
filter and 72.5/87.4 ms with a date range (65.5/102.9, 138.7/493.6 and 110.6/484.9 ms with SQLite
FTS5 and the dense hits' metadata read from Chroma); `citeqa index` of one new article 2.47 s end to
end; the publisher list 0.0 ms; another client's article found by BM25 after 0.8 s; a new client
searches 0.88 s after start-up with the machine's index on disk, builds it at 1,975 chunks/s
without, holds 366 MiB; four writers at once, then 0 missing and 0 extra. A broad filter's cost at
100k is Chroma's graph search about 600 chunks wide. ``--lexical-articles`` prints the lexical
half alone (the README has its figures at a million articles).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.articles import Article  # noqa: E402
from index.chunking import Chunk  # noqa: E402
from index.lexical import LexicalCache, cache_folder  # noqa: E402
from index.records import ChunkFilter  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import NewArticle, Store  # noqa: E402
from qa.retriever import Filters, Retriever  # noqa: E402

VOCABULARY = [f"w{n:04d}" for n in range(5000)]
PUBLISHERS = [f"Publisher {n}" for n in range(20)]
CHUNKS_PER_ARTICLE = 5
WORDS_PER_CHUNK = 60
BATCH = 250


def synthetic(tag: str, n: int, rng: random.Random) -> tuple[Article, list[Chunk]]:
    """One article of ``CHUNKS_PER_ARTICLE`` chunks with exact spans, a publisher and a date."""
    parts = [" ".join(rng.choices(VOCABULARY, k=WORDS_PER_CHUNK)) + "." for _ in range(CHUNKS_PER_ARTICLE)]
    parts[0] = f"{tag}{n}zq {parts[0]}"  # a word of its own, for finding it by BM25
    text = "\n\n".join(parts)
    published = f"{rng.randint(2020, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    article = Article(
        id=f"{tag}-{n}",
        text=text,
        title=f"{tag} {n}",
        publisher=rng.choice(PUBLISHERS),
        published=published,
        location=f"synthetic/{tag}/{n}",
    )
    chunks, start = [], 0
    for index, part in enumerate(parts):
        start = text.index(part, start)
        chunks.append(Chunk(article.content_hash, index, part, start, start + len(part)))
        start += len(part)
    return article, chunks


def unit_vectors(rows: int, generator: np.random.Generator) -> np.ndarray:
    vectors = generator.standard_normal((rows, 384), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def add(store: Store, tag: str, first: int, count: int, seed: int) -> float:
    """Write ``count`` synthetic articles; returns the seconds it took."""
    rng, generator = random.Random(seed), np.random.default_rng(seed)
    started = time.perf_counter()
    for begin in range(first, first + count, BATCH):
        items = []
        for n in range(begin, min(first + count, begin + BATCH)):
            article, chunks = synthetic(tag, n, rng)
            items.append(NewArticle(article, chunks, unit_vectors(len(chunks), generator), [article.location]))
        store.add_articles(items)
    return time.perf_counter() - started


def catch_up(cache: LexicalCache) -> None:
    """Bring a client's lexical index up to date (``refresh`` was a full rebuild before issue 12,
    kept so this script can measure the code before it too)."""
    (getattr(cache, "sync", None) or cache.refresh)()


def held_chunks(cache: LexicalCache) -> set[str]:
    index = getattr(cache, "index", None)
    return index.chunk_ids() if index is not None else set(cache.get().chunk_ids)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered):6.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:6.1f} ms"


def timed_searches(retriever: Retriever, queries: list[str], filters: Filters | None) -> list[float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        retriever.search(query, k=5, filters=filters)
        times.append((time.perf_counter() - started) * 1000)
    return times


# A new client: a fresh process that opens the store, searches once (timed from the start of its
# main code, after Python's imports, which are printed apart), searches on, and reports its memory.
_NEW_CLIENT = textwrap.dedent(
    """
    import json, sys, time
    began = time.perf_counter()
    from index.settings import Settings
    from qa.retriever import Retriever
    imported = time.perf_counter()
    settings = Settings.from_env().with_store(home=sys.argv[1], chroma_url=sys.argv[2], collection="scale")
    retriever = Retriever(settings)
    retriever.search(sys.argv[3], k=5)
    first = time.perf_counter()
    for query in json.loads(sys.argv[4]):
        retriever.search(query, k=5)
    rss = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS")))
    print(json.dumps({"imports_s": imported - began, "first_search_s": first - imported, "rss_mib": rss / 1024}))
    """
)


def new_client(home: Path, url: str, queries: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _NEW_CLIENT, str(home), url, queries[0], json.dumps(queries[1:])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# `citeqa index` of one file, as its command runs it, timed after Python's imports: the Indexer, its
# repair, its view of what exists, the MiniLM, the write and the lexical catch-up.
_ONE_ARTICLE = textwrap.dedent(
    """
    import json, sys, time
    from index.pipeline import Indexer
    from index.settings import Settings
    began = time.perf_counter()
    settings = Settings.from_env().with_store(home=sys.argv[1], chroma_url=sys.argv[2], collection="scale")
    report = Indexer(settings).index_paths([sys.argv[3]])
    assert [result.outcome.value for result in report.results] == ["added"], report
    print(json.dumps({"index_s": time.perf_counter() - began}))
    """
)


def one_article(home: Path, url: str, workdir: Path, n: int) -> tuple[float, float]:
    """Seconds to index one new article in a new process, end to end and after Python's imports."""
    folder = workdir / f"upload-{n}"
    folder.mkdir()
    (folder / "note.txt").write_text(f"Upload {n}\n\nThe harbour of Velden{n} reopened on Monday, the port said.\n")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _ONE_ARTICLE, str(home), url, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return time.perf_counter() - started, json.loads(out.strip().splitlines()[-1])["index_s"]


def visibility_delay(retriever: Retriever, other: Store, tag: str, n: int) -> tuple[float, float]:
    """Seconds from another client's commit until the article is found by BM25 and by the dense search."""
    rng, generator = random.Random(n), np.random.default_rng(n)
    article, chunks = synthetic(tag, n, rng)
    vectors = unit_vectors(len(chunks), generator)
    other.add_articles([NewArticle(article, chunks, vectors, [article.location])])
    committed = time.perf_counter()
    lexical_at = dense_at = None
    while (lexical_at is None or dense_at is None) and time.perf_counter() - committed < 120:
        if lexical_at is None:
            hits = retriever.search(f"{tag}{n}zq", k=1, mode="lexical")
            if hits and hits[0].article_id == article.id:
                lexical_at = time.perf_counter() - committed
        if dense_at is None:
            # Narrowed to the article: HNSW's recall on random 384-d vectors (no clusters, unlike
            # real embeddings) fell so low at 150k chunks that the exact vector was not among the
            # top 10 at all; the filtered query reads every matching row, so it says when the
            # vector is in the index.
            nearest = retriever.store.nearest_chunks(vectors[0], 1, ChunkFilter(article_ids=(article.id,)))
            if nearest and nearest[0][1].article_id == article.id:
                dense_at = time.perf_counter() - committed
        time.sleep(0.05)
    return (float("inf") if lexical_at is None else lexical_at), (float("inf") if dense_at is None else dense_at)


# One of the concurrent writers: its own machine (data folder); adds, replaces (same id, new text)
# and deletes articles, syncing its lexical index as it goes.
_WRITER = textwrap.dedent(
    """
    import random, sys
    sys.path.insert(0, sys.argv[5])
    from benchmarks.scale import catch_up, synthetic, unit_vectors
    import numpy as np
    from index.lexical import LexicalCache, cache_folder
    from index.settings import Settings
    from index.store import NewArticle, Store

    home, url, tag, operations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Store(Settings.from_env().with_store(home=home, chroma_url=url, collection="scale"))
    lexical = LexicalCache(store, cache_folder(store))
    rng, generator = random.Random(tag), np.random.default_rng(abs(hash(tag)) % 2**32)
    live = []
    for n in range(operations):
        article, chunks = synthetic(tag, n, rng)
        store.add_articles([NewArticle(article, chunks, unit_vectors(len(chunks), generator), [article.location])])
        live.append(article.content_hash)
        if n % 4 == 3:  # replace: the same story with a new text, the old version removed
            store.delete_article(live.pop(-2))
        if n % 5 == 4:
            store.delete_article(live.pop(0))
        if n % 10 == 0:
            catch_up(lexical)
    catch_up(lexical)
    """
)


def exactness(url: str, workdir: Path, writers: int, operations: int, size: int) -> tuple[int, int, int]:
    """Writers at once on their own machines; returns (clients checked, chunks missing, chunks extra)."""
    homes = [workdir / f"writer-{size}-{n}" for n in range(writers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(home), url, f"x{size}n{n}", str(operations), str(ROOT)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, home in enumerate(homes)
    ]
    for process in processes:
        _out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"a writer failed: {err[-2000:]}")
    truth_store = Store(Settings.from_env().with_store(home=workdir / "truth", chroma_url=url, collection="scale"))
    truth = {chunk.id for chunk in truth_store.all_chunks()}
    missing = extra = 0
    for home in homes:
        store = Store(Settings.from_env().with_store(home=home, chroma_url=url, collection="scale"))
        cache = LexicalCache(store, cache_folder(store))
        catch_up(cache)  # the other writers' last changes
        held = held_chunks(cache)
        missing += len(truth - held)
        extra += len(held - truth)
    return len(homes), missing, extra


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    executable = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    process = subprocess.Popen(
        [executable, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return process, url
        except OSError:
            if time.time() > deadline:
                process.kill()
                raise RuntimeError("chroma run did not start") from None
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="article counts, growing")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--operations", type=int, default=100, help="articles each concurrent writer adds")
    parser.add_argument(
        "--lexical-articles",
        type=int,
        default=0,
        help="then the lexical half alone at this many articles (benchmarks/lexical_1m.py's citeqa engine)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip() and s != "none"]
    if sizes:
        chroma_sizes(sizes, args)
    if args.lexical_articles:
        lexical_alone(args.lexical_articles, args.queries)


def lexical_alone(count: int, queries: int) -> None:
    """The shipped lexical index by itself (no Chroma): cold build, top-20, a sync of 100 changed
    articles and its size on disk, as ``benchmarks/lexical_1m.py --engines citeqa`` prints them."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import lexical_1m

    generator = np.random.default_rng(7)
    words = lexical_1m.VOCABULARY
    asked = [" ".join(generator.choice(words, generator.integers(3, 7))) for _ in range(queries)]
    workdir = Path(tempfile.mkdtemp(prefix="citeqa-lexical-"))
    try:
        lexical_1m.measure(lexical_1m.Citeqa(workdir / "citeqa"), count, asked)
        status = Path("/proc/self/status").read_text().splitlines()
        rss = int(next(line.split()[1] for line in status if line.startswith("VmHWM")))
        print(f"peak memory of this process: {rss / 1024:,.0f} MiB", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def chroma_sizes(sizes: list[int], args: argparse.Namespace) -> None:
    """Every figure against a Chroma server at each of ``sizes`` articles."""
    workdir = Path(tempfile.mkdtemp(prefix="citeqa-scale-"))
    server, url = start_chroma(workdir / "chroma")
    try:
        settings = Settings.from_env().with_store(home=workdir / "client", chroma_url=url, collection="scale")
        store = Store(settings)
        other = Store(settings.with_store(home=workdir / "other-machine"))
        rng = random.Random(11)
        queries = [" ".join(rng.choices(VOCABULARY, k=rng.randint(3, 6))) for _ in range(args.queries)]
        written = 0
        print(f"chroma run at {url}; {CHUNKS_PER_ARTICLE} chunks an article; {len(queries)} queries", flush=True)
        for size in sizes:
            seconds = add(store, "a", written, size - written, seed=size)
            rate = (size - written) / seconds
            written = size
            chunks = size * CHUNKS_PER_ARTICLE
            print(f"\n== {size:,} articles ({chunks:,} chunks) ==", flush=True)
            print(f"index rate: {rate:,.0f} articles/s ({rate * CHUNKS_PER_ARTICLE:,.0f} chunks/s)", flush=True)

            shutil.rmtree(cache_folder(store), ignore_errors=True)  # this machine's lexical index
            cold = new_client(workdir / "client", url, queries[:20])
            print(
                f"new client, no lexical index on this machine: first search {cold['first_search_s']:.1f} s "
                f"(building {chunks / cold['first_search_s']:,.0f} chunks/s; imports {cold['imports_s']:.1f} s more)",
                flush=True,
            )
            warm = new_client(workdir / "client", url, queries[:20])
            print(
                f"new client, lexical index on disk: first search {warm['first_search_s']:.2f} s; "
                f"steady memory {warm['rss_mib']:.0f} MiB",
                flush=True,
            )

            retriever = Retriever(settings)
            retriever.search(queries[0])
            plain = timed_searches(retriever, queries, None)
            by_publisher = timed_searches(retriever, queries, Filters(publishers=("Publisher 3",)))
            by_date = timed_searches(retriever, queries, Filters(published_from="2023-01", published_to="2023-06"))
            print(f"hybrid search, no filter:        {percentiles(plain)}", flush=True)
            print(f"hybrid search, publisher filter: {percentiles(by_publisher)}", flush=True)
            print(f"hybrid search, date range:       {percentiles(by_date)}", flush=True)
            listing = []
            for _ in range(20):
                started = time.perf_counter()
                retriever.lexical.get().publishers()
                listing.append(1000 * (time.perf_counter() - started))
            print(f"the web chat's publisher list:   {percentiles(listing)}", flush=True)
            listing = []
            for _ in range(20):
                started = time.perf_counter()
                index = retriever.lexical.get()
                index.first_articles(500), index.article_count()  # the rows and the label's total
                listing.append(1000 * (time.perf_counter() - started))
            print(f"the web chat's article list:     {percentiles(listing)}", flush=True)

            runs = [one_article(workdir / "client", url, workdir, size + n) for n in range(3)]
            wall = statistics.median(r[0] for r in runs)
            inside = statistics.median(r[1] for r in runs)
            print(
                f"`citeqa index` of one new article: {wall:.2f} s end to end, {inside:.2f} s after imports (median of 3)"
            )

            lexical_s, dense_s = visibility_delay(retriever, other, "v", size)
            print(f"another client's article found: by BM25 after {lexical_s:.1f} s, by dense after {dense_s:.2f} s")

            clients, missing, extra = exactness(url, workdir, args.writers, args.operations, size)
            print(
                f"{args.writers} writers at once, {clients} lexical indexes checked: {missing} missing, {extra} extra"
            )
            written = Store(settings).article_count()
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
