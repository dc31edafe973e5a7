"""Claim 7: run_in_executor with a process pool keeps CPU work off the event loop."""

from __future__ import annotations

from bench.claims.kit import (
    INCONCLUSIVE,
    MISSING,
    Axes,
    Claim,
    Effect,
    Table,
    Verdict,
    all_of,
    claim_rows,
    colour,
    decide,
    missing,
    ms,
    one,
    points,
    speedup,
    undecided,
    unfit,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c7_hybrid"
RESPONSIVE_LAG_S = 0.010  # a responsive loop's p99 lag is under 10 ms
QUICKER = 1.10  # "quicker": the hybrid's speedup over asyncio wholly above 1.10x


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = [spec(KEY, "cpu", runner, s.cpu_tasks, level, n=s.cpu_n)
             for runner, level in (("asyncio", 8), ("hybrid", 8), ("processes", 2))]
    specs += [spec(KEY, "mixed", runner, s.mixed_tasks, 16, wait_s=s.mixed_wait_s,
                   n=s.mixed_n)
              for runner in ("sequential", "asyncio", "threads", "hybrid", "processes")]
    return specs


def check(table: Table) -> Verdict:
    """The core: the hybrid loop stays responsive (its heartbeat's p99 lateness under
    RESPONSIVE_LAG_S, read from a row fit to decide) on cpu and on mixed work; the addition:
    the hybrid round is quicker than plain asyncio's (speedup wholly above QUICKER).  Not
    responsive does not hold; responsive but not quicker holds with limits; anything
    undecided is inconclusive."""
    rows = claim_rows(table, KEY)
    parts, responsive, quicker, effects = [], [], [], []
    for workload in ("cpu", "mixed"):
        mine = rows[rows["workload"] == workload]
        aio, hyb = one(mine, runner="asyncio"), one(mine, runner="hybrid")
        if aio is None or hyb is None:
            return Verdict(CLAIM, MISSING, "")
        gain = speedup(hyb, aio, QUICKER, f"{workload}: hybrid speedup over asyncio")
        effects.append(gain)
        quicker.append(gain.above)
        lag = float(hyb["loop_lag_p99_s"])
        reason = unfit(hyb)
        responsive.append(None if reason or missing(lag) else lag < RESPONSIVE_LAG_S)
        if reason:
            effects.append(Effect(f"{workload}: hybrid loop lag", lag, lag, lag,
                                  RESPONSIVE_LAG_S, "s", (reason,)))
        parts.append(f"{gain.text()}; loop lag p99 {ms(lag)} vs asyncio "
                     f"{ms(float(aio['loop_lag_p99_s']))}")
    verdict = decide(all_of(responsive), quicker)
    details = undecided(effects, "more rounds on a quieter machine") \
        if verdict == INCONCLUSIVE else ""
    return Verdict(CLAIM, verdict, "; ".join(parts) + f" (responsive = a p99 heartbeat lag "
                   f"under {ms(RESPONSIVE_LAG_S)}, one percentile over every heartbeat of "
                   f"the counted rounds; 'quicker' = above {QUICKER:.3g}x)", details)


def panel(ax: Axes, rows: Table) -> None:
    mine = rows[rows["runner"].isin(["asyncio", "hybrid"])]
    labels = [f"{w}\n{r}" for w, r in zip(mine["workload"], mine["runner"], strict=True)]
    lags = list(mine["loop_lag_p99_s"].fillna(0) * 1000)
    points(ax, labels, lags, [colour(r) for r in mine["runner"]])
    ax.set_yscale("log")
    ax.set_ylabel("event-loop lag p99 (ms, log scale)")


CLAIM = Claim(KEY, "run_in_executor with a process pool keeps CPU work off the event loop.",
              check, panel, scenarios)
