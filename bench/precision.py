"""How many rounds a scenario needs: until its median is known to within a target, or a cap.

A scenario is measured in passes.  Within one workload and size, every runner does its
first pass, then every runner still short of the target does a second, and so on: a slow
minute on a shared machine lands on all the runners being compared, not on whichever
ran then.  After each pass the 95 % confidence interval of the median of all rounds so far
decides whether another pass is needed.

The interval is bench.stats' order-statistics interval (no distribution assumed, pure
Python, so every interpreter under test stops on the same rule).  It needs at least
FIRST_PASS_ROUNDS rounds.  What it decides is how many rounds this run takes; the report's
published interval adds what passes and reruns move (bench.stats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.stats import FEWEST_FOR_95, half_width

DEFAULT_TARGET = 0.03  # half-width of the interval, as a share of the median
FIRST_PASS_ROUNDS = FEWEST_FOR_95  # the fewest rounds with a 95 % interval of the median
LATER_PASS_ROUNDS = 4
DEFAULT_MAX_ROUNDS = 30
# Of measured round time per scenario; passes stop past it.  Past two passes a row's
# published interval is set by the run-to-run term (bench/run_to_run.json), not its rounds.
DEFAULT_MAX_SECONDS = 7.0


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
