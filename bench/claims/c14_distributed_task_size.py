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
from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MISSING,
    Axes,
    Effect,
    Outcome,
    Table,
    claim_rows,
    colour,
    ms,
    one,
    speedup,
    undecided,
)
from bench.claims.panels import interval_errors
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec
from bench.stats import median

KEY = "c14_distributed_task_size"
WORTH_IT = 1.10  # "pays off": the speedup over sequential wholly above 1.10x
RUNNERS = ("sequential", "processes", "dask")


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    size_ns: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000, 4_000_000)  # claim 14
    size_tasks: int = 8
    size_level: int = 2


FULL = Sizes()
QUICK = Sizes(size_ns=(1_000, 200_000), size_tasks=4)


def short(seconds: float) -> str:
    """A duration to three significant figures, in ms (tasks here go down to microseconds)."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.3g} ms"


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "cpu", runner, s.size_tasks, s.size_level, n=n)
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


def pays_off(mine: Table, runner: str) -> Effect | None:
    """`runner`'s speedup over sequential at one size, against WORTH_IT; None if absent."""
    seq, row = one(mine, runner="sequential"), one(mine, runner=runner)
    if seq is None or row is None:
        return None
    return speedup(row, seq, WORTH_IT, f"{runner} speedup over sequential")


def beats(mine: Table, runner: str) -> tuple[Outcome, float]:
    """(whether `runner` pays off at this size -- its speedup's interval wholly above
    WORTH_IT: True, wholly below: False, else None -- and the speedup)."""
    found = pays_off(mine, runner)
    return (None, math.nan) if found is None else (found.above, found.value)


def crossover(rows: Table, runner: str) -> float | None:
    """Smallest task time from which `runner` clearly pays off at every larger size; None
    if it does not at the largest."""
    found = None
    for task_s, mine in reversed(sizes(rows)):
        if beats(mine, runner)[0] is not True:
            return found
        found = task_s
    return found


def overhead(rows: Table, runner: str, column: str) -> float:
    values = rows.loc[rows["runner"] == runner, column].dropna() if column in rows else []
    return float(median(values)) if len(values) else math.nan


def panel(ax: Axes, rows: Table) -> None:
    measured = sizes(rows)
    for runner in ("processes", "dask"):
        found = [(task_s, effect) for task_s, mine in measured
                 if (effect := pays_off(mine, runner)) is not None]
        x = [task_s * 1000 for task_s, _ in found]
        effects = [effect for _, effect in found]
        ax.errorbar(x, [e.value for e in effects], yerr=interval_errors(effects), marker="o",
                    color=colour(runner), label=runner, capsize=3)
        at = crossover(rows, runner)
        if at is not None:
            ax.axvline(at * 1000, color=colour(runner), linestyle=":", linewidth=1)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_xscale("log")
    ax.set_xlabel("one task's time (ms, log scale); dotted: crossover")
    ax.set_ylabel("speedup over sequential (x, 95 % interval)")


@register_claim(
    KEY, "A distributed engine pays off only for tasks above a certain size.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Holds if Dask clearly pays off (speedup wholly above WORTH_IT) from some task size
    on and clearly does not at the smallest (wholly below); does not hold if it clearly
    pays off at every size (no threshold) or clearly at none; anything else, including an
    undecided size at the crossover or below it, is inconclusive."""
    rows = claim_rows(table, KEY)
    measured = sizes(rows)
    if not measured or rows[rows["runner"] == "dask"].empty:
        return Verdict(KEY, MISSING, "")
    found = {runner: crossover(rows, runner) for runner in ("dask", "processes")}
    per_size = [(task_s, pays_off(mine, "dask")) for task_s, mine in measured]
    effects = [effect for _, effect in per_size if effect is not None]
    outcomes = [None if effect is None else effect.above for _, effect in per_size]
    smallest = measured[0][0]
    dask_at = found["dask"]
    if outcomes and all(outcome is True for outcome in outcomes):
        verdict = FAILS  # no threshold: it pays off at every size measured
    elif outcomes and all(outcome is False for outcome in outcomes):
        verdict = FAILS  # it never pays off
    elif dask_at is not None and dask_at > smallest and outcomes[0] is False:
        below = [outcome for (task_s, _), outcome in zip(measured, outcomes, strict=True)
                 if task_s < dask_at]
        verdict = HOLDS if below[-1] is False else INCONCLUSIVE
    else:
        verdict = INCONCLUSIVE

    def at(value: float | None) -> str:
        return "never" if value is None else f"from {short(value)} tasks"

    speedups = "; ".join(f"{short(task_s)} tasks: {effect.text()}"
                         for task_s, effect in per_size if effect is not None)
    costs = (f"round trip of a no-op task: dask {short(overhead(rows, 'dask', 'task_overhead_s'))}"
             f", process pool {short(overhead(rows, 'processes', 'task_overhead_s'))}; start-up: "
             f"dask {ms(overhead(rows, 'dask', 'setup_s'))}, process pool "
             f"{ms(overhead(rows, 'processes', 'setup_s'))}")
    details = f"dask speedup over sequential by task time: {speedups}"
    if verdict == INCONCLUSIVE:
        details = undecided(effects, "more rounds of the sizes around the crossover") + \
            "; " + details
    return Verdict(KEY, verdict,
                   f"dask clearly beats sequential (speedup wholly above {WORTH_IT:.3g}x) "
                   f"{at(dask_at)}; process pool {at(found['processes'])}; {costs}",
                   details=details)
