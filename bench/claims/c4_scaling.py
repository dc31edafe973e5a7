"""Claim 4: asyncio handles 10,000+ concurrent tasks easily; threads top out around a
few hundred.  A sweep of concurrency levels on sleep and http, tasks = 2 x C."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from bench.claims.kit import (
    INCONCLUSIVE,
    MISSING,
    Axes,
    Effect,
    Row,
    Table,
    claim_rows,
    colour,
    decide,
    ratio,
    undecided,
)
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec

KEY = "c4_scaling"
HOLD_AT_MAX = 0.8  # "easily": at the top level, >= 80 % of its best throughput
PLATEAU = 0.9  # "tops out": the top level gains less than 1/0.9 over TOP_OUT_LEVEL
TOP_OUT_LEVEL = 1000  # "a few hundred": no real gain past 1,000


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    sweep_levels: tuple[int, ...] = (1, 10, 100, 1000, 10_000)
    sweep_process_levels: tuple[int, ...] = (1, 8, 64)
    sweep_sleep_s: float = 0.1
    sweep_http_delay_ms: int = 50
    sweep_max_tasks: int = 10_000


FULL = Sizes()
QUICK = Sizes(sweep_levels=(1, 10, 100), sweep_process_levels=(1, 4), sweep_sleep_s=0.01,
              sweep_http_delay_ms=5, sweep_max_tasks=200)


def _sweep(s: Sizes) -> Iterator[ScenarioSpec]:
    for workload, knobs in (("sleep", {"seconds": s.sweep_sleep_s}),
                            ("http", {"delay_ms": s.sweep_http_delay_ms})):
        for runner, levels in (("asyncio", s.sweep_levels), ("threads", s.sweep_levels),
                               ("processes", s.sweep_process_levels)):
            for level in levels:
                tasks = min(2 * level, max(s.sweep_max_tasks, level))
                yield spec(KEY, workload, runner, tasks, level, **knobs)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return list(_sweep(s))


def throughput_ratio(what: str, top: Row, base: Row, line: float) -> Effect:
    """Throughput at `top` over throughput at `base` (tasks per median round), with the
    bootstrap interval of the round-time ratio scaled alike."""
    found = ratio(what, base, top, line)
    scale = float(top["tasks"]) / float(base["tasks"])
    return dataclasses.replace(found, value=found.value * scale, low=found.low * scale,
                               high=found.high * scale)


def _best(rows: Table) -> Row:
    return rows.loc[rows["tasks_per_s"].idxmax()]


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


@register_claim(
    KEY,
    "asyncio handles 10,000+ concurrent tasks easily; threads top out around a few "
    "hundred.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """asyncio must complete the top level without failures (a count): else it does not
    hold.  It holds fully if asyncio keeps HOLD_AT_MAX of its best throughput there and
    threads top out by TOP_OUT_LEVEL (their throughput at the top level less than
    1/PLATEAU of that at TOP_OUT_LEVEL, or failures there); one of those failing holds
    with limits; an interval across its line is inconclusive."""
    rows = claim_rows(table, KEY)
    if rows.empty:
        return Verdict(KEY, MISSING, "")
    completes, extras, effects, summary, parts = True, [], [], [], []
    for workload in ("sleep", "http"):
        for runner in ("asyncio", "threads", "processes"):
            mine = rows[(rows["workload"] == workload) & (rows["runner"] == runner)]
            if mine.empty:
                continue
            ordered = mine.sort_values("concurrency")
            top, best = ordered.iloc[-1], _best(ordered)
            failures = float(top["failure_rate"])
            level = int(top["concurrency"])
            parts.append(f"{workload}/{runner}: best {float(best['tasks_per_s']):,.0f} tasks/s "
                         f"at C={int(best['concurrency'])}; at C={level} "
                         f"{float(top['tasks_per_s']):,.0f} tasks/s, {failures:.1%} failed, "
                         f"PSS {float(top['pss_mb']):,.0f} MB")
            if runner == "asyncio":
                completes &= failures == 0
                pace = throughput_ratio(f"{workload} asyncio throughput at C={level} / at its "
                                        "best", top, best, HOLD_AT_MAX)
                extras.append(pace.above)
                effects.append(pace)
                summary.append(f"asyncio ({workload}) at C={level}: {failures:.1%} failed, "
                               f"{pace.text()}")
            elif runner == "threads":
                at_limit = ordered[ordered["concurrency"] == TOP_OUT_LEVEL]
                if failures > 0:
                    extras.append(True)
                    summary.append(f"threads ({workload}) fail {failures:.1%} at C={level}")
                elif at_limit.empty or level <= TOP_OUT_LEVEL:
                    extras.append(None)
                    summary.append(f"threads ({workload}) not measured past C={TOP_OUT_LEVEL}")
                else:
                    gain = throughput_ratio(f"{workload} threads throughput at C={level} / at "
                                            f"C={TOP_OUT_LEVEL}", top, at_limit.iloc[0],
                                            1 / PLATEAU)
                    extras.append(gain.below)
                    effects.append(gain)
                    summary.append(gain.text())
    evidence = "; ".join(summary) + (f" ('easily' = no failures and at least "
                                     f"{HOLD_AT_MAX:.0%} of its best throughput at the top; "
                                     f"threads 'top out' = under {1 / PLATEAU:.3g}x the "
                                     f"throughput of C={TOP_OUT_LEVEL:,} at the top, or failing)")
    details = "; ".join(parts)
    verdict = decide(completes, extras)
    if verdict == INCONCLUSIVE:
        details = undecided(effects, "more rounds of the sweep's top levels on a quieter "
                            "machine") + "; " + details
    return Verdict(KEY, verdict, evidence, details)
