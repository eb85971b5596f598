"""Quiz-style variants of a question set: each question set in its scene, the way news quizzes ask.

A news quiz does not ask "Where is Fort Larch?" but "President Alvarez designated Fort Larch, a
WWII-era training ground, as a national monument this week. Where is it located?": a long
question whose first sentence retells the story and whose last clause asks. Crowd-written SQuAD
questions are short, so a pipeline tuned on them never meets that shape. This module makes the
shape from any set in the suite's format: each question is prefixed with a sentence of its own
article that does not hold a gold answer (the one closest to the question in words, so the scene is
the question's own), and keeps its id with a ``quiz-`` prefix, its answers and its article.

``python -m evals.quiz SOURCE OUT --titles Warsaw,Force --limit 120 --exclude evals/data/squad-gate``
writes ``OUT/articles.jsonl`` (all of SOURCE's articles, so retrieval still has to choose) and
``OUT/questions.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from evals.dataset import Question, load_dataset
from evals.metrics import contains_gold, normalize
from evals.suite import sample
from index.sentences import split_sentences

__all__ = ["quiz_question", "scene_sentence", "write_quiz_set"]

_MIN_SCENE_WORDS = 6
"""A scene sentence shorter than this ("Its name comes from this.") sets no scene."""
_SENTENCE_ENDS = (".", "!", "?", '"', "”", ")")


def scene_sentence(question: str, article_text: str, answers: Sequence[str]) -> str | None:
    """The article's sentence that sets the question's scene: it holds no gold answer and shares
    the most words with the question (the earlier one on a tie). None when no sentence qualifies."""
    asked = set(normalize(question).split())
    best: tuple[int, str] | None = None
    for start, end in split_sentences(article_text):
        sentence = " ".join(article_text[start:end].split())
        if len(sentence.split()) < _MIN_SCENE_WORDS or not sentence.endswith(_SENTENCE_ENDS):
            continue  # too short to set a scene, or cut off (a formula that the text lost)
        if answers and contains_gold(sentence, answers):
            continue
        shared = len(asked & set(normalize(sentence).split()))
        if best is None or shared > best[0]:
            best = (shared, sentence)
    return best[1] if best else None


def quiz_question(question: Question, article_text: str) -> Question | None:
    """The question with its scene sentence in front (None when its article has none to give)."""
    scene = scene_sentence(question.question, article_text, question.answers)
    if scene is None:
        return None
    return replace(question, id=f"quiz-{question.id}", question=f"{scene} {question.question}")


def write_quiz_set(
    source: Path,
    out: Path,
    *,
    titles: Sequence[str] = (),
    limit: int | None = None,
    exclude: Sequence[Path] = (),
    seed: int = 13,
) -> list[Question]:
    """Write a quiz-style set made from ``source``'s questions on ``titles`` (all when empty),
    leaving out questions of the ``exclude`` sets (by their original id), sampled to ``limit``
    (half unanswerable where possible, as ``citeqa eval --limit`` samples)."""
    dataset = load_dataset(source)
    texts = {a["id"]: a["text"] for a in _articles(source)}
    taken = {q.id.removeprefix("quiz-") for folder in exclude for q in load_dataset(folder).questions}
    pool = [q for q in (dataset.on_titles(titles) if titles else dataset.questions) if q.id not in taken]
    made = [quizzed for q in pool if (quizzed := quiz_question(q, texts.get(q.article_id, ""))) is not None]
    chosen = sample(made, limit, seed)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "articles.jsonl", out / "articles.jsonl")
    with (out / "questions.jsonl").open("w", encoding="utf-8") as file:
        for q in chosen:
            record = {
                "id": q.id,
                "question": q.question,
                "answers": list(q.answers),
                "article_id": q.article_id,
                "answerable": q.answerable,
                "category": "quiz" if q.answerable else "unanswerable",
            }
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
    return chosen


def _articles(folder: Path) -> list[dict[str, str]]:
    lines = (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a set in the suite's format (articles.jsonl, questions.jsonl)")
    parser.add_argument("out", type=Path, help="folder to write the quiz-style set to")
    parser.add_argument("--titles", default="", help="only questions on these titles, comma-separated")
    parser.add_argument("--limit", type=int, help="sample this many questions (half unanswerable)")
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="a set whose questions to leave out")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    titles = [t.strip() for t in args.titles.split(",") if t.strip()]
    chosen = write_quiz_set(
        args.source, args.out, titles=titles, limit=args.limit, exclude=args.exclude, seed=args.seed
    )
    answerable = sum(q.answerable for q in chosen)
    print(f"{args.out}: {len(chosen)} questions ({answerable} answerable, {len(chosen) - answerable} unanswerable)")


if __name__ == "__main__":
    main()
