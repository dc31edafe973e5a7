"""Claim 5: CPU-bound work: asyncio gives no speed-up, threads are held back by the GIL,
processes scale with cores."""

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
    one,
    undecided,
)
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.claims.speedup import CORE_SCALING, speedup_check, speedup_panel, usable
from bench.scenario import ScenarioSpec

KEY = "c5_cpu"
NO_GAIN = 1.10  # asyncio/threads "gain nothing": speedup wholly below 1.10x


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    cpu_n: int = 1_000_000
    cpu_tasks: int = 16


FULL = Sizes()
QUICK = Sizes(cpu_n=20_000, cpu_tasks=4)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "cpu", runner, s.cpu_tasks, 2, n=s.cpu_n)
            for runner in ("sequential", "asyncio", "threads", "processes")]


@register_claim(
    KEY,
    "CPU-bound work: asyncio gives no speed-up, threads are held back by the GIL, "
    "processes scale with cores.",
    speedup_panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """asyncio's and threads' speedups wholly below NO_GAIN, and the processes' wholly
    above CORE_SCALING x min(C, cores): all three on their side hold; two hold with
    limits; fewer does not hold; an interval across its line leaves the verdict
    inconclusive unless the others already decide it."""
    rows = claim_rows(table, KEY)
    if one(rows, runner="sequential") is None:
        return Verdict(KEY, MISSING, "")
    outcomes, effects, parts = {}, [], []
    for runner in ("asyncio", "threads", "processes"):
        scaling = runner == "processes"
        line = CORE_SCALING * usable(rows, runner) if scaling else NO_GAIN
        effect = speedup_check(rows, runner, line)
        if effect is None:
            return Verdict(KEY, MISSING, f"{runner} was not measured")
        effects.append(effect)
        outcomes[runner] = effect.above if scaling else effect.below
        parts.append(effect.text() + (f" ('scales with cores' = {CORE_SCALING:.0%} of "
                                      f"{usable(rows, runner):.0f} workers)" if scaling
                                      else " ('no gain')"))
    found = list(outcomes.values())
    wrong_count, open_count = found.count(False), found.count(None)
    verdict = FAILS if wrong_count >= 2 else INCONCLUSIVE if open_count else \
        HOLDS if wrong_count == 0 else LIMITS
    evidence = "; ".join(parts)
    wrong = [runner for runner, ok in outcomes.items() if ok is False]
    if wrong:
        evidence += "; not as claimed: " + ", ".join(wrong)
    details = undecided(effects, "more rounds on a quieter machine") \
        if verdict == INCONCLUSIVE else ""
    return Verdict(KEY, verdict, evidence, details)
