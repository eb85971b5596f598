"""Model replies recorded from real eval runs (the question, the sources the pipeline showed, the raw
reply; see ``evals.record``), replayed against today's checks: right answers the checks used to
throw away are kept, and wrong ones are still withheld."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.metrics import contains_gold, in_date_order, states_a_date, strip_markers
from evals.record import replayed_sources
from qa.citations import Verifier
from qa.second_chance import second_chance_sources

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "recorded_replies.jsonl").open()]


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "answer"], ids=lambda c: c["id"])
def test_a_right_reply_is_kept(case: dict) -> None:
    verdict = Verifier().verify(case["raw"], case["question"], replayed_sources(case))
    assert not verdict.abstain, case["note"]
    assert contains_gold(" ".join(s.text for s in verdict.kept), case["gold"])


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "decline"], ids=lambda c: c["id"])
def test_a_wrong_reply_is_withheld(case: dict) -> None:
    assert not contains_gold(strip_markers(case["raw"]), case["gold"]) or not case["answerable"]
    verdict = Verifier().verify(case["raw"], case["question"], replayed_sources(case))
    assert verdict.abstain, case["note"]


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "second-reading"], ids=lambda c: c["id"])
def test_a_rejected_first_reply_is_read_again_without_what_misled_it_and_the_second_reply_kept(case: dict) -> None:
    sources = replayed_sources(case)
    first = Verifier().verify(case["first_reply"], case["question"], sources)
    assert first.abstain and not contains_gold(strip_markers(case["first_reply"]), case["gold"])
    second_sources = second_chance_sources(first, case["question"], sources)
    assert 0 < len(second_sources) < len(sources)
    second = Verifier().verify(case["raw"], case["question"], second_sources)
    assert not second.abstain, case["note"]
    assert contains_gold(" ".join(s.text for s in second.kept), case["gold"])


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "dated-answer"], ids=lambda c: c["id"])
def test_a_right_reply_that_says_on_which_day_is_kept_with_its_day(case: dict) -> None:
    verdict = Verifier().verify(case["raw"], case["question"], replayed_sources(case))
    kept = " ".join(s.text for s in verdict.kept)
    assert not verdict.abstain and contains_gold(kept, case["gold"]), case["note"]
    assert states_a_date(kept)


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "timeline"], ids=lambda c: c["id"])
def test_a_timeline_is_kept_in_the_order_of_its_sources_days(case: dict) -> None:
    sources = {s.number: s for s in replayed_sources(case)}
    verdict = Verifier().verify(case["raw"], case["question"], list(sources.values()))
    assert not verdict.abstain and len(verdict.kept) >= 2, case["note"]
    days = [min((sources[n].passage.published for n in s.sources), default="") for s in verdict.kept]
    assert in_date_order(days), days


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "other-side"], ids=lambda c: c["id"])
def test_a_reply_that_gives_one_side_of_a_disagreement_gets_the_other(case: dict) -> None:
    from index.embeddings import shared_embedder
    from qa.disagreement import other_side

    sources = replayed_sources(case)
    verdict = Verifier().verify(case["raw"], case["question"], sources)
    assert not verdict.abstain, case["note"]
    side = other_side(case["question"], sources, case["raw"], shared_embedder())
    assert side is not None
    # The reply gives one of the gold figures, the added side another: both are now said.
    reply, added = strip_markers(case["raw"]), side.sentence()
    assert contains_gold(reply, case["gold"]) and contains_gold(added, case["gold"])
    assert [g for g in case["gold"] if contains_gold(reply, [g])] != [
        g for g in case["gold"] if contains_gold(added, [g])
    ]


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "other-side"], ids=lambda c: c["id"])
def test_the_answer_to_a_disagreement_cites_each_side_and_the_chat_marks_it(case: dict) -> None:
    from index.embeddings import shared_embedder
    from qa.answers import compose_answer
    from qa.disagreement import disputed_sides
    from qa.shapes import checked_answer
    from ui.render import answer_html

    sources = replayed_sources(case)
    verdict = Verifier().verify(case["raw"], case["question"], sources)
    sides = disputed_sides(case["question"], sources, case["raw"], shared_embedder())
    answer = compose_answer(case["question"], case["question"], [], sources, verdict, case["raw"], sides)
    assert len(answer.disagreement) == 2
    cited = {c.number: c for c in answer.citations}
    for side in answer.disagreement:  # each side is cited, and its figure is in its source's quote
        assert f"[{side.number}]" in answer.text and side.words in cited[side.number].passage.text
        assert side.publisher == cited[side.number].publisher
    html = answer_html(answer, turn=3)
    assert 'class="cq-dispute"' in html and "The sources disagree" in html
    assert all(f'href="#cq-t3-s{side.number}"' in html.split('class="cq-dispute"')[1] for side in answer.disagreement)
    assert [d["number"] for d in checked_answer(answer)["disagreement"]] == [d.number for d in answer.disagreement]
