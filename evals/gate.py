"""Floors and ceilings on a run's metrics: what makes ``citeqa eval`` exit 1, and the CI gate.

A rule names its direction: ``--fail-under METRIC=VALUE`` is a floor (the run fails when the
metric is under it: gold answers found, unanswerable questions declined) and ``--fail-over
METRIC=VALUE`` a ceiling (it fails when the metric is over it: answerable questions declined,
wrong answers, seconds to the first token). Until this module the CLI had one option and flipped
its meaning for metrics it knew by name, so a ceiling on a metric it did not know was read as a
floor and could never fail.

A metric with no value in the run (NaN: no question of its kind was asked, as with
``abstention_recall`` on a sample without unanswerable questions) fails its rule: a gate that
cannot be measured has not been passed. A metric the report does not have is a mistake in the
rule, raised as ``ValueError`` naming the metrics that exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Threshold", "failures"]


@dataclass(frozen=True)
class Threshold:
    metric: str
    limit: float
    ceiling: bool = False
    """True: the run fails when the metric is over ``limit``; False: when it is under."""

    @classmethod
    def parse(cls, rule: str, *, ceiling: bool = False) -> Threshold:
        """``METRIC=VALUE`` (``ValueError`` with a message naming the rule otherwise)."""
        metric, _, raw = rule.partition("=")
        try:
            return cls(metric.strip(), float(raw), ceiling)
        except ValueError:
            option = "--fail-over" if ceiling else "--fail-under"
            raise ValueError(f"{option} {rule!r}: use METRIC=VALUE, such as answer_contains_gold=0.65") from None

    def describe(self) -> str:
        return f"{self.metric} {'<=' if self.ceiling else '>='} {self.limit:g}"


def failures(summary: Mapping[str, float], thresholds: Iterable[Threshold]) -> list[str]:
    """One line for each rule the run breaks, in the order given."""
    broken = []
    for rule in thresholds:
        if rule.metric not in summary:
            known = ", ".join(sorted(summary))
            raise ValueError(f"{rule.metric!r} is not a metric of this run's report; it has: {known}")
        value = summary[rule.metric]
        if value is None or math.isnan(value):
            broken.append(
                f"{rule.metric} has no value in this run (no question of its kind), so {rule.describe()} is not met"
            )
        elif (value > rule.limit) if rule.ceiling else (value < rule.limit):
            broken.append(f"{rule.metric} = {value:.3f}, the gate wants {rule.describe()}")
    return broken
