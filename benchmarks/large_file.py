"""One very large text file: the indexing rate and the peak memory, in a fresh process.

    python benchmarks/large_file.py [MEGABYTES]    (default 4)

Issue 14 measured a 19 MB file before articles were streamed a window at a time: 39,255 chunks in
1,400 s with a 2.4 GB peak. The file here is news-like prose made of varied sentences (not one
line repeated), written to a temporary folder and indexed into a fresh data folder.

Measured on this project's 2-core machine (busy, about a third of the CPU stolen), 2026-11-27:
4 MB, 7,323 chunks in 382 s: 19.1 chunks/s (0.63 MB a minute), peak 980 MiB (353 MiB before
indexing), the progress bar moving every 1,024 chunks (about 50 s). At that rate the 19 MB file of
issue 14 takes about 35 minutes; it was not re-measured at that size.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "harbour",
    "ferry",
    "council",
    "budget",
    "vote",
    "minister",
    "strike",
    "union",
    "wages",
    "port",
    "tram",
    "drivers",
    "mayor",
    "police",
    "court",
    "judge",
    "appeal",
    "election",
    "campaign",
    "school",
    "teachers",
    "hospital",
    "nurses",
    "storm",
    "flood",
    "bridge",
    "railway",
    "station",
    "airport",
    "airline",
    "fuel",
    "prices",
    "wheat",
    "harvest",
    "export",
    "bank",
    "rates",
]


def write_file(path: Path, megabytes: float) -> None:
    rng = random.Random(7)
    target = int(megabytes * 1024 * 1024)
    with path.open("w", encoding="utf-8") as out:
        out.write("Harbour archive\n\n")
        written = 0
        while written < target:
            sentences = [
                f"On day {rng.randint(1, 9999)} the {rng.choice(WORDS)} report named {rng.randint(2, 900)} "
                f"{' '.join(rng.choices(WORDS, k=rng.randint(6, 14)))}."
                for _ in range(rng.randint(3, 6))
            ]
            paragraph = " ".join(sentences) + "\n\n"
            out.write(paragraph)
            written += len(paragraph)


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    from index.pipeline import Indexer
    from index.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.txt"
        write_file(path, megabytes)
        settings = Settings.from_env().with_store(home=Path(tmp) / "home", chroma_url=None)
        indexer = Indexer(settings)
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        report = indexer.index_paths([path], progress=True)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chunks = report.new_chunks
    print(f"file: {megabytes:g} MB, {chunks:,} chunks, {report.summary()}")
    print(f"rate: {chunks / seconds:,.1f} chunks/s, {megabytes * 60 / seconds:.2f} MB/min ({seconds:.0f} s)")
    print(f"peak memory: {peak:,.0f} MiB (process before indexing: {baseline:,.0f} MiB)")


if __name__ == "__main__":
    main()
