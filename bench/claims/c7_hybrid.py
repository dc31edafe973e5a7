"""Claim 7: run_in_executor with a process pool keeps CPU work off the event loop."""

from __future__ import annotations

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
    faster,
    ms,
    one,
    p_text,
    points,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c7_hybrid"
RESPONSIVE_LAG_S = 0.010  # a responsive loop's p99 lag is under 10 ms


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = [spec(KEY, "cpu", runner, s.cpu_tasks, level, s.rounds, n=s.cpu_n)
             for runner, level in (("asyncio", 8), ("hybrid", 8), ("processes", 2))]
    specs += [spec(KEY, "mixed", runner, s.mixed_tasks, 16, s.rounds, wait_s=s.mixed_wait_s,
                   n=s.mixed_n)
              for runner in ("sequential", "asyncio", "threads", "hybrid", "processes")]
    return specs


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    parts, responsive, quicker = [], True, True
    for workload in ("cpu", "mixed"):
        mine = rows[rows["workload"] == workload]
        aio, hyb = one(mine, runner="asyncio"), one(mine, runner="hybrid")
        if aio is None or hyb is None:
            return Verdict(CLAIM, MISSING, "")
        p = faster(hyb["rounds_data"], aio["rounds_data"])
        parts.append(f"{workload}: hybrid {ms(hyb['median_s'])} vs asyncio "
                     f"{ms(aio['median_s'])} ({p_text(p, 'hybrid faster')}), loop lag p99 "
                     f"{ms(hyb['loop_lag_p99_s'])} vs {ms(aio['loop_lag_p99_s'])}")
        responsive &= float(hyb["loop_lag_p99_s"]) < RESPONSIVE_LAG_S
        quicker &= significant(p)
    verdict = HOLDS if responsive and quicker else LIMITS if responsive or quicker else FAILS
    return Verdict(CLAIM, verdict, "; ".join(parts) + f" (a free loop's p99 lag is under "
                   f"{ms(RESPONSIVE_LAG_S)})")


def panel(ax: Axes, rows: Table) -> None:
    mine = rows[rows["runner"].isin(["asyncio", "hybrid"])]
    labels = [f"{w}\n{r}" for w, r in zip(mine["workload"], mine["runner"], strict=True)]
    lags = list(mine["loop_lag_p99_s"].fillna(0) * 1000)
    points(ax, labels, lags, [colour(r) for r in mine["runner"]])
    ax.set_yscale("log")
    ax.set_ylabel("event-loop lag p99 (ms, log scale)")


CLAIM = Claim(KEY, "run_in_executor with a process pool keeps CPU work off the event loop.",
              check, panel, scenarios)
