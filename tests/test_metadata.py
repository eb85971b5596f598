"""Metadata read off a plain-text news article."""

from __future__ import annotations

from index.metadata import date_bounds, detect_metadata


def test_seed_article_metadata(seed_text: str) -> None:
    meta = detect_metadata(seed_text)
    assert meta.title.startswith("China is sending its highest-level delegation to North Korea")
    assert not meta.title.startswith("(Bloomberg)")
    assert meta.publisher == "Bloomberg"
    assert meta.published == "2024"


def test_headline_line_is_the_title() -> None:
    meta = detect_metadata("Markets rally on rate hopes\n\nStocks rose on Friday. Bonds fell.")
    assert meta.title == "Markets rally on rate hopes"


def test_dateline_with_a_city_names_the_publisher() -> None:
    assert detect_metadata("PARIS (AFP) - The strike ended.").publisher == "AFP"


def test_copyright_line_names_the_publisher_and_year() -> None:
    meta = detect_metadata("The strike ended on Monday.\n\nCopyright 2021 Example News Inc. All rights reserved.")
    assert meta.publisher == "Example News"
    assert meta.published == "2021"


def test_full_dates_near_the_top_win_over_a_year() -> None:
    assert detect_metadata("March 3, 2023\n\nThe strike ended.\n\n©2024 Wire").published == "2023-03-03"
    assert detect_metadata("Published 2022-11-05. The strike ended.").published == "2022-11-05"


def test_dates_in_the_body_are_not_the_publication_date() -> None:
    body = "Intro sentence. " + "Filler text here. " * 40 + "He went there in June 2019."
    assert detect_metadata(body).published == ""


def test_date_bounds_cover_partial_dates() -> None:
    assert date_bounds("2024") == (20240101, 20241231)
    assert date_bounds("2024-06") == (20240601, 20240630)
    assert date_bounds("2024-02") == (20240201, 20240229)  # a leap year
    assert date_bounds("2024-06-05") == (20240605, 20240605)
    assert date_bounds("") == (0, 0)


def test_the_wire_datelines_of_the_big_agencies_name_the_publisher_and_the_date() -> None:
    reuters = detect_metadata("ROTTERDAM, March 12 (Reuters) - The port reopened.\n\n(c) 2024 Reuters")
    assert (reuters.publisher, reuters.published, reuters.title) == ("Reuters", "2024-03-12", "The port reopened.")
    assert detect_metadata("LONDON, Jan. 5 (Reuters) - Shares fell.\n\n© 2025 Reuters").published == "2025-01-05"
    ap = detect_metadata("Senate votes\n\nWASHINGTON (AP) — The Senate voted on Tuesday.\n\nCopyright 2023 AP.")
    assert (ap.publisher, ap.title) == ("AP", "Senate votes")
    assert detect_metadata("BERLIN (dpa) - Rail strike ends.").publisher == "dpa"


def test_a_dateline_without_a_year_anywhere_gives_no_date() -> None:
    assert detect_metadata("ROTTERDAM, March 12 (Reuters) - The port reopened.").published == ""


def test_a_broadcasters_dateline_without_brackets_names_the_publisher_and_is_not_the_title() -> None:
    cnn = detect_metadata("New York CNN —\n\nThe Federal Reserve held rates on Wednesday, officials said.")
    assert (cnn.publisher, cnn.title) == ("CNN", "The Federal Reserve held rates on Wednesday, officials said.")
    inline = detect_metadata("Rates on hold\n\nNew York CNN — The Federal Reserve held rates on Wednesday.")
    assert (inline.publisher, inline.title) == ("CNN", "Rates on hold")
    # A capitalised word before a dash is not a dateline unless it is a broadcaster written that way.
    assert detect_metadata("The US — and the EU — agreed on Monday.").publisher == ""
