"""Stories: syndicated copies and updated versions are grouped as they are indexed, and only they."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from index.articles import Article, load_file
from index.lexical import LexicalIndex
from index.pipeline import Indexer
from index.records import ArticleFields, ChunkMeta, StoredChunk
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "evals" / "data" / "news-weeks"
ARTICLES = {a.id: a for a in load_file(FIXTURE / "articles.jsonl", 1 << 30) if isinstance(a, Article)}


def _chunks(article: Article, size: int = 160) -> list[StoredChunk]:
    """The article in overlapping pieces, as the chunker leaves it (each piece at its offset)."""
    fields = ArticleFields.of(article)
    starts = range(0, max(1, len(article.text) - 40), size - 40)
    return [
        StoredChunk(f"{article.content_hash}:{n}", article.text[s : s + size], ChunkMeta(**vars(fields), chunk_index=n, start=s, end=min(len(article.text), s + size)))
        for n, s in enumerate(starts)
    ]  # fmt: skip


def _add(index: LexicalIndex, *articles: Article) -> None:
    for article in articles:
        index.add(_chunks(article))


def _remove(index: LexicalIndex, *articles: Article) -> None:
    index.remove([a.content_hash for a in articles])


def _story(index: LexicalIndex, *ids: str) -> set[str]:
    """The distinct stories of these fixture articles."""
    stories = index.stories([ARTICLES[i].content_hash for i in ids])
    assert len(stories) == len(ids), "an article the index holds has no story"
    return set(stories.values())


@pytest.fixture
def index(tmp_path: Path) -> LexicalIndex:
    return LexicalIndex(tmp_path / "lexical.sqlite3")


def test_a_syndicated_copy_under_its_own_headline_and_outlet_joins_the_original(index: LexicalIndex) -> None:
    original, copy = ARTICLES["weeks:nw-ferry-strike-called"], ARTICLES["weeks:hp-ferry-strike-called"]
    assert original.title != copy.title and original.publisher != copy.publisher
    _add(index, original, ARTICLES["weeks:hp-ferry-strike-begins"], copy)
    assert len(_story(index, "weeks:nw-ferry-strike-called", "weeks:hp-ferry-strike-called")) == 1
    assert len(_story(index, "weeks:nw-ferry-strike-called", "weeks:hp-ferry-strike-begins")) == 2


def test_an_update_joins_its_first_version(index: LexicalIndex) -> None:
    _add(index, *(ARTICLES[i] for i in ("weeks:nw-ferry-talks", "weeks:cl-quillon-plant", "weeks:nw-ferry-deal")))
    _add(index, ARTICLES["weeks:cl-quillon-plant-update"])  # rewritten: 650 jobs where it said 800
    assert len(_story(index, "weeks:nw-ferry-talks", "weeks:nw-ferry-deal")) == 1
    assert len(_story(index, "weeks:cl-quillon-plant", "weeks:cl-quillon-plant-update")) == 1
    assert len(_story(index, "weeks:nw-ferry-deal", "weeks:cl-quillon-plant-update")) == 2


@pytest.mark.parametrize(
    "pair",
    [
        ("weeks:hp-museum-theft", "weeks:cd-museum-theft"),
        ("weeks:vc-flood-evacuations", "weeks:nw-flood-evacuations"),
        ("weeks:vc-storm-power", "weeks:nw-storm-power"),
        ("weeks:lm-rates-hold", "weeks:lm-rates-cut"),
    ],
)
def test_two_reports_of_one_event_in_their_own_words_stay_two_stories(
    index: LexicalIndex, pair: tuple[str, str]
) -> None:
    _add(index, *(ARTICLES[i] for i in pair))
    assert len(_story(index, *pair)) == 2


def test_every_fixture_story_is_found_and_no_other(index: LexicalIndex) -> None:
    _add(index, *ARTICLES.values())
    known = json.loads((FIXTURE / "stories.json").read_text())["stories"]
    expected = {frozenset(ids) for ids in known} | {
        frozenset([i]) for i in ARTICLES if not any(i in ids for ids in known)
    }
    stories = index.stories([a.content_hash for a in ARTICLES.values()])
    found: dict[str, set[str]] = {}
    for article in ARTICLES.values():
        found.setdefault(stories[article.content_hash], set()).add(article.id)
    assert {frozenset(ids) for ids in found.values()} == expected


def test_a_deleted_article_leaves_its_story_and_a_story_it_joined_falls_apart(index: LexicalIndex) -> None:
    first = Article("first", " ".join(f"alpha{n} beta{n} gamma{n}." for n in range(30)), "First", "first")
    second = Article("second", " ".join(f"delta{n} epsilon{n} zeta{n}." for n in range(30)), "Second", "second")
    both = Article("both", first.text + "\n\n" + second.text, "Both", "both")  # a round-up quoting both
    for article in (first, second, both):
        ARTICLES[article.id] = article
    try:
        _add(index, first, second)
        assert len(_story(index, "first", "second")) == 2
        _add(index, both)
        assert len(_story(index, "first", "second", "both")) == 1
        _remove(index, both)
        assert index.stories([both.content_hash]) == {}
        assert _story(index, "first") == {first.content_hash}
        assert _story(index, "second") == {second.content_hash}
    finally:
        for article in (first, second, both):
            del ARTICLES[article.id]


def test_stories_after_any_order_of_additions_and_deletions_are_those_of_a_fresh_build(tmp_path: Path) -> None:
    ids = list(ARTICLES)
    fresh = LexicalIndex(tmp_path / "fresh.sqlite3")
    kept = [*ids[::2], "weeks:hp-ferry-strike-called", "weeks:nw-ferry-deal", "weeks:cl-quillon-plant-update"]
    _add(fresh, *(ARTICLES[i] for i in dict.fromkeys(kept)))
    expected = fresh.stories([ARTICLES[i].content_hash for i in kept])
    for seed in range(3):
        order = random.Random(seed).sample(ids, len(ids))
        churned = LexicalIndex(tmp_path / f"churned-{seed}.sqlite3")
        _add(churned, *(ARTICLES[i] for i in order))
        _remove(churned, *(ARTICLES[i] for i in order if i not in kept))
        assert churned.stories([ARTICLES[i].content_hash for i in kept]) == expected


PICKED = [
    "weeks:nw-ferry-strike-called", "weeks:hp-ferry-strike-called", "weeks:cd-ferry-strike-called",
    "weeks:nw-ferry-talks", "weeks:nw-ferry-deal", "weeks:hp-museum-theft", "weeks:cd-museum-theft",
]  # fmt: skip


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexer:
    """Copies, an update and two reports of one event, through the real indexer and embedded Chroma."""
    folder = tmp_path_factory.mktemp("stories")
    source = folder / "picked.jsonl"
    rows = [json.loads(line) for line in (FIXTURE / "articles.jsonl").read_text().splitlines()]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows if r["id"] in PICKED))
    settings = Settings.from_env().with_store(home=folder / "home", chroma_url=None, collection="articles")
    indexer = Indexer(settings)
    indexer.index_paths([source])
    return indexer


def test_search_gives_a_story_one_place_naming_the_other_outlets_and_every_copy_on_request(indexed: Indexer) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    home = str(indexed.settings.store.home)
    query = ["search", "Why are Islink ferry crews going on strike?", "-k", "3", "--as-of", "2026-10-06", "--json"]
    by_story = json.loads(CliRunner().invoke(main, ["--home", home, *query]).stdout)
    every = json.loads(CliRunner().invoke(main, ["--home", home, *query, "--every-copy"]).stdout)
    copies = set(PICKED[:3])
    assert sum(p["article_id"] in copies for p in by_story) == 1
    (kept,) = [p for p in by_story if p["article_id"] in copies]
    assert set(kept["also"]) == {"Northern Wire", "Harbour Post", "Coastline Daily"} - {kept["publisher"]}
    shown = [p for p in every if p["article_id"] in copies]
    assert len(shown) == 3 and len({p["story"] for p in shown}) == 1 and shown[0]["story"] == kept["story"]


def test_an_update_takes_the_place_of_its_first_version(indexed: Indexer) -> None:
    from qa.question_time import search_in_time
    from qa.retriever import Retriever

    retriever = Retriever(indexed.settings, store=indexed.store, lexical=indexed.lexical)
    passages, _ = search_in_time(retriever, "What did Islink offer at the resumed ferry talks?", 3)
    versions = [p.article_id for p in passages if p.article_id in ("weeks:nw-ferry-talks", "weeks:nw-ferry-deal")]
    assert versions == ["weeks:nw-ferry-deal"]


def test_the_web_apis_search_gives_a_story_one_place_unless_every_copy_is_asked_for(indexed: Indexer) -> None:
    from qa.parts import parts_for
    from ui.app import ChatApp

    parts = parts_for(indexed.settings)
    app = ChatApp(parts.answerer, parts.indexer)
    query = "Islink ferry crews strike over night-shift pay"
    by_story, every = app.api_search(query, 3), app.api_search(query, 3, by_story=False)
    copies = set(PICKED[:3])
    assert len(by_story) == 3 and sum(hit["article_id"] in copies for hit in by_story) == 1
    [kept] = [hit for hit in by_story if hit["article_id"] in copies]
    assert set(kept["also"]) == {"Northern Wire", "Harbour Post", "Coastline Daily"} - {kept["publisher"]}
    assert sum(hit["article_id"] in copies for hit in every) >= 2


def test_deleting_a_copy_takes_it_out_of_its_story_and_keeps_the_others_together(indexed: Indexer) -> None:
    index = indexed.lexical.index
    assert len(_story(index, *PICKED[:3])) == 1
    assert len(_story(index, *PICKED[3:5])) == 1
    assert len(_story(index, *PICKED[5:])) == 2
    indexed.delete(["weeks:nw-ferry-strike-called"])
    assert index.stories([ARTICLES["weeks:nw-ferry-strike-called"].content_hash]) == {}
    assert len(_story(index, *PICKED[1:3])) == 1
