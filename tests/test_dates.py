"""Publication dates in the forms news exports and feeds write them, kept as YYYY, YYYY-MM or
YYYY-MM-DD so that the string says how sure the date is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.articles import Article, LoadFailure, load_file
from index.dates import DateError, date_precision, normalize_date


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("2024", "2024"),
        ("2024-03", "2024-03"),
        ("2024-03-12", "2024-03-12"),
        ("2024-03-12T09:30:00Z", "2024-03-12"),
        ("2024-03-12T09:30:00+01:00", "2024-03-12"),
        ("2022/06/12", "2022-06-12"),
        ("2022.6.2", "2022-06-02"),
        ("June 12, 2022", "2022-06-12"),
        ("Jun. 12 2022", "2022-06-12"),
        ("12 June 2022", "2022-06-12"),
        ("Sept 3, 2021", "2021-09-03"),
        ("June 2022", "2022-06"),
        ("Sun, 12 Jun 2022 10:00:00 GMT", "2022-06-12"),
        ("Mon, 03 Mar 2025 08:00:00 +0100", "2025-03-03"),
        ("  ", ""),
    ],
)
def test_the_common_forms_of_a_publication_date_are_read(written: str, normalised: str) -> None:
    assert normalize_date(written) == normalised


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("06/12/2022", "could be day/month or month/day; write it year first, as YYYY-MM-DD"),
        ("2022-02-30", "is not a real day"),
        ("Smarch 3, 2022", '"Smarch" is not a month name'),
        ("sometime soon", '"sometime soon" is not a date; use YYYY-MM-DD'),
    ],
)
def test_a_date_that_cannot_be_read_surely_is_refused_with_what_to_write(written: str, message: str) -> None:
    with pytest.raises(DateError, match=message):
        normalize_date(written)


def test_the_precision_is_the_length_of_the_normalised_date() -> None:
    assert [date_precision(d) for d in ("2024-03-12", "2024-03", "2024", "")] == ["day", "month", "year", ""]


def test_a_records_published_field_is_normalised_and_a_bad_one_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [
        {"id": "a", "text": "The harbour reopened on Friday.", "published": "2022/06/12"},
        {"id": "b", "text": "The ferry resumed on Monday.", "published": "Sun, 12 Jun 2022 10:00:00 GMT"},
        {"id": "c", "text": "The bridge closed.", "published": "06/12/2022"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    good, also_good, bad = load_file(path, 1_000_000)
    assert isinstance(good, Article) and good.published == "2022-06-12"
    assert isinstance(also_good, Article) and also_good.published == "2022-06-12"
    assert isinstance(bad, LoadFailure)
    assert bad.location.endswith("feed.jsonl (line 3)")
    assert 'published="06/12/2022" could be day/month or month/day' in bad.reason


@pytest.mark.parametrize(
    ("head", "byline"),
    [
        ('<meta property="article:published_time" content="2024-04-11T08:00:00Z">', ""),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-04-11T08:00:00+02:00"}'
            "</script><script>track()</script>",
            "",
        ),
        ("", '<time datetime="2024-04-11">11 April 2024</time>'),
    ],
)
def test_an_html_pages_own_date_is_its_publication_date(tmp_path: Path, head: str, byline: str) -> None:
    paragraph = "The harbour of Norrvik reopened after two years of repairs, the port authority said. " * 3
    page = tmp_path / "harbour.html"
    page.write_text(
        f"<html><head><title>Harbour reopens</title>{head}</head>"
        f"<body><article><h1>Harbour reopens</h1>{byline}<p>{paragraph}</p></article></body></html>"
    )
    [article] = load_file(page, 1_000_000)
    assert isinstance(article, Article)
    assert article.published == "2024-04-11"
