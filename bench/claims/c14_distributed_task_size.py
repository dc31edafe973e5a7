"""Claim 14: a distributed engine pays off only for tasks above a certain size.

The cpu workload at task sizes from well under a millisecond to a few hundred, under
sequential, a process pool and Dask (a LocalCluster of one single-threaded worker per
core), at the same concurrency.  Each task sent to Dask pays a trip through the scheduler,
so small tasks should lose to running them in place and large ones should win; the
crossover is the smallest task size from which Dask beats sequential at every larger
size too.  The per-task overheads (a no-op task's round trip) and start-up times of Dask
and the process pool are quoted beside it.
"""

from __future__ import annotations

import math
import statistics

from bench.claims.kit import (
    FAILS,
    HOLDS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    claim_rows,
    colour,
    faster,
    ms,
    one,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c14_distributed_task_size"
WORTH_IT = 1.10  # "pays off": significantly and at least 10 % faster than sequential
RUNNERS = ("sequential", "processes", "dask")


def short(seconds: float) -> str:
    """A duration to three significant figures, in ms (tasks here go down to microseconds)."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.3g} ms"


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "cpu", runner, s.size_tasks, s.size_level, s.rounds, n=n)
            for n in s.size_ns for runner in RUNNERS]


def sizes(rows: Table) -> list[tuple[float, Table]]:
    """(one task's time in seconds, the rows of that size), smallest first."""
    found: list[tuple[float, Table]] = []
    if rows.empty:
        return found
    for _, mine in rows.groupby("params", sort=False):
        seq = one(mine, runner="sequential")
        if seq is not None and not math.isnan(float(seq["task_s"])):
            found.append((float(seq["task_s"]), mine))
    return sorted(found, key=lambda pair: pair[0])


def beats(mine: Table, runner: str) -> tuple[bool, float]:
    """(whether `runner` pays off at this size, its speedup over sequential)."""
    seq, row = one(mine, runner="sequential"), one(mine, runner=runner)
    if seq is None or row is None:
        return False, math.nan
    speedup = float(seq["median_s"]) / float(row["median_s"])
    return significant(faster(row["rounds_data"], seq["rounds_data"])) and \
        speedup >= WORTH_IT, speedup


def crossover(rows: Table, runner: str) -> float | None:
    """Smallest task time from which `runner` pays off at every larger size; None if it
    does not at the largest."""
    found = None
    for task_s, mine in reversed(sizes(rows)):
        if not beats(mine, runner)[0]:
            return found
        found = task_s
    return found


def overhead(rows: Table, runner: str, column: str) -> float:
    values = rows.loc[rows["runner"] == runner, column].dropna() if column in rows else []
    return float(statistics.median(values)) if len(values) else math.nan


def check(table: Table) -> Verdict:
    """HOLDS if Dask pays off from some task size on but not at the smallest; FAILS if it
    pays off at every size measured (no threshold) or at none."""
    rows = claim_rows(table, KEY)
    measured = sizes(rows)
    if not measured or rows[rows["runner"] == "dask"].empty:
        return Verdict(CLAIM, MISSING, "")
    found = {runner: crossover(rows, runner) for runner in ("dask", "processes")}
    smallest = measured[0][0]
    dask_at = found["dask"]
    verdict = HOLDS if dask_at is not None and dask_at > smallest else FAILS

    def at(value: float | None) -> str:
        return "never" if value is None else f"from {short(value)} tasks"

    speedups = ", ".join(f"{short(task_s)}: {beats(mine, 'dask')[1]:.2f}x"
                         for task_s, mine in measured)
    costs = (f"round trip of a no-op task: dask {short(overhead(rows, 'dask', 'task_overhead_s'))}"
             f", process pool {short(overhead(rows, 'processes', 'task_overhead_s'))}; start-up: "
             f"dask {ms(overhead(rows, 'dask', 'setup_s'))}, process pool "
             f"{ms(overhead(rows, 'processes', 'setup_s'))}")
    return Verdict(CLAIM, verdict,
                   f"dask beats sequential (p<0.05, >= {WORTH_IT:.2f}x) {at(dask_at)}; "
                   f"process pool {at(found['processes'])}; {costs}",
                   details=f"dask speedup over sequential by task time: {speedups}")


def panel(ax: Axes, rows: Table) -> None:
    measured = sizes(rows)
    for runner in ("processes", "dask"):
        x = [task_s * 1000 for task_s, _ in measured]
        y = [beats(mine, runner)[1] for _, mine in measured]
        ax.plot(x, y, marker="o", color=colour(runner), label=runner)
        at = crossover(rows, runner)
        if at is not None:
            ax.axvline(at * 1000, color=colour(runner), linestyle=":", linewidth=1)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_xscale("log")
    ax.set_xlabel("one task's time (ms, log scale); dotted: crossover")
    ax.set_ylabel("speedup over sequential (x)")


CLAIM = Claim(KEY, "A distributed engine pays off only for tasks above a certain size.",
              check, panel, scenarios)
