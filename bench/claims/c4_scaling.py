"""Claim 4: asyncio handles 10,000+ concurrent tasks easily; threads top out around a
few hundred.  A sweep of concurrency levels on sleep and http, tasks = 2 x C."""

from __future__ import annotations

from collections.abc import Iterator

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    claim_rows,
    colour,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c4_scaling"
HOLD_AT_MAX = 0.8  # "easily": at the top level, >= 80 % of its best throughput
PLATEAU = 0.9  # throughput "tops out" where it first reaches 90 % of its best
TOP_OUT_LIMIT = 1000  # "hundreds" means topping out at or below 1,000


def _sweep(s: Sizes) -> Iterator[ScenarioSpec]:
    for workload, knobs in (("sleep", {"seconds": s.sweep_sleep_s}),
                            ("http", {"delay_ms": s.sweep_http_delay_ms})):
        for runner, levels in (("asyncio", s.sweep_levels), ("threads", s.sweep_levels),
                               ("processes", s.sweep_process_levels)):
            for level in levels:
                tasks = min(2 * level, max(s.sweep_max_tasks, level))
                yield spec(KEY, workload, runner, tasks, level, s.sweep_rounds, **knobs)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return list(_sweep(s))


def _top_out(rows: Table) -> tuple[int, float, float, float]:
    """(level where throughput first reaches PLATEAU of its best, best tasks/s,
    tasks/s at the top level as a share of the best, failure rate at the top level)."""
    ordered = rows.sort_values("concurrency")
    best = float(ordered["tasks_per_s"].max())
    plateau = ordered[ordered["tasks_per_s"] >= PLATEAU * best]["concurrency"].iloc[0]
    top = ordered.iloc[-1]
    return int(plateau), best, float(top["tasks_per_s"]) / best, float(top["failure_rate"])


def check(table: Table) -> Verdict:
    """asyncio must complete the top level (10,000) without failures: else FAILS.  It holds
    fully only if asyncio also keeps HOLD_AT_MAX of its best throughput there and threads
    top out (plateau) at or below TOP_OUT_LIMIT; otherwise it holds with limits."""
    rows = claim_rows(table, KEY)
    if rows.empty:
        return Verdict(CLAIM, MISSING, "")
    completes, keeps_pace, threads_top_out = True, True, True
    summary, parts = [], []
    for workload in ("sleep", "http"):
        for runner in ("asyncio", "threads", "processes"):
            mine = rows[(rows["workload"] == workload) & (rows["runner"] == runner)]
            if mine.empty:
                continue
            plateau, best, at_top, failures = _top_out(mine)
            top = mine.sort_values("concurrency").iloc[-1]
            parts.append(f"{workload}/{runner}: best {best:,.0f} tasks/s, tops out at "
                         f"C={plateau}; at C={int(top['concurrency'])} {at_top:.0%} of best, "
                         f"{failures:.1%} failed, PSS {float(top['pss_mb']):,.0f} MB")
            if runner == "asyncio":
                completes &= failures == 0
                keeps_pace &= at_top >= HOLD_AT_MAX
                summary.append(f"asyncio at C={int(top['concurrency'])} ({workload}): "
                               f"{failures:.1%} failed, {at_top:.0%} of its best throughput")
            elif runner == "threads":
                reached = int(mine["concurrency"].max())
                threads_top_out &= plateau <= TOP_OUT_LIMIT < reached or failures > 0
                summary.append(f"threads ({workload}) top out at C={plateau} and complete "
                               f"C={reached} with {failures:.1%} failed")
    evidence = "; ".join(summary) + (f" ('easily' = no failures and >= {HOLD_AT_MAX:.0%} of "
                                     f"its best throughput at the top; 'top out' = first "
                                     f"reaching {PLATEAU:.0%} of the best, at C <= "
                                     f"{TOP_OUT_LIMIT:,})")
    details = "; ".join(parts)
    if not completes:
        return Verdict(CLAIM, FAILS, evidence, details)
    return Verdict(CLAIM, HOLDS if keeps_pace and threads_top_out else LIMITS, evidence,
                   details)


def panel(ax: Axes, rows: Table) -> None:
    for (workload, runner), mine in rows.groupby(["workload", "runner"]):
        mine = mine.sort_values("concurrency")
        ax.plot(mine["concurrency"], mine["tasks_per_s"], marker="o", markersize=3,
                color=colour(str(runner)), linestyle="-" if workload == "http" else "--",
                label=f"{workload}/{runner}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrency (log scale)")
    ax.set_ylabel("throughput (tasks/s, log scale)")


CLAIM = Claim(KEY, "asyncio handles 10,000+ concurrent tasks easily; threads top out around "
              "a few hundred.", check, panel, scenarios)
