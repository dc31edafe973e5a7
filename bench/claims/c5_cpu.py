"""Claim 5: CPU-bound work: asyncio gives no speed-up, threads are held back by the GIL,
processes scale with cores."""

from __future__ import annotations

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Claim,
    Table,
    Verdict,
    claim_rows,
    one,
    p_text,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.claims.speedup import CORE_SCALING, speedup_check, speedup_panel
from bench.scenario import ScenarioSpec

KEY = "c5_cpu"
NO_GAIN = 1.10  # asyncio/threads "gain nothing": speedup below 1.1


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "cpu", runner, s.cpu_tasks, 2, s.rounds, n=s.cpu_n)
            for runner in ("sequential", "asyncio", "threads", "processes")]


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    if one(rows, runner="sequential") is None:
        return Verdict(CLAIM, MISSING, "")
    results, parts = {}, []
    for runner in ("asyncio", "threads", "processes"):
        speedup, p, usable = speedup_check(rows, runner)
        tested = p_text(p, f"{runner} faster than sequential")
        if runner == "processes":
            line = CORE_SCALING * usable
            results[runner] = significant(p) and speedup >= line
            side = "at or above" if speedup >= line else "under"
            parts.append(f"{runner} {speedup:.2f}x ({tested}), {side} the {line:.2f}x "
                         f"'scales with cores' line ({CORE_SCALING:.0%} of {usable:.0f} workers)")
        else:
            results[runner] = not significant(p) or speedup < NO_GAIN
            side = "under" if speedup < NO_GAIN else "at or above"
            parts.append(f"{runner} {speedup:.2f}x ({tested}), {side} the {NO_GAIN:.2f}x "
                         "'no gain' line")
    evidence = "; ".join(parts)
    held = sum(results.values())
    verdict = HOLDS if held == 3 else LIMITS if held == 2 else FAILS
    if held < 3:
        evidence += "; not as claimed: " + ", ".join(r for r, ok in results.items() if not ok)
    return Verdict(CLAIM, verdict, evidence)


CLAIM = Claim(KEY, "CPU-bound work: asyncio gives no speed-up, threads are held back by the "
              "GIL, processes scale with cores.", check, speedup_panel, scenarios)
