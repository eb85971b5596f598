"""Uploads: checked, stored under names of our own, indexed, reported per file."""

from __future__ import annotations

from pathlib import Path

from index.pipeline import Indexer
from index.settings import Settings
from ui.uploads import safe_name, store_and_index


def test_an_uploaded_name_is_never_used_as_a_path() -> None:
    name = safe_name("../../etc/passwd.txt", b"x")
    assert name is not None and "/" not in name and ".." not in name.split("-")[0]
    assert name.startswith("passwd-") and name.endswith(".txt")
    assert safe_name("C:\\\\Users\\\\me\\\\evil.html", b"x").startswith("evil-")
    assert safe_name("notes.exe", b"x") is None


def test_good_and_bad_uploads_are_each_reported(tmp_path: Path) -> None:
    indexer = Indexer(Settings().with_store(home=tmp_path / "home"))
    good = tmp_path / "in" / "harbour.txt"
    good.parent.mkdir()
    good.write_text("Harbour reopens\n\nThe old harbour reopened on Monday after repairs.\n")
    bad = tmp_path / "in" / "broken.txt"
    bad.write_bytes(b"caf\xe9")
    big = tmp_path / "in" / "big.txt"
    big.write_text("word " * 5000)
    script = tmp_path / "in" / "run.sh"
    script.write_text("echo hi")
    feed = tmp_path / "in" / "feed.jsonl"
    feed.write_text('{"id": "r1", "text": "A fine record about tides."}\n{oops\n')
    uploads = [(p.name, p) for p in (good, bad, big, script, feed)]
    results = {r.file: r for r in store_and_index(indexer, uploads, tmp_path / "stored", max_bytes=10_000)}
    assert results["harbour.txt"].outcome == "added"
    assert results["broken.txt"].outcome == "failed" and "not UTF-8" in results["broken.txt"].detail
    assert results["big.txt"].outcome == "failed" and "limit" in results["big.txt"].detail
    assert results["run.sh"].outcome == "failed" and "unsupported" in results["run.sh"].detail
    assert results["feed.jsonl (r1)"].outcome == "added"
    assert results["feed.jsonl (line 2)"].outcome == "failed"
    kept = sorted(p.name.split("-")[0] for p in (tmp_path / "stored").iterdir())
    assert kept == ["feed", "harbour"]  # the rejected file is not kept; a feed with one good record is


def test_a_location_names_its_file_and_its_record() -> None:
    from index.articles import split_location

    assert split_location("/up/a.jsonl#story-1") == ("/up/a.jsonl", "story-1")
    assert split_location("/up/a.jsonl:3", {"/up/a.jsonl"}) == ("/up/a.jsonl", "line 3")
    assert split_location("/up/10:30 news.txt", {"/up/10:30 news.txt"}) == ("/up/10:30 news.txt", "")
    assert split_location("/up/plain.txt") == ("/up/plain.txt", "")
