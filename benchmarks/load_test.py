"""Load: simultaneous users asking seed questions through gradio_client against `citeqa serve`.

    python benchmarks/load_test.py [URL] [--users 10]

Start the server first (`citeqa serve`). Prints errors, queue waits and answer times. The chat's
LLM runs one answer at a time (Gradio's queue, concurrency 1 for the model), so the wait grows
with the queue; nothing is dropped while the queue has room (max 64).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from gradio_client import Client

QUESTIONS = [
    "Who will head the Chinese delegation to North Korea?",
    "Until when will the delegation be in North Korea?",
    "What did Russia veto at the UN Security Council?",
    "When did Xi Jinping visit North Korea?",
    "Who is the Chinese Foreign Ministry spokeswoman?",
    "How many members does the Politburo have?",
    "Who led the Russian delegation in July last year?",
    "What is Kim Jong Un's favourite food?",
    "How did China vote on the UN resolution?",
    "When does the trip start?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:7860/")
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    results: list[tuple[float, float, str | None]] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        client = Client(args.url, verbose=False)
        started = time.perf_counter()
        error = None
        queue_wait = float("nan")
        try:
            job = client.submit(QUESTIONS[n % len(QUESTIONS)], api_name="/ask")
            while not job.done():
                status = job.status()
                if status.code.name in ("PROCESSING", "ITERATING") and queue_wait != queue_wait:
                    queue_wait = time.perf_counter() - started
                time.sleep(0.05)
            job.result()
        except Exception as failure:  # a load test reports every failure, whatever its type
            error = f"{type(failure).__name__}: {failure}"
        with lock:
            results.append((queue_wait, time.perf_counter() - started, error))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [e for _w, _t, e in results if e]
    waits = sorted(w for w, _t, _e in results if w == w)
    totals = sorted(t for _w, t, e in results if not e)
    print(f"{args.users} simultaneous users against {args.url}")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors))
    if waits:
        print(f"queue wait: median {statistics.median(waits):.1f} s, max {waits[-1]:.1f} s")
    if totals:
        print(f"answer time (submit to result): median {statistics.median(totals):.1f} s, max {totals[-1]:.1f} s")


if __name__ == "__main__":
    main()
