"""Incremental indexing into the real embedded Chroma: add, skip, update, dedup, prune, recover."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chromadb.api.models.Collection import Collection

import index.pipeline
from index.pipeline import Indexer, Outcome
from index.settings import Settings
from index.store import Store


@pytest.fixture(params=["lookups", "whole read"])
def each_view(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run looks articles up one at a time, or (a large run) reads the manifest whole at its
    start (``index.pipeline.READ_ALL_FROM_ITEMS``): both must index the same way."""
    monkeypatch.setattr(index.pipeline, "READ_ALL_FROM_ITEMS", 10**9 if request.param == "lookups" else 0)


def outcomes(report) -> dict[str, str]:
    return {Path(r.location.split("#")[0]).name: r.outcome.value for r in report.results}


def assert_consistent(store: Store) -> None:
    """Every committed article has all its chunks, and no chunk lacks its article."""
    articles = store.articles()
    chunk_total = sum(a.chunk_count for a in articles.values())
    assert store.chunk_count() == chunk_total
    for article_hash, stored in articles.items():
        text = store.article_text(article_hash)
        chunks = store.article_chunks(article_hash)
        assert len(chunks) == stored.chunk_count
        for chunk in chunks:
            assert text[chunk.meta.start : chunk.meta.end] == chunk.text


@pytest.mark.usefixtures("each_view")
def test_indexing_twice_changes_nothing(settings: Settings, corpus: Path) -> None:
    indexer = Indexer(settings)
    first = indexer.index_paths([corpus])
    assert first.count(Outcome.ADDED) == 4
    assert first.new_chunks == indexer.store.chunk_count() > 4
    second = Indexer(settings).index_paths([corpus])
    assert set(outcomes(second).values()) == {"unchanged"}
    assert second.new_chunks == 0
    assert_consistent(indexer.store)


def test_chunks_record_exact_spans_and_metadata(settings: Settings, corpus: Path, seed_text: str) -> None:
    store = Indexer(settings).index_paths([corpus / "seed.txt"]) and Store(settings)
    chunks = store.article_chunks(store.find_article("seed.txt").hash)
    assert chunks
    for chunk in chunks:
        assert seed_text[chunk.meta.start : chunk.meta.end] == chunk.text
        assert (chunk.meta.publisher, chunk.meta.published, chunk.meta.published_lo) == ("Bloomberg", "2024", 20240101)


@pytest.mark.usefixtures("each_view")
def test_a_changed_article_replaces_its_chunks(settings: Settings, corpus: Path) -> None:
    indexer = Indexer(settings)
    indexer.index_paths([corpus])
    path = corpus / "bridge.md"
    path.write_text(path.read_text().replace("40 million", "55 million"))
    report = indexer.index_paths([corpus])
    assert outcomes(report)["bridge.md"] == "updated"
    assert list(outcomes(report).values()).count("unchanged") == 3
    docs = [chunk.text for chunk in indexer.store.article_chunks(indexer.store.find_article("bridge.md").hash)]
    assert any("55 million" in d for d in docs)
    assert not any("40 million" in d for d in docs)
    assert len(indexer.store.articles()) == 4
    assert_consistent(indexer.store)


@pytest.mark.usefixtures("each_view")
def test_identical_articles_under_two_names_are_stored_once(settings: Settings, corpus: Path) -> None:
    (corpus / "copy-of-seed.txt").write_bytes((corpus / "seed.txt").read_bytes())
    indexer = Indexer(settings)
    report = indexer.index_paths([corpus])
    assert len(indexer.store.articles()) == 4
    reasons = [r.reason for r in report.results if r.location.endswith("seed.txt")]
    assert sum("stored once" in reason for reason in reasons) == 1
    # Removing one name keeps the article; removing both drops it.
    (corpus / "copy-of-seed.txt").unlink()
    indexer.index_paths([corpus], prune=True)
    assert len(indexer.store.articles()) == 4
    (corpus / "seed.txt").unlink()
    report = indexer.index_paths([corpus], prune=True)
    assert outcomes(report)["seed.txt"] == "pruned"
    assert len(indexer.store.articles()) == 3
    assert_consistent(indexer.store)


@pytest.mark.usefixtures("each_view")
def test_removed_files_stay_unless_pruned(settings: Settings, corpus: Path) -> None:
    indexer = Indexer(settings)
    indexer.index_paths([corpus])
    (corpus / "wheat.txt").unlink()
    indexer.index_paths([corpus])
    assert len(indexer.store.articles()) == 4
    indexer.index_paths([corpus], prune=True)
    assert sorted(a.id for a in indexer.store.articles().values()) == ["bridge.md", "seed.txt", "space.html"]


