"""Known Q&A pairs: a folder with ``articles.jsonl`` and ``questions.jsonl`` (the SQuAD 2.0 sample's format)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.pipeline import Indexer, IndexReport
from index.settings import Settings


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    article_id: str
    answerable: bool
    category: str = ""
    evidence: str = ""
    history: tuple[str, ...] = ()
    """Earlier questions in the same chat, for follow-up questions."""


@dataclass
class Dataset:
    folder: Path
    questions: list[Question] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def articles_path(self) -> Path:
        return self.folder / "articles.jsonl"

    @property
    def collection(self) -> str:
        """A collection of the dataset's own, never the user's."""
        return "eval-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.name).strip("-")

    def index(self, settings: Settings, progress: bool = False) -> tuple[Settings, IndexReport]:
        eval_settings = Settings(**{**settings.__dict__, "collection": self.collection})
        return eval_settings, Indexer(eval_settings).index_paths([self.articles_path], progress=progress)


def load_dataset(folder: Path | str) -> Dataset:
    folder = Path(folder)
    for name in ("articles.jsonl", "questions.jsonl"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} is missing: a dataset folder needs articles.jsonl and questions.jsonl"
            )
    dataset = Dataset(folder)
    for n, line in enumerate((folder / "questions.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            dataset.questions.append(
                Question(
                    id=str(raw["id"]),
                    question=raw["question"],
                    answers=tuple(raw.get("answers") or ()),
                    article_id=str(raw.get("article_id", "")),
                    answerable=bool(raw.get("answerable", bool(raw.get("answers")))),
                    category=raw.get("category", ""),
                    evidence=raw.get("evidence", ""),
                    history=tuple(raw.get("history") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{folder / 'questions.jsonl'}:{n}: bad question record ({error})") from error
    return dataset
