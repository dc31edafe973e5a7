"""How many rounds a scenario needs: until its median is known to within a target, or a cap.

A scenario is measured in passes.  Within one workload and size, every runner does its
first pass, then every runner still short of the target does a second, and so on: a slow
minute on a shared machine lands on all the runners being compared, not on whichever
ran then.  After each pass the 95 % confidence interval of the median of all rounds so far
decides whether another pass is needed.

The interval is SciPy's (`scipy.stats.quantile_test`, order statistics: no distribution
assumed).  It needs at least FIRST_PASS_ROUNDS rounds.  An interpreter under test without
SciPy has no interval to stop on, so its scenarios run to the cap (the report, made where
SciPy is, still computes the interval).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

CONFIDENCE = 0.95
DEFAULT_TARGET = 0.03  # half-width of the interval, as a share of the median
FIRST_PASS_ROUNDS = 6  # the fewest rounds for which a 95 % interval of the median exists
LATER_PASS_ROUNDS = 4
DEFAULT_MAX_ROUNDS = 30
DEFAULT_MAX_SECONDS = 10.0  # of measured round time per scenario; passes stop past it


def median_interval(rounds: list[float]) -> tuple[float, float] | None:
    """The 95 % confidence interval of the median of `rounds`; None if it cannot be had."""
    try:
        from scipy.stats import quantile_test
    except ImportError:
        return None
    if len(rounds) < FIRST_PASS_ROUNDS:
        return None
    found = quantile_test(rounds, q=statistics.median(rounds), p=0.5).confidence_interval(
        CONFIDENCE)
    low, high = float(found.low), float(found.high)
    return None if math.isnan(low) or math.isnan(high) else (low, high)


RESAMPLES = 2000


def ratio_interval(a: list[float], b: list[float]) -> tuple[float, float] | None:
    """The 95 % interval of median(a) / median(b): SciPy's bootstrap over both sets of
    rounds, resampled apart (seeded, so a report is the same each time it is made); None
    without SciPy or with fewer than two rounds on either side."""
    if len(a) < 2 or len(b) < 2:
        return None
    try:
        import numpy as np
        from scipy.stats import bootstrap
    except ImportError:
        return None

    def ratio(x: Any, y: Any, axis: int = -1) -> Any:
        return np.median(x, axis=axis) / np.median(y, axis=axis)

    found = bootstrap((np.asarray(a, dtype=float), np.asarray(b, dtype=float)), ratio,
                      vectorized=True, paired=False, n_resamples=RESAMPLES,
                      confidence_level=CONFIDENCE, method="percentile",
                      random_state=0).confidence_interval
    return (float(found.low), float(found.high))


def half_width(rounds: list[float]) -> float | None:
    """The interval's larger side as a share of the median; None if there is no interval."""
    interval = median_interval(rounds)
    if interval is None:
        return None
    middle = statistics.median(rounds)
    return max(middle - interval[0], interval[1] - middle) / middle


@dataclass(frozen=True)
class RoundPlan:
    """Rounds per pass and the caps; `forced` is --rounds N: one pass of exactly N."""

    target: float = DEFAULT_TARGET
    max_rounds: int = DEFAULT_MAX_ROUNDS
    max_seconds: float = DEFAULT_MAX_SECONDS
    forced: int | None = None

    @property
    def passes(self) -> int:
        if self.forced is not None:
            return 1
        return 1 + math.ceil(max(0, self.max_rounds - FIRST_PASS_ROUNDS) / LATER_PASS_ROUNDS)

    def rounds_in(self, pass_index: int) -> int:
        if self.forced is not None:
            return self.forced
        if pass_index == 1:
            return min(FIRST_PASS_ROUNDS, self.max_rounds)
        done = FIRST_PASS_ROUNDS + (pass_index - 2) * LATER_PASS_ROUNDS
        return max(0, min(LATER_PASS_ROUNDS, self.max_rounds - done))


@dataclass
class Tracker:
    """The rounds each scenario has so far, and whether it wants another pass."""

    plan: RoundPlan
    rounds: dict[str, list[float]] = field(default_factory=dict)

    def add(self, scenario: str, round_times: list[float]) -> None:
        self.rounds.setdefault(scenario, []).extend(round_times)

    def enough(self, scenario: str) -> str | None:
        """Why `scenario` needs no further pass, or None if it does."""
        so_far = self.rounds.get(scenario, [])
        if len(so_far) >= self.plan.max_rounds:
            return f"capped at {len(so_far)} rounds"
        if sum(so_far) >= self.plan.max_seconds:
            return f"capped at {self.plan.max_seconds:g} s of rounds ({len(so_far)} rounds)"
        width = half_width(so_far)
        if width is not None and width <= self.plan.target:
            return (f"precise: 95 % interval of the median within ±{width:.1%} after "
                    f"{len(so_far)} rounds")
        return None
