"""Claim 6: threads do help with C-extension work that releases the GIL (SHA-256)."""

from __future__ import annotations

import math

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Claim,
    Table,
    Verdict,
    claim_rows,
    p_text,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.claims.speedup import CORE_SCALING, speedup_check, speedup_panel
from bench.scenario import ScenarioSpec

KEY = "c6_gil_release"


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "hash", runner, s.hash_tasks, 2, s.rounds, size=s.hash_size)
            for runner in ("sequential", "asyncio", "threads", "processes")]


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    speedup, p, usable = speedup_check(rows, "threads")
    if math.isnan(speedup):
        return Verdict(CLAIM, MISSING, "")
    proc_speedup, _, _ = speedup_check(rows, "processes")
    aio_speedup, _, _ = speedup_check(rows, "asyncio")
    line = CORE_SCALING * usable
    evidence = (f"SHA-256 over large buffers: threads {speedup:.2f}x sequential "
                f"({p_text(p, 'threads faster than sequential')}); helping fully = at least "
                f"{line:.2f}x ({CORE_SCALING:.0%} of {usable:.0f} workers)")
    details = f"processes {proc_speedup:.2f}x, asyncio {aio_speedup:.2f}x sequential"
    if not significant(p):
        return Verdict(CLAIM, FAILS, evidence + "; threads were not faster", details)
    return Verdict(CLAIM, HOLDS if speedup >= line else LIMITS, evidence, details)


CLAIM = Claim(KEY, "Threads do help with C-extension work that releases the GIL.", check,
              speedup_panel, scenarios)
