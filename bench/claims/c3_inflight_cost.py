"""Claim 3: coroutines are much cheaper than OS threads, in memory and start-up per
in-flight task.  Measured by the in-flight probe (bench/experiments.py), which the
claims suite runs once per model."""

from __future__ import annotations

import math

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Row,
    Table,
    Verdict,
    claim_rows,
    colour,
    faster,
    one,
    p_text,
    points,
    runner_order,
    significant,
)

KEY = "c3_inflight_cost"
CHEAPER_FACTOR = 2.0  # "much cheaper" means at most half the cost


def _per_task(row: Row) -> tuple[float, list[float]]:
    count = float(row["tasks"])
    return float(row["median_s"]) / count, [v / count for v in row["rounds_data"]]


def _memory_kb(row: Row) -> float:
    return float(row["extra"].get("memory_per_task_kb", math.nan))


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    aio, thr, proc = (one(rows, runner=r) for r in ("asyncio", "threads", "processes"))
    if aio is None or thr is None:
        return Verdict(CLAIM, MISSING, "")
    (aio_start, aio_rounds), (thr_start, thr_rounds) = _per_task(aio), _per_task(thr)
    aio_kb, thr_kb = _memory_kb(aio), _memory_kb(thr)
    p = faster(aio_rounds, thr_rounds)
    start_ok = significant(p) and aio_start * CHEAPER_FACTOR <= thr_start
    memory_ok = aio_kb * CHEAPER_FACTOR <= thr_kb
    evidence = (f"per task, asyncio vs threads: start-up {aio_start * 1e6:.1f} vs "
                f"{thr_start * 1e6:.1f} µs ({p_text(p, 'asyncio faster')}), memory "
                f"{aio_kb:.1f} vs {thr_kb:.1f} KiB; 'much cheaper' = at most 1/"
                f"{CHEAPER_FACTOR:.0f} of the threads' cost")
    details = "" if proc is None else (f"processes: start-up {_per_task(proc)[0] * 1e3:.1f} "
                                       f"ms and {_memory_kb(proc):,.0f} KiB per task")
    verdict = HOLDS if start_ok and memory_ok else LIMITS if start_ok or memory_ok else FAILS
    return Verdict(CLAIM, verdict, evidence, details)


def panel(ax: Axes, rows: Table) -> None:
    rows = rows.sort_values("runner", key=lambda runners: runners.map(runner_order))
    memory = [_memory_kb(row) for _, row in rows.iterrows()]
    points(ax, list(rows["runner"]), memory, [colour(r) for r in rows["runner"]])
    for index, (_, row) in enumerate(rows.iterrows()):
        start = float(row["median_s"]) / float(row["tasks"])
        ax.annotate(f"start {start * 1e6:,.0f} µs\n(x{int(row['tasks'])})",
                    (index, memory[index]), xytext=(0, 8), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    known = [m for m in memory if not math.isnan(m)]
    if known:
        ax.set_ylim(top=max(known) * 8)  # room for the labels above the tallest bar
    ax.set_ylabel("memory per parked task (KiB, PSS; log scale)")


CLAIM = Claim(KEY, "Coroutines are much cheaper than OS threads (memory and start-up per "
              "in-flight task).", check, panel)
