"""Known Q&A pairs: a folder with ``articles.jsonl`` and ``questions.jsonl`` (the SQuAD 2.0 sample's format)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from index.errors import CiteqaError
from index.pipeline import IndexReport
from index.settings import Settings
from qa.parts import parts_for


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
    key_points: tuple[tuple[str, ...], ...] = ()
    """For summaries, explanations, lists, timelines and comparisons: the points a good answer
    covers, each as one or more phrasings copied from the article."""
    forbidden: tuple[str, ...] = ()
    """Words an answer must never contain: what a prompt injection in the articles asks for."""
    as_of: date | None = None
    """The day the question is asked: "last week" is read against it, and later articles are not used."""
    article_ids: tuple[str, ...] = ()
    """Every article that is a right source for the answer (``article_id`` first), for questions
    that the same story from several outlets, or several dated reports, answer."""
    duplicates: tuple[str, ...] = ()
    """Copies of one story (the same wire text under several outlets): an answer cites one of them."""
    sides: tuple[tuple[str, ...], ...] = ()
    """Where sources disagree (31 arrests or 30): each side's phrasings; an answer gives every side."""
    superseded: tuple[str, ...] = ()
    """Earlier versions of an updated story (the first report of 800 jobs, then 650): an answer
    cites the newest version, not these."""

    @property
    def right_sources(self) -> tuple[str, ...]:
        return self.article_ids or ((self.article_id,) if self.article_id else ())


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

    def titles(self) -> dict[str, str]:
        """Article id -> title, as the dataset's ``articles.jsonl`` gives them."""
        out = {}
        for line in self.articles_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                out[str(record.get("id", ""))] = str(record.get("title", ""))
        return out

    def on_titles(self, wanted: Sequence[str]) -> list[Question]:
        """The questions asked about articles with these titles (spaces and underscores alike), so
        that thresholds can be tuned on some titles and reported on the others."""
        fold = {_fold_title(t) for t in wanted}
        titles = self.titles()
        unknown = fold - {_fold_title(t) for t in titles.values()}
        if unknown:
            known = ", ".join(sorted(set(titles.values())))
            raise DatasetError(
                f"no article in {self.articles_path} has the title(s) {', '.join(sorted(unknown))}; known: {known}"
            )
        return [q for q in self.questions if _fold_title(titles.get(q.article_id, "")) in fold]

    @property
    def collection(self) -> str:
        """A collection of the dataset's own, never the user's."""
        return "eval-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.name).strip("-")

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` with the dataset's own collection."""
        return settings.with_store(collection=self.collection)

    def index(self, settings: Settings, progress: bool = False) -> tuple[Settings, IndexReport]:
        """Index the dataset's articles into its own collection, with this process's parts."""
        eval_settings = self.settings_for(settings)
        indexer = parts_for(eval_settings, progress=progress).indexer
        return eval_settings, indexer.index_paths([self.articles_path], progress=progress)


class DatasetError(CiteqaError, ValueError):
    """An evaluation dataset folder is missing a file, or holds a record or title that cannot be used."""


def load_dataset(folder: Path | str) -> Dataset:
    folder = Path(folder)
    for name in ("articles.jsonl", "questions.jsonl"):
        if not (folder / name).is_file():
            raise DatasetError(f"{folder / name} is missing: a dataset folder needs articles.jsonl and questions.jsonl")
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
                    key_points=tuple(tuple(point) for point in raw.get("key_points") or ()),
                    forbidden=tuple(raw.get("forbidden") or ()),
                    as_of=date.fromisoformat(raw["as_of"]) if raw.get("as_of") else None,
                    article_ids=tuple(str(a) for a in raw.get("article_ids") or ()),
                    duplicates=tuple(str(a) for a in raw.get("duplicates") or ()),
                    sides=tuple(tuple(side) for side in raw.get("sides") or ()),
                    superseded=tuple(str(a) for a in raw.get("superseded") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise DatasetError(f"{folder / 'questions.jsonl'}:{n}: bad question record ({error})") from error
    return dataset


def _fold_title(title: str) -> str:
    return " ".join(title.replace("_", " ").lower().split())
