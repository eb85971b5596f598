"""How many ordinary article sentences the injection filter would take for instructions.

Prints, for each evaluation set, the sentences checked and the ones flagged (it should be none:
a flagged sentence is kept from the model). Run: python benchmarks/injection_false_positives.py
"""

from __future__ import annotations

import json
from pathlib import Path

from index.sentences import split_sentences
from qa.injection import addresses_the_assistant

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "seed": [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))],
    **{
        name: [
            json.loads(line)["text"]
            for line in (ROOT / "evals" / "data" / name / "articles.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        for name in ("news", "squad-gate")
    },
}
_SHARED_SQUAD = ROOT.parent / "shared" / "datasets" / "squad2-dev" / "articles.jsonl"
if _SHARED_SQUAD.exists():  # the whole shared SQuAD 2.0 sample, when this checkout sits beside it
    SETS["squad2-dev (shared)"] = [
        json.loads(line)["text"] for line in _SHARED_SQUAD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def main() -> None:
    for name, texts in SETS.items():
        sentences = [text[start:end] for text in texts for start, end in split_sentences(text)]
        flagged = [s for s in sentences if addresses_the_assistant(s)]
        print(f"{name:20s} {len(sentences):6d} sentences, {len(flagged)} flagged")
        for sentence in flagged:
            print("   ", sentence[:160])


if __name__ == "__main__":
    main()
