"""The evaluation gate: floors and ceilings say their direction, and a metric the run could not
measure fails its rule instead of passing silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.gate import Threshold, failures

SUMMARY = {"answer_contains_gold": 0.70, "false_abstention": 0.12, "abstention_recall": float("nan"), "ttft_p50": 4.8}


def test_a_floor_fails_under_its_value_and_a_ceiling_over_it() -> None:
    assert failures(SUMMARY, [Threshold.parse("answer_contains_gold=0.65")]) == []
    assert failures(SUMMARY, [Threshold.parse("answer_contains_gold=0.75")]) == [
        "answer_contains_gold = 0.700, the gate wants answer_contains_gold >= 0.75"
    ]
    assert failures(SUMMARY, [Threshold.parse("false_abstention=0.17", ceiling=True)]) == []
    assert failures(SUMMARY, [Threshold.parse("ttft_p50=3", ceiling=True)]) == [
        "ttft_p50 = 4.800, the gate wants ttft_p50 <= 3"
    ]
    # The same rule as a floor passes: the direction is the rule's, never guessed from the name.
    assert failures(SUMMARY, [Threshold.parse("false_abstention=0.10")]) == []


def test_a_metric_the_run_could_not_measure_fails_its_rule() -> None:
    [broken] = failures(SUMMARY, [Threshold.parse("abstention_recall=0.5")])
    assert broken.startswith("abstention_recall has no value in this run")


def test_a_rule_that_is_not_one_or_names_no_metric_of_the_report_is_refused() -> None:
    with pytest.raises(ValueError, match="use METRIC=VALUE"):
        Threshold.parse("answer_contains_gold")
    with pytest.raises(ValueError, match="'answer_contain_gold' is not a metric of this run's report"):
        failures(SUMMARY, [Threshold.parse("answer_contain_gold=0.6")])


def test_citeqa_eval_exits_1_on_a_broken_rule_and_2_on_a_bad_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from evals.suite import SEED_DATASET
    from ui.cli import main

    dataset = tmp_path / "seed-three"
    dataset.mkdir()
    (dataset / "articles.jsonl").write_text((SEED_DATASET / "articles.jsonl").read_text("utf-8"), "utf-8")
    questions = (SEED_DATASET / "questions.jsonl").read_text("utf-8").splitlines()
    answerable = [line for line in questions if json.loads(line)["answerable"]][:3]
    (dataset / "questions.jsonl").write_text("\n".join(answerable) + "\n", "utf-8")
    run = ["--home", str(tmp_path / "home"), "eval", str(dataset), "--retrieval-only", "--out", str(tmp_path / "run")]
    passed = CliRunner().invoke(main, [*run, "--fail-under", "recall@10=0.5"])
    assert passed.exit_code == 0, passed.output
    broken = CliRunner().invoke(main, [*run, "--fail-over", "recall@10=0.5"])
    assert (
        broken.exit_code == 1
        and "FAILED threshold: recall@10 = 1.000, the gate wants recall@10 <= 0.5" in broken.output
    )
    typo = CliRunner().invoke(main, [*run, "--fail-under", "recall@10"])
    assert typo.exit_code == 2 and "use METRIC=VALUE" in typo.output
