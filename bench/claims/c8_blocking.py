"""Claim 8: a blocking call inside a coroutine stalls the whole event loop."""

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
    Table,
    all_of,
    claim_rows,
    colour,
    missing,
    ms,
    one,
    ratio,
    sample_median,
    samples,
    undecided,
)
from bench.claims.panels import bars, iqr_errors
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec

KEY = "c8_blocking"
STALLED_FRACTION = 0.5  # a stalled loop's p99 lag is >= half of one blocking call
SLOWER = 2.0  # ... and its round takes wholly more than twice the awaiting round
BLOCKING_COLOUR = "#d62728"


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    pitfall_ms: int = 20
    pitfall_tasks: int = 32


FULL = Sizes()
QUICK = Sizes(pitfall_ms=5, pitfall_tasks=4)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for blocking in (False, True):
        specs.append(spec(KEY, "sleep", "asyncio", s.pitfall_tasks, 16,
                          seconds=s.pitfall_ms / 1000, blocking=blocking))
        specs.append(spec(KEY, "http", "asyncio", s.pitfall_tasks, 16,
                          delay_ms=s.pitfall_ms, blocking=blocking))
    return specs


def panel(ax: Axes, rows: Table) -> None:
    labels = [f"{w}\n{'blocking' if b else 'awaiting'}"
              for w, b in zip(rows["workload"], rows["blocking"], strict=True)]
    bars(ax, labels, list(rows["median_s"] * 1000),
         [BLOCKING_COLOUR if b else colour("asyncio") for b in rows["blocking"]],
         iqr_errors(rows, 1000))
    ax.set_ylabel("wall time per round (ms)")


@register_claim(
    KEY, "A blocking call inside a coroutine stalls the whole event loop.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Per workload, the loop stalled if the blocking round takes wholly more than SLOWER
    times the awaiting one and the heartbeat's p99 lateness (from a row fit to decide) is
    at least STALLED_FRACTION of one blocking call, or the heartbeat never ran.  Stalled
    on both holds; on one holds with limits; on neither does not hold; else inconclusive."""
    rows = claim_rows(table, KEY)
    parts, stalls, effects = [], [], []
    details = ""
    for workload in ("sleep", "http"):
        mine = rows[rows["workload"] == workload]
        good, bad = one(mine, blocking=False), one(mine, blocking=True)
        if good is None or bad is None:
            return Verdict(KEY, MISSING, "")
        per_call = float(bad["ideal_s"]) / math.ceil(bad["tasks"] / bad["concurrency"])
        slower = ratio(f"{workload}: blocking / awaiting round", bad, good, SLOWER)
        effects.append(slower)
        lag = bad["loop_lag_p99_s"]
        never_ran = missing(lag) and not samples(bad, "lag_rounds")
        lag_text = "never ran (the loop was never free)" if never_ran else ms(float(lag))
        half = STALLED_FRACTION * per_call
        lag_effect = sample_median(f"{workload}: blocking loop lag (p99 of each round, "
                                   "median)", samples(bad, "lag_rounds"), half, "s", bad)
        if not never_ran:
            effects.append(lag_effect)
        lagged = True if never_ran else lag_effect.above
        stalls.append(all_of([slower.above, lagged]))
        parts.append(f"{slower.text()}; " + (f"heartbeat {lag_text}" if never_ran else
                                             lag_effect.text()) +
                     f" (awaiting: p99 {ms(float(good['loop_lag_p99_s']))})")
        details = f"{bad['tasks']} calls at C={bad['concurrency']} for each workload"
    if all(stall is True for stall in stalls):
        verdict = HOLDS
    elif True in stalls and False in stalls:
        verdict = LIMITS
    elif all(stall is False for stall in stalls):
        verdict = FAILS
    else:
        verdict = INCONCLUSIVE
        details = undecided(effects, "more rounds on a quieter machine") + "; " + details
    return Verdict(KEY, verdict, "; ".join(parts) + f" (stalled = a round over "
                   f"{SLOWER:.3g}x and a lag of at least {STALLED_FRACTION:.0%} of one "
                   "blocking call)", details)
