"""Claim 7: run_in_executor with a process pool keeps CPU work off the event loop."""

from __future__ import annotations

from dataclasses import dataclass

from bench.claims.kit import (
    INCONCLUSIVE,
    MISSING,
    Axes,
    Table,
    all_of,
    claim_rows,
    colour,
    decide,
    ms,
    one,
    sample_median,
    samples,
    speedup,
    undecided,
)
from bench.claims.panels import points
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec

KEY = "c7_hybrid"
RESPONSIVE_LAG_S = 0.010  # a responsive loop's p99 lag is under 10 ms
QUICKER = 1.10  # "quicker": the hybrid's speedup over asyncio wholly above 1.10x


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    cpu_n: int = 1_000_000
    cpu_tasks: int = 16
    mixed_wait_s: float = 0.05
    mixed_n: int = 300_000
    mixed_tasks: int = 32


FULL = Sizes()
QUICK = Sizes(cpu_n=20_000, cpu_tasks=4, mixed_wait_s=0.005, mixed_n=5_000, mixed_tasks=4)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = [spec(KEY, "cpu", runner, s.cpu_tasks, level, n=s.cpu_n)
             for runner, level in (("asyncio", 8), ("hybrid", 8), ("processes", 2))]
    specs += [spec(KEY, "mixed", runner, s.mixed_tasks, 16, wait_s=s.mixed_wait_s,
                   n=s.mixed_n)
              for runner in ("sequential", "asyncio", "threads", "hybrid", "processes")]
    return specs


def panel(ax: Axes, rows: Table) -> None:
    mine = rows[rows["runner"].isin(["asyncio", "hybrid"])]
    labels = [f"{w}\n{r}" for w, r in zip(mine["workload"], mine["runner"], strict=True)]
    lags = list(mine["loop_lag_p99_s"].fillna(0) * 1000)
    points(ax, labels, lags, [colour(r) for r in mine["runner"]])
    ax.set_yscale("log")
    ax.set_ylabel("event-loop lag p99 (ms, log scale)")


@register_claim(
    KEY, "run_in_executor with a process pool keeps CPU work off the event loop.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """The core: the hybrid loop stays responsive (the median over rounds of each round's
    p99 heartbeat lateness, its interval wholly under RESPONSIVE_LAG_S, from a row fit to
    decide) on cpu and on mixed work; the addition:
    the hybrid round is quicker than plain asyncio's (speedup wholly above QUICKER).  Not
    responsive does not hold; responsive but not quicker holds with limits; anything
    undecided is inconclusive."""
    rows = claim_rows(table, KEY)
    parts, responsive, quicker, effects = [], [], [], []
    for workload in ("cpu", "mixed"):
        mine = rows[rows["workload"] == workload]
        aio, hyb = one(mine, runner="asyncio"), one(mine, runner="hybrid")
        if aio is None or hyb is None:
            return Verdict(KEY, MISSING, "")
        gain = speedup(hyb, aio, QUICKER, f"{workload}: hybrid speedup over asyncio")
        effects.append(gain)
        quicker.append(gain.above)
        lag = sample_median(f"{workload}: hybrid loop lag (p99 of each round, median)",
                            samples(hyb, "lag_rounds"), RESPONSIVE_LAG_S, "s", hyb)
        effects.append(lag)
        responsive.append(lag.below)
        parts.append(f"{gain.text()}; {lag.text()} (asyncio's p99: "
                     f"{ms(float(aio['loop_lag_p99_s']))})")
    verdict = decide(all_of(responsive), quicker)
    details = undecided(effects, "more rounds on a quieter machine") \
        if verdict == INCONCLUSIVE else ""
    return Verdict(KEY, verdict, "; ".join(parts) + f" (responsive = each round's p99 "
                   f"heartbeat lag under {ms(RESPONSIVE_LAG_S)}, their median's interval "
                   f"wholly below it; 'quicker' = above {QUICKER:.3g}x)", details)
