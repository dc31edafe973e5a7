"""Claim 3: coroutines are much cheaper than OS threads, in memory and start-up per
in-flight task.  Measured by the in-flight probe (bench/experiments.py), which the
claims suite runs once per model."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Axes,
    Effect,
    Row,
    Table,
    claim_rows,
    colour,
    one,
    ratio,
    runner_order,
    sample_ratio,
    undecided,
    unfit,
)
from bench.claims.panels import points
from bench.claims.registry import (
    Verdict,
    register_claim,
)
from bench.stats import median

KEY = "c3_inflight_cost"
CHEAPER_FACTOR = 2.0  # "much cheaper": threads cost at least twice what asyncio does


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    inflight: tuple[tuple[str, int], ...] = (("asyncio", 2000), ("threads", 2000),
                                             ("processes", 32))


FULL = Sizes()
QUICK = Sizes(inflight=(("asyncio", 50), ("threads", 50), ("processes", 2)))



def _per_task_s(row: Row) -> float:
    return float(row["median_s"]) / float(row["tasks"])


def _memory_samples(row: Row) -> list[float]:
    """PSS per parked task (KiB) from each fresh interpreter; runs from before the samples
    were kept have only their median."""
    samples = row["extra"].get("memory_samples_kb")
    if samples:
        return [float(v) for v in samples]
    single = row["extra"].get("memory_per_task_kb")
    return [] if single is None else [float(single)]


def memory_effect(aio: Row, thr: Row) -> Effect:
    """Threads' memory per task over asyncio's, from each fresh interpreter's sample
    (bench.stats: a range, with the level it reaches, where the samples are few)."""
    a, t = _memory_samples(aio), _memory_samples(thr)
    return sample_ratio("threads / asyncio memory per parked task", t, a, CHEAPER_FACTOR,
                        method=f"{len(a)} and {len(t)} fresh interpreters")


def panel(ax: Axes, rows: Table) -> None:
    rows = rows.sort_values("runner", key=lambda runners: runners.map(runner_order))
    memory = [median(_memory_samples(row)) for _, row in rows.iterrows()]
    points(ax, list(rows["runner"]), memory, [colour(r) for r in rows["runner"]])
    for index, (_, row) in enumerate(rows.iterrows()):
        start = _per_task_s(row)
        mark = " ⚠" if unfit(row) else ""
        ax.annotate(f"start {start * 1e6:,.0f} µs{mark}\n(x{int(row['tasks'])})",
                    (index, memory[index]), xytext=(0, 8), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    known = [m for m in memory if not math.isnan(m)]
    if known:
        ax.set_ylim(top=max(known) * 8)  # room for the labels above the tallest bar
    ax.set_ylabel("memory per parked task (KiB, PSS; log scale)")


@register_claim(
    KEY,
    "Coroutines are much cheaper than OS threads (memory and start-up per in-flight "
    "task).",
    panel, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Start-up per task (threads over asyncio, bootstrap interval over the rounds) and
    memory per parked task (threads over asyncio, the range of the fresh interpreters'
    samples), each against the CHEAPER_FACTOR line: both wholly above hold, one does not
    hold with limits, neither does not hold; an interval across the line is inconclusive."""
    rows = claim_rows(table, KEY)
    aio, thr, proc = (one(rows, runner=r) for r in ("asyncio", "threads", "processes"))
    if aio is None or thr is None:
        return Verdict(KEY, MISSING, "")
    start = ratio("threads / asyncio start-up per task", thr, aio, CHEAPER_FACTOR)
    memory = memory_effect(aio, thr)
    start_ok, memory_ok = start.above, memory.above
    # Each figure is named with its model, in the order of the ratio's label.
    evidence = (f"per task: start-up threads {_per_task_s(thr) * 1e6:.3g} µs, asyncio "
                f"{_per_task_s(aio) * 1e6:.3g} µs, {start.text()}; memory threads "
                f"{median(_memory_samples(thr)):.3g} KiB, asyncio "
                f"{median(_memory_samples(aio)):.3g} KiB, {memory.text()} ('much cheaper' = "
                f"at least {CHEAPER_FACTOR:.3g}x)")
    details = "" if proc is None else (
        f"processes: start-up {_per_task_s(proc) * 1e3:.3g} ms and "
        f"{median(_memory_samples(proc)):,.0f} KiB per task")
    if start_ok is None or memory_ok is None:
        verdict = INCONCLUSIVE
    else:
        verdict = HOLDS if start_ok and memory_ok else LIMITS if start_ok or memory_ok \
            else FAILS
    if verdict == INCONCLUSIVE:
        details = undecided([start, memory], "a rerun whose start-up rows are precise and "
                            "quiet") + (f"; {details}" if details else "")
    return Verdict(KEY, verdict, evidence, details)
