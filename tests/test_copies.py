"""One story from several outlets becomes one passage: the newest version, naming the others."""

from __future__ import annotations

from dataclasses import replace

from qa.copies import merge_copies, same_story
from qa.passages import Passage

WIRE = (
    "Crews on Islink Ferries will strike from Wednesday after talks on night-shift pay failed, the Ferry "
    "Crews Union said on Monday. The union wants night shifts paid at 1.5 times the day rate."
)


def _passage(article: str, publisher: str, published: str, text: str, rank: int) -> Passage:
    return Passage(text, article, article, article, publisher, published, "", 0, len(text), rank, 1.0 / rank)


def test_a_syndicated_copy_is_one_story_and_another_report_of_the_event_is_not() -> None:
    wire = _passage("nw", "Northern Wire", "2026-10-05", "LARKHAVEN (Northern Wire) - " + WIRE, 1)
    copy = _passage("hp", "Harbour Post", "2026-10-05", "Ferry strike called. " + WIRE, 2)
    own_words = _passage(
        "cd", "Coastline Daily", "2026-10-05", "Islink's ferry crews plan a walkout over pay for night work.", 3
    )
    assert same_story(wire, copy)
    assert not same_story(wire, own_words)


def test_copies_merge_into_the_best_ranked_copy_which_names_the_other_outlets() -> None:
    passages = [
        _passage("nw", "Northern Wire", "2026-10-05", WIRE, 1),
        _passage("other", "Valley Courier", "2026-10-05", "Floods in Dunmere forced 1,200 people out.", 2),
        _passage("hp", "Harbour Post", "2026-10-05", WIRE, 3),
        _passage("cd", "Coastline Daily", "2026-10-05", WIRE, 4),
    ]
    merged = merge_copies(passages)
    assert [(p.article_id, p.rank) for p in merged] == [("nw", 1), ("other", 2)]
    assert merged[0].copies == ("Harbour Post", "Coastline Daily")
    assert merged[1].copies == ()


def test_an_updated_version_replaces_the_first_one() -> None:
    first = _passage("talks", "Northern Wire", "2026-10-14", WIRE, 1)
    update = _passage("deal", "Northern Wire", "2026-10-15", WIRE + " The union accepted 1.4 times on Thursday.", 2)
    merged = merge_copies([first, update])
    assert [(p.article_id, p.rank, p.copies) for p in merged] == [("deal", 1, ())]  # same outlet: no one else to name


def test_the_citation_card_names_the_other_outlets_that_ran_the_story() -> None:
    from qa.answers import Citation
    from ui.render import citation_card

    kept = merge_copies(
        [
            _passage("nw", "Northern Wire", "2026-10-05", WIRE, 1),
            _passage("hp", "Harbour Post", "2026-10-05", WIRE, 2),
        ]
    )[0]
    card = citation_card(Citation(1, kept, 0, 40, WIRE[:40]), turn=1)
    assert "Also: Harbour Post" in card and "Northern Wire · 5 October 2026" in card


def test_passages_the_index_grouped_as_one_story_merge_even_in_other_words_and_the_newest_is_kept() -> None:
    """A rewritten update shares too few 4-grams with its first version for the passages alone to
    tell; the index compared the whole articles and put both in one story."""
    first = _passage("plant", "Capital Ledger", "2026-10-06", "Quillon will build a plant that will employ 800.", 1)
    update = _passage("update", "Capital Ledger", "2026-10-20", "Quillon cut the plant's jobs to 650, from 800.", 2)
    assert not same_story(first, update)
    merged = merge_copies([replace(first, story="s1", copies=("Valley Courier",)), replace(update, story="s1")])
    assert [(p.article_id, p.copies) for p in merged] == [("update", ("Valley Courier",))]
    other_story = merge_copies([replace(first, story="s1"), replace(update, story="s2")])
    assert [p.article_id for p in other_story] == ["plant", "update"]
