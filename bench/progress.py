"""A line now and then on a long run: which scenario, how long so far, about how long left."""

from __future__ import annotations

import time
from collections.abc import Sequence
from statistics import fmean

import pytest

FIRST = 1  # a scenario's first pass; later passes run only when it is short of its target


class Progress:
    """A line now and then on a long run: scenario i of n, time so far, an estimate left.

    The estimate learns from what has run.  A first pass left is expected to take what the
    first passes of its workload took so far (of any workload, before one has run).  A
    later pass runs only for a scenario short of its precision, so it is expected to take
    what the later passes so far took on average, skipped ones counted at the time their
    skip took; before enough later passes have run, its own first pass's time scaled by
    the share of later passes run so far (all of them, before any)."""

    EVERY_S = 30.0
    MIN_DONE = 5  # and at least a twentieth of the run before an estimate is given
    MIN_LATER = 3  # later passes run before their own mean stands for the rest

    def __init__(self, config: pytest.Config, total: int,
                 plan: Sequence[tuple[str, str, int]] | None = None) -> None:
        """`plan`: per scenario in run order, (workload, scenario key, pass); without it,
        every scenario counts alike."""
        self.config, self.total, self.done = config, total, 0
        self.plan = list(plan) if plan is not None else [("", "", FIRST)] * total
        self.start = time.monotonic()
        self.last = self.start
        self.ran = 0.0
        self.times: list[float] = []

    def finished(self, seconds: float) -> None:
        self.times.append(seconds)
        self.done += 1
        self.ran += seconds
        now = time.monotonic()
        if now - self.last < self.EVERY_S or self.done >= self.total:
            return
        self.last = now
        if self.done >= max(self.MIN_DONE, self.total // 20):
            left = f"about {_clock(self.left())} left"
        else:  # a few scenarios say little about the rest
            left = "an estimate once more have run"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[concurrency-bench] scenario {self.done} of {self.total}, "
                                f"{_clock(now - self.start)} so far, {left}")

    def left(self) -> float:
        """Seconds the scenarios not yet run should take, from those that have."""
        done = list(zip(self.plan[:self.done], self.times, strict=True))
        firsts = [seconds for (_, _, index), seconds in done if index == FIRST]
        by_workload: dict[str, list[float]] = {}
        by_key: dict[str, float] = {}
        for (workload, key, index), seconds in done:
            if index == FIRST:
                by_workload.setdefault(workload, []).append(seconds)
                by_key[key] = seconds
        laters = [seconds for (_, _, index), seconds in done if index != FIRST]
        ran_share = (sum(1 for s in laters if s > self._skip_s(firsts)) / len(laters)
                     if laters else 1.0)
        overall = fmean(firsts) if firsts else fmean(self.times)
        total = 0.0
        for workload, key, index in self.plan[self.done:]:
            if index == FIRST:
                total += fmean(by_workload[workload]) if workload in by_workload else overall
            elif len(laters) >= self.MIN_LATER:
                total += fmean(laters)
            else:
                total += by_key.get(key, overall) * ran_share
        return total

    @staticmethod
    def _skip_s(firsts: list[float]) -> float:
        """Below this a later pass was skipped rather than run: a tenth of the shortest
        first pass (a skip takes milliseconds, a pass at least a few rounds)."""
        return 0.1 * min(firsts) if firsts else 0.0


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