def test_prune_only_touches_the_given_paths(settings: Settings, corpus: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("A separate note about tides and the moon.")
    indexer = Indexer(settings)
    indexer.index_paths([corpus, other])
    indexer.index_paths([corpus], prune=True)
    assert "note.txt" in {a.id for a in indexer.store.articles().values()}


@pytest.mark.usefixtures("each_view")
def test_delete_by_id(settings: Settings, corpus: Path) -> None:
    indexer = Indexer(settings)
    indexer.index_paths([corpus])
    results = indexer.delete(["wheat.txt", "no-such-id"])
    assert [r.outcome for r in results] == [Outcome.PRUNED, Outcome.FAILED]
    assert "wheat.txt" not in {a.id for a in indexer.store.articles().values()}
    assert_consistent(indexer.store)


def test_a_bad_file_does_not_stop_the_rest_and_stores_nothing(settings: Settings, corpus: Path) -> None:
    (corpus / "broken.txt").write_bytes(b"caf\xe9")
    (corpus / "empty.txt").write_text("")
    report = Indexer(settings).index_paths([corpus])
    assert report.count(Outcome.ADDED) == 4
    assert sorted(Path(f.location).name for f in report.failures) == ["broken.txt", "empty.txt"]
    assert len(Store(settings).articles()) == 4


def test_an_unreadable_file_keeps_what_was_indexed_from_it(settings: Settings, corpus: Path) -> None:
    indexer = Indexer(settings)
    indexer.index_paths([corpus])
    (corpus / "wheat.txt").write_bytes(b"\xff\xfe broken now")
    report = indexer.index_paths([corpus], prune=True)
    assert outcomes(report)["wheat.txt"] == "failed"
    assert "wheat.txt" in {a.id for a in indexer.store.articles().values()}


def test_a_run_interrupted_between_chunks_and_commit_is_repaired(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexer = Indexer(settings)
    indexer.index_paths([corpus / "seed.txt"])
    original = Collection.upsert

    def killed_at_the_commit(collection: Collection, *args, **kwargs):
        if collection.name.endswith("-articles"):
            raise KeyboardInterrupt
        return original(collection, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Collection, "upsert", killed_at_the_commit)
        with pytest.raises(KeyboardInterrupt):
            indexer.index_paths([corpus])
    # Chunks were written but never committed: nothing half-indexed is visible as an article.
    assert [a.id for a in indexer.store.articles().values()] == ["seed.txt"]
    report = Indexer(settings).index_paths([corpus])
    assert report.repaired >= 1
    assert report.count(Outcome.ADDED) == 3
    assert_consistent(Store(settings))


def test_a_killed_indexing_process_leaves_a_consistent_index(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(48):
        sentences = " ".join(f"Report {n} paragraph {p} says item {n * p} rose by {p} percent." for p in range(30))
        (folder / f"a{n:03d}.txt").write_text(f"Story number {n}\n\n{sentences}\n")
    env = {**os.environ, "CITEQA_HOME": str(settings.store.home)}
    # Windows of 16 chunks (not 1024): the run writes and commits many times, so the kill lands
    # between two of its writes, with work left, rather than after its only write.
    in_small_windows = "import sys, index.pipeline as p; p.WINDOW_CHUNKS = 16; from ui.cli import main; main()"
    command = [sys.executable, "-c", in_small_windows, "index", str(folder)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if (settings.store.home / "chroma").exists() and Store(settings).chunk_count() > 0:
            break
        time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed: nothing was tested"
    assert_consistent_after_repair = Store(settings)
    assert_consistent_after_repair.repair()
    assert_consistent(assert_consistent_after_repair)
    report = Indexer(settings).index_paths([folder])
    assert report.count(Outcome.ADDED) > 0, "the kill left no work for the next run: nothing was tested"
    assert report.count(Outcome.ADDED) + report.count(Outcome.UNCHANGED) == 48
    assert len(Store(settings).articles()) == 48
    assert_consistent(Store(settings))


def test_the_command_line_reports_and_exits_non_zero_on_failures(settings: Settings, corpus: Path) -> None:
    from click.testing import CliRunner

    from ui.cli import main

    (corpus / "broken.jsonl").write_text("{not json\n")
    home = ["--home", str(settings.store.home)]
    run = CliRunner().invoke(main, [*home, "index", str(corpus)])
    assert run.exit_code == 1
    assert "broken.jsonl:1: malformed JSON line" in run.stderr
    assert "4 added" in run.stdout
    again = CliRunner().invoke(main, [*home, "index", str(corpus / "seed.txt")])
    assert again.exit_code == 0
    assert "0 added, 0 updated, 1 unchanged" in again.stdout
