"""Time to first token and total answer time on the seed article's questions, embedded model.

    python benchmarks/answer_latency.py [--repeat 1]

Run it on an otherwise idle machine: llama.cpp's speed depends on free cores. The first
question after start-up is a warm-up (it also fills the server's prompt cache) and is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.dataset import load_dataset  # noqa: E402
from evals.metrics import percentile  # noqa: E402
from evals.suite import SEED_DATASET  # noqa: E402
from index.pipeline import Indexer  # noqa: E402
from index.settings import Settings  # noqa: E402
from qa.answers import Answerer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    questions = [q.question for q in load_dataset(SEED_DATASET).questions if not q.history]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(llm=Settings.from_env().llm).with_store(home=Path(home))
        Indexer(settings).index_paths([ROOT / "seeds"])
        answerer = Answerer(settings)
        answerer.ask(questions[0])
        first, total, prompt = [], [], []
        for _ in range(args.repeat):
            for question in questions:
                answer = answerer.ask(question)
                first.append(answer.timings["first_token_s"])
                total.append(answer.timings["total_s"])
                prompt.append(answer.prompt_tokens)
    print(f"{len(first)} seed questions, embedded {answerer.llm.describe()}, {settings.llm.threads} threads")
    print(f"time to first token: p50 {percentile(first, 0.5):.2f} s, p95 {percentile(first, 0.95):.2f} s (aim: 4 s)")
    print(f"total answer time:   p50 {percentile(total, 0.5):.2f} s, p95 {percentile(total, 0.95):.2f} s")
    print(f"prompt tokens: mean {statistics.fmean(prompt):.0f}, max {max(prompt)}")


if __name__ == "__main__":
    main()
