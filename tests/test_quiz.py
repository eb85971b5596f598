"""Quiz-style question sets: a question set in its scene, as news quizzes ask, with the split kept."""

from __future__ import annotations

import json
from pathlib import Path

from evals.dataset import load_dataset
from evals.metrics import contains_gold
from evals.quiz import scene_sentence, write_quiz_set
from evals.suite import SEED_DATASET

DATA = SEED_DATASET.parent
ARTICLE = (
    "The Harbor City Gulls defeated the Ridgeport Pilots 2-1 in Game 6 on Sunday night. "
    "It was the team's first title since 2019. "
    "Fans gathered in the old harbor square until the early hours. "
    "Coach Mara Lind said the win belonged to the city."
)


def test_the_scene_is_the_articles_closest_sentence_that_does_not_give_the_answer() -> None:
    question = "Since when had the Harbor City team waited for a title?"
    # The answer's sentence is never the scene, however close it is; the closest other one is.
    assert scene_sentence(question, ARTICLE, ["2019"]) == (
        "The Harbor City Gulls defeated the Ridgeport Pilots 2-1 in Game 6 on Sunday night."
    )
    assert scene_sentence("Who coached the Gulls?", ARTICLE, ["Mara Lind"]) == (
        "The Harbor City Gulls defeated the Ridgeport Pilots 2-1 in Game 6 on Sunday night."
    )
    # Without a sentence long enough to set a scene, there is no quiz question.
    assert scene_sentence("Who won?", "The Gulls won. Fans cheered.", ["Gulls"]) is None


def test_a_quiz_set_keeps_answers_and_articles_and_leaves_out_excluded_questions(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "articles.jsonl").write_text(json.dumps({"id": "a:1", "title": "Gulls", "text": ARTICLE}) + "\n")
    questions = [
        {"id": "q1", "question": "Who coached the Gulls?", "answers": ["Mara Lind"], "article_id": "a:1", "answerable": True},
        {"id": "q2", "question": "Whom did the Gulls beat?", "answers": ["Ridgeport Pilots"], "article_id": "a:1", "answerable": True},
        {"id": "q3", "question": "Who owns the Gulls?", "answers": [], "article_id": "a:1", "answerable": False},
    ]  # fmt: skip
    (source / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    excluded = tmp_path / "excluded"
    excluded.mkdir()
    (excluded / "articles.jsonl").write_text((source / "articles.jsonl").read_text())
    (excluded / "questions.jsonl").write_text(json.dumps(questions[1]) + "\n")

    chosen = write_quiz_set(source, tmp_path / "quiz", exclude=[excluded])

    written = load_dataset(tmp_path / "quiz")
    assert [q.id for q in written.questions] == ["quiz-q1", "quiz-q3"] == [q.id for q in chosen]
    first = written.questions[0]
    assert first.question.endswith(" Who coached the Gulls?") and len(first.question) > 60
    assert first.answers == ("Mara Lind",) and first.article_id == "a:1"
    assert not written.questions[1].answerable
    assert (tmp_path / "quiz" / "articles.jsonl").read_text() == (source / "articles.jsonl").read_text()


def test_the_report_set_is_apart_from_the_tuning_set_and_the_gate() -> None:
    report, tune, gate = (load_dataset(DATA / name) for name in ("squad-quiz", "squad-quiz-tune", "squad-gate"))
    report_titles = {report.titles()[q.article_id] for q in report.questions}
    tune_titles = {tune.titles()[q.article_id] for q in tune.questions}
    assert report_titles == {"Warsaw", "Immune system", "Force"}
    assert tune_titles == {"Normans", "Steam engine", "Harvard University"}
    assert not {q.id.removeprefix("quiz-") for q in report.questions} & {q.id for q in gate.questions}
    assert sum(q.answerable for q in report.questions) == 60 and len(report.questions) == 120
    for dataset in (report, tune):
        texts = {a["id"]: " ".join(a["text"].split()) for a in map(json.loads, dataset.articles_path.open())}
        for q in dataset.questions:
            # A sentence of the question's own article sets the scene, then comes the question...
            ends = [i + 1 for i, ch in enumerate(q.question) if ch in '.!?"”)' and q.question[i + 1 : i + 2] == " "]
            scenes = [q.question[:end] for end in ends if q.question[:end] in texts[q.article_id]]
            assert scenes and q.question[len(scenes[-1]) :].strip(), q.id
            # ...and the scene never gives the answer away.
            assert not contains_gold(scenes[-1], q.answers), q.id


def test_the_news_quiz_sets_share_their_articles_ask_in_other_words_and_split_by_story() -> None:
    report, tune = load_dataset(DATA / "news-long"), load_dataset(DATA / "news-long-tune")
    assert report.articles_path.read_text() == tune.articles_path.read_text()
    articles = list(map(json.loads, report.articles_path.open()))
    texts = {a["id"]: a["text"] for a in articles}
    assert len(texts) == len(articles) >= 200
    assert len(report.questions) + len(tune.questions) >= 80
    # Most articles are stories nobody asks about, so retrieval has to choose among similar ones.
    asked = {q.article_id for q in report.questions + tune.questions}
    assert len(asked) <= len(texts) // 2
    for q in report.questions + tune.questions:
        assert q.article_id in texts, q.id
        if q.answerable:
            assert contains_gold(texts[q.article_id], q.answers), q.id  # the article's own words
            assert not contains_gold(q.question, q.answers), q.id  # never given away by the question
    # No story is asked about in both sets.
    assert not {q.article_id for q in report.questions} & {q.article_id for q in tune.questions}
    assert len(report.questions) >= 30 and sum(not q.answerable for q in report.questions) >= 5
