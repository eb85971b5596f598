"""Reports that disagree on the figure asked for: the side an answer leaves out is found in the
evidence and added, cited, in its source's words; look-alikes, other units, later updates and
answers that already give both are left alone."""

from __future__ import annotations

from datetime import date

import pytest

from index.embeddings import shared_embedder
from qa.disagreement import other_side
from qa.evidence import Source
from qa.passages import Passage

COURIER = "About 900 people were moved out of riverside streets in Brenholm on Friday as the Lune rose, the mayor said."
WIRE = "Some 1,300 residents left their homes in Brenholm on Friday as the river Lune flooded, firefighters said."
AID = "The regional government will give 3 million euros in flood aid to Brenholm, the minister said."
ELSEWHERE = "About 1,300 people were moved out of their homes in Kettering on Friday as the Nene rose."


def source(number: int, text: str, article: str, publisher: str, published: str) -> Source:
    passage = Passage(text, article, "h", "Title", publisher, published, "", 0, len(text), number, 1.0)
    return Source(number, text, 0, len(text), passage, 1.0)


QUESTION = "How many people were evacuated in Brenholm during the floods?"


def test_the_figure_another_outlet_gave_for_the_same_event_is_found() -> None:
    sources = [
        source(1, COURIER, "courier", "Lune Courier", "2026-03-06"),
        source(2, WIRE, "wire", "Northern Wire", "2026-03-06"),
    ]
    side = other_side(QUESTION, sources, " About 900 people were evacuated [1].", shared_embedder())
    assert side is not None and side.source.number == 2
    assert side.sentence() == "Northern Wire reported some 1,300 residents."


@pytest.mark.parametrize(
    ("why", "other", "answer"),
    [
        ("both given already", WIRE, " About 900 people left, or 1,300 by another count [1][2]."),
        ("another unit", AID, " About 900 people were evacuated [1]."),
        ("another town", ELSEWHERE, " About 900 people were evacuated [1]."),
    ],
)
def test_no_other_side_when(why: str, other: str, answer: str) -> None:
    sources = [
        source(1, COURIER, "courier", "Lune Courier", "2026-03-06"),
        source(2, other, "other", "Wire", "2026-03-06"),
    ]
    assert other_side(QUESTION, sources, answer, shared_embedder()) is None, why


def test_a_figure_reported_weeks_later_is_an_update_not_a_disagreement() -> None:
    later = (date(2026, 3, 27)).isoformat()
    sources = [
        source(1, COURIER, "courier", "Lune Courier", "2026-03-06"),
        source(2, WIRE, "wire", "Northern Wire", later),
    ]
    assert other_side(QUESTION, sources, " About 900 people were evacuated [1].", shared_embedder()) is None


def test_a_citation_marker_is_not_a_figure() -> None:
    three = "Thieves stole three paintings from the Holm Art Museum on Sunday, police said."
    four = "Four paintings were taken in a break-in at the Holm Art Museum on Sunday morning, its director said."
    sources = [
        source(1, three, "a", "Post", "2026-03-01"),
        source(2, "Police have no suspects yet.", "a", "Post", "2026-03-01"),
        source(3, "The museum reopens on Tuesday.", "a", "Post", "2026-03-01"),
        source(4, four, "b", "Daily", "2026-03-01"),
    ]
    question = "How many paintings were stolen from the Holm Art Museum?"
    side = other_side(
        question, sources, " Three paintings were stolen [1]. The museum reopens on Tuesday [3].", shared_embedder()
    )
    assert side is not None and side.sentence() == "Daily reported four paintings."
    # "[4]" in an answer is source four, not four paintings: the answer still gives one side only.
    assert other_side(question, sources, " Three paintings were stolen [1][4].", shared_embedder()) is not None
