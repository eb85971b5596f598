"""Files that once stopped a whole run or lost data: each failure stays with its own file (issue 14)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index import pipeline
from index.articles import LoadFailure, find_files, load_file
from index.pipeline import Indexer, Outcome
from index.settings import Settings


def _by_name(report) -> dict[str, Outcome]:
    return {Path(r.location.split("#")[0]).name: r.outcome for r in report.results}


def test_deeply_nested_json_fails_alone_and_the_good_files_are_indexed(settings: Settings, corpus: Path) -> None:
    (corpus / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (corpus / "deep-lines.jsonl").write_text(
        json.dumps({"text": "A fine short article about the harbour.", "id": "ok"}) + "\n" + "[" * 100_000 + "\n"
    )
    report = Indexer(settings).index_paths([corpus])
    failures = {Path(r.location.split(":")[0].split("#")[0]).name: r.reason for r in report.failures}
    assert "nested too deeply" in failures["deep.json"]
    assert "nested too deeply" in failures["deep-lines.jsonl"]
    assert report.count(Outcome.ADDED) == 5  # the corpus's four articles and the good JSON line


def test_a_file_name_that_is_not_utf8_is_indexed_with_its_bad_bytes_escaped(settings: Settings, corpus: Path) -> None:
    odd = Path(os.fsdecode(bytes(corpus) + b"/caf\xe9 report.txt"))
    odd.write_text("Cafe owners in the old town said rents rose by a third this year.\n", encoding="utf-8")
    indexer = Indexer(settings)
    report = indexer.index_paths([corpus])
    assert report.failures == []
    assert report.count(Outcome.ADDED) == 5
    assert "caf\\xe9 report.txt" in {a.id for a in indexer.store.articles().values()}
    assert set(_by_name(Indexer(settings).index_paths([corpus])).values()) == {Outcome.UNCHANGED}


def test_prune_never_deletes_what_sits_in_a_folder_it_could_not_read(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (corpus / "archive").mkdir()
    (corpus / "archive" / "old.txt").write_text("The old pier closed in 1998 after a storm damaged it.\n")
    indexer = Indexer(settings)
    assert indexer.index_paths([corpus]).count(Outcome.ADDED) == 5
    # The folder becomes unreadable. Root reads every folder, so the kernel's answer to other users
    # (PermissionError when listing it) is given here by wrapping the real os.scandir.
    real_scandir = os.scandir
    archive = str(corpus / "archive")

    def unreadable(path=".", *args, **kwargs):
        if os.fspath(path) == archive:
            raise PermissionError(13, "Permission denied", archive)
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", unreadable)
    report = indexer.index_paths([corpus], prune=True)
    assert report.count(Outcome.PRUNED) == 0
    assert any("cannot read folder" in r.reason and "archive" in r.location for r in report.failures)
    assert "old.txt" in {a.id for a in indexer.store.articles().values()}


def test_utf16_with_a_byte_order_mark_is_text(tmp_path: Path) -> None:
    path = tmp_path / "memo.txt"
    path.write_bytes("Ferry strike ends\n\nThe ferry workers voted to return on Monday.".encode("utf-16"))
    [article] = list(load_file(path, 1_000_000))
    assert not isinstance(article, LoadFailure)
    assert article.text.startswith("Ferry strike ends")


def test_a_loop_of_links_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "good.txt").write_text("A good article about the ferry.\n")
    scan = find_files([tmp_path])
    assert [p.name for p in scan.files] == ["good.txt"]
    assert sorted(Path(f.location).name for f in scan.failures) == ["a.txt", "b.txt"]
    assert all("loop of links" in f.reason for f in scan.failures)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", True, "title=true: must be a string"),
        ("source", 3.5, "source=3.5: must be a string"),
        ("published", "sometime soon", 'published="sometime soon" is not a date'),
    ],
)
def test_record_fields_of_the_wrong_kind_are_refused_by_name(tmp_path: Path, field: str, value, message: str) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"text": "The harbour reopened on Friday.", field: value}) + "\n")
    [item] = list(load_file(path, 1_000_000))
    assert isinstance(item, LoadFailure)
    assert message in item.reason


def test_a_long_article_is_embedded_and_stored_a_window_at_a_time_with_progress(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: a 19 MB file was embedded whole (2.4 GB peak) under a bar that showed 100% at once."""
    window = 16  # small windows, so a short file (a tenth of the embedding work) spans several
    monkeypatch.setattr(pipeline, "WINDOW_CHUNKS", window)
    paragraphs = [
        f"Paragraph {n}: the harbour office logged {n * 7} ferry crossings and {n % 13} delays in week {n}."
        for n in range(600)
    ]
    (tmp_path / "big.txt").write_text("Harbour log\n\n" + "\n\n".join(paragraphs) + "\n")
    indexer = Indexer(settings)
    embedded: list[int] = []
    real_embed = indexer.embedder.embed

    def counting_embed(texts, *args, **kwargs):
        embedded.append(len(texts))
        return real_embed(texts, *args, **kwargs)

    monkeypatch.setattr(indexer.embedder, "embed", counting_embed)
    report = indexer.index_paths([tmp_path / "big.txt"], progress=True)
    [result] = report.results
    assert result.outcome is Outcome.ADDED and result.chunks > 4 * window
    assert max(embedded) <= window and sum(embedded) == result.chunks
    shown = capsys.readouterr().err
    assert f"big.txt: {window}/{result.chunks:,} chunks" in shown
    assert f"big.txt: {result.chunks:,}/{result.chunks:,} chunks" in shown
    stored = indexer.store.find_article("big.txt")
    assert stored is not None and stored.chunk_count == result.chunks == len(indexer.store.article_chunks(stored.hash))
