"""Claim 8: a blocking call inside a coroutine stalls the whole event loop."""

from __future__ import annotations

import math

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    bars,
    claim_rows,
    colour,
    faster,
    iqr_errors,
    missing,
    ms,
    one,
    p_text,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c8_blocking"
STALLED_FRACTION = 0.5  # a stalled loop's p99 lag is >= half of one blocking call
BLOCKING_COLOUR = "#d62728"


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for blocking in (False, True):
        specs.append(spec(KEY, "sleep", "asyncio", s.pitfall_tasks, 16, s.rounds,
                          seconds=s.pitfall_ms / 1000, blocking=blocking))
        specs.append(spec(KEY, "http", "asyncio", s.pitfall_tasks, 16, s.rounds,
                          delay_ms=s.pitfall_ms, blocking=blocking))
    return specs


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    parts, stalls = [], []
    for workload in ("sleep", "http"):
        mine = rows[rows["workload"] == workload]
        good, bad = one(mine, blocking=False), one(mine, blocking=True)
        if good is None or bad is None:
            return Verdict(CLAIM, MISSING, "")
        per_call = float(bad["ideal_s"]) / math.ceil(bad["tasks"] / bad["concurrency"])
        p = faster(good["rounds_data"], bad["rounds_data"])
        lag = bad["loop_lag_p99_s"]
        lag_text = "never ran (the loop was never free)" if missing(lag) else ms(float(lag))
        stalled = significant(p) and (missing(lag) or float(lag) >= STALLED_FRACTION * per_call)
        stalls.append(stalled)
        parts.append(f"{workload}: blocking {ms(bad['median_s'])} vs awaiting "
                     f"{ms(good['median_s'])} ({p_text(p, 'awaiting faster')}), heartbeat p99 "
                     f"lag {lag_text} vs {ms(float(good['loop_lag_p99_s']))}")
        details = f"{bad['tasks']} calls at C={bad['concurrency']} for each workload"
    verdict = HOLDS if all(stalls) else LIMITS if any(stalls) else FAILS
    return Verdict(CLAIM, verdict, "; ".join(parts) + f" (stalled = lag of at least "
                   f"{STALLED_FRACTION:.0%} of one blocking call)", details)


def panel(ax: Axes, rows: Table) -> None:
    labels = [f"{w}\n{'blocking' if b else 'awaiting'}"
              for w, b in zip(rows["workload"], rows["blocking"], strict=True)]
    bars(ax, labels, list(rows["median_s"] * 1000),
         [BLOCKING_COLOUR if b else colour("asyncio") for b in rows["blocking"]],
         iqr_errors(rows, 1000))
    ax.set_ylabel("wall time per round (ms)")


CLAIM = Claim(KEY, "A blocking call inside a coroutine stalls the whole event loop.", check,
              panel, scenarios)
