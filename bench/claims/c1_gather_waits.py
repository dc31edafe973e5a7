"""Claim 1: gathering three 1 s waits takes about 1 s, not 3 s."""

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
    bars,
    claim_rows,
    colour,
    faster,
    iqr_errors,
    ms,
    one,
    p_text,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c1_gather_waits"
ABOUT_ONE_WAIT = 1.10  # "about 1 s" means within 10 % of one wait
NOT_OVERLAPPED = 2.0  # two waits or more: closer to the sequential 3 s than to 1 s


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "sleep", runner, 3, 3, s.rounds, seconds=s.wait_s)
            for runner in ("sequential", "asyncio", "threads")]


def check(table: Table) -> Verdict:
    rows = claim_rows(table, KEY)
    seq, aio, thr = (one(rows, runner=r) for r in ("sequential", "asyncio", "threads"))
    if seq is None or aio is None:
        return Verdict(CLAIM, MISSING, "")
    wait = float(seq["ideal_s"]) / 3
    p = faster(aio["rounds_data"], seq["rounds_data"])
    ratio = float(aio["median_s"]) / wait
    evidence = (f"asyncio {ms(aio['median_s'])} for three waits of {ms(wait)} = {ratio:.2f}x "
                f"one wait ('about one wait' = within {ABOUT_ONE_WAIT:.2f}x); sequential "
                f"{ms(seq['median_s'])} ({p_text(p, 'asyncio faster than sequential')})")
    details = "" if thr is None else f"threads took {ms(thr['median_s'])} for the same waits"
    if not significant(p) or ratio >= NOT_OVERLAPPED:
        return Verdict(CLAIM, FAILS, evidence + f"; the waits did not overlap (>= "
                       f"{NOT_OVERLAPPED:.0f} waits or not faster than sequential)", details)
    return Verdict(CLAIM, HOLDS if ratio <= ABOUT_ONE_WAIT else LIMITS, evidence, details)


def panel(ax: Axes, rows: Table) -> None:
    bars(ax, list(rows["runner"]), list(rows["median_s"]), [colour(r) for r in rows["runner"]],
         iqr_errors(rows))
    wait = float(rows["ideal_s"].min())
    ax.axhline(wait, color="black", linestyle="--", linewidth=1, label="one wait")
    ax.set_ylabel("wall time for three waits (s)")


CLAIM = Claim(KEY, "Gathering three 1 s waits takes about 1 s, not 3 s.", check, panel,
              scenarios)
