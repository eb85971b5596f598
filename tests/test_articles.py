"""Reading each input format, and reporting each kind of bad input by path and reason."""

from __future__ import annotations

import json
from pathlib import Path

from index.articles import Article, LoadFailure, find_files, load_file

LIMIT = 1_000_000


def load(path: Path, limit: int = LIMIT) -> list[Article | LoadFailure]:
    return list(load_file(path, limit))


def test_plain_text_keeps_the_text_exactly(corpus: Path, seed_text: str) -> None:
    [article] = load(corpus / "seed.txt")
    assert isinstance(article, Article)
    assert article.text == seed_text
    assert article.id == "seed.txt"
    assert article.publisher == "Bloomberg"


def test_markdown_headline_becomes_the_title(corpus: Path) -> None:
    [article] = load(corpus / "bridge.md")
    assert article.title == "Council approves river bridge"
    assert article.publisher == "Reuters"


def test_html_keeps_the_main_text_only(corpus: Path) -> None:
    [article] = load(corpus / "space.html")
    assert isinstance(article, Article)
    assert "Juice entered orbit around Jupiter" in article.text
    assert "Ganymede" in article.text
    for boilerplate in ("track()", "Home", "Subscribe", "<p>"):
        assert boilerplate not in article.text
    assert article.title == "Probe reaches Jupiter orbit"


def test_jsonl_records_carry_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [
        {"id": "a1", "title": "One", "text": "First story text here.", "publisher": "Wire", "published": "2024-05-01"},
        {"text": "A record without an id still loads."},
        {"id": "a3", "text": "A record of an older feed names its publisher 'source'.", "source": "Old Wire"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    first, second, third = load(path)
    assert (first.id, first.title, first.publisher, first.published) == ("a1", "One", "Wire", "2024-05-01")
    assert third.publisher == "Old Wire"
    assert first.location.endswith("feed.jsonl#a1")
    assert second.id == "feed:2"
    assert second.title == "A record without an id still loads."


def test_json_file_with_a_list_of_records(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([{"id": "x", "text": "Alpha story."}, {"id": "y", "text": "Beta story."}]))
    assert [a.id for a in load(path)] == ["x", "y"]


def test_folders_are_walked_for_supported_files_only(corpus: Path) -> None:
    (corpus / "image.png").write_bytes(b"\x89PNG")
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "secret.txt").write_text("not indexed")
    scan = find_files([corpus])
    assert sorted(p.name for p in scan.files) == ["bridge.md", "seed.txt", "space.html", "wheat.txt"]


def failure_reason(path: Path, limit: int = LIMIT) -> str:
    [failure] = load(path, limit)
    assert isinstance(failure, LoadFailure)
    assert str(path.resolve()) in failure.location
    return failure.reason


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    assert "empty" in failure_reason(path)


def test_binary_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "program.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20)
    assert "binary" in failure_reason(path)


def test_text_that_is_not_utf8_is_reported_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Le café est fermé.".encode("latin-1"))
    reason = failure_reason(path)
    assert "not UTF-8" in reason
    assert "iconv" in reason


def test_file_over_the_size_limit_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("word " * 1000)
    reason = failure_reason(path, limit=1000)
    assert "limit" in reason
    assert "--max-file-mb" in reason


def test_html_without_text_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "menu.html"
    path.write_text("<html><head><script>var a = 1;</script></head><body><nav>Home</nav></body></html>")
    assert "no main text" in failure_reason(path)


def test_malformed_json_lines_are_reported_and_the_good_lines_kept(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text('{"id": "ok1", "text": "Good one."}\n{broken\n{"id": "ok2"}\n{"id": "ok3", "text": "Good too."}\n')
    items = load(path)
    assert [a.id for a in items if isinstance(a, Article)] == ["ok1", "ok3"]
    failures = [f for f in items if isinstance(f, LoadFailure)]
    assert failures[0].location.endswith("feed.jsonl:2")
    assert "malformed JSON" in failures[0].reason
    assert '"text"' in failures[1].reason


def test_missing_and_unsupported_paths_are_reported(tmp_path: Path) -> None:
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4")
    scan = find_files([tmp_path / "nope", tmp_path / "slides.pdf"])
    assert scan.files == []
    assert [f.reason.split(";")[0] for f in scan.failures] == ["no such file or folder", "unsupported file type '.pdf'"]


def test_a_script_in_an_html_title_is_not_part_of_the_title(tmp_path: Path) -> None:
    path = tmp_path / "tram.html"
    path.write_text(
        "<html><head><title>Tram line <script>alert(1)</script></title></head><body><article>"
        "<h1>Tram line <script>alert(1)</script></h1><p>The sign at the Vika tram stop showed a warning "
        "instead of the timetable, the operator said on Monday morning.</p></article></body></html>",
        encoding="utf-8",
    )
    [article] = load(path)
    assert article.title == "Tram line"
    assert "alert" not in article.text
