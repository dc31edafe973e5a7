"""Claim 6: threads do help with C-extension work that releases the GIL (SHA-256)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Table,
    claim_rows,
    fmt,
    undecided,
)
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.claims.speedup import CORE_SCALING, speedup_check, speedup_panel, usable
from bench.scenario import ScenarioSpec

KEY = "c6_gil_release"
HELPS = 1.10  # "help": the threads' speedup wholly above 1.10x


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    hash_size: int = 16 * 1024 * 1024
    hash_tasks: int = 32


FULL = Sizes()
QUICK = Sizes(hash_size=256 * 1024, hash_tasks=4)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "hash", runner, s.hash_tasks, 2, size=s.hash_size)
            for runner in ("sequential", "asyncio", "threads", "processes")]


@register_claim(
    KEY, "Threads do help with C-extension work that releases the GIL.",
    speedup_panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """The threads' speedup over sequential: wholly above CORE_SCALING x min(C, cores)
    holds (they help fully); wholly above HELPS but below that line holds with limits;
    wholly below HELPS does not hold; across either line, inconclusive."""
    rows = claim_rows(table, KEY)
    line = CORE_SCALING * usable(rows, "threads")
    full = speedup_check(rows, "threads", line)
    helps = speedup_check(rows, "threads", HELPS)
    if full is None or helps is None:
        return Verdict(KEY, MISSING, "")
    others = [found for runner in ("processes", "asyncio")
              if (found := speedup_check(rows, runner, 1.0)) is not None]
    evidence = (f"SHA-256 over large buffers: {full.text()} ('helps fully' = {CORE_SCALING:.0%} "
                f"of {usable(rows, 'threads'):.0f} workers; 'helps' = above {fmt(HELPS)})")
    details = ", ".join(f"{found.what} {fmt(found.value)}" for found in others)
    if full.above is True:
        return Verdict(KEY, HOLDS, evidence, details)
    if helps.above is False:
        return Verdict(KEY, FAILS, evidence + "; threads did not help", details)
    if helps.above is True and full.above is False:
        return Verdict(KEY, LIMITS, evidence, details)
    return Verdict(KEY, INCONCLUSIVE, evidence,
                   undecided([full, helps], "more rounds on a quieter machine") + "; " + details)
