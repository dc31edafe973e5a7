"""Claim 1: gathering three 1 s waits takes about 1 s, not 3 s."""

from __future__ import annotations

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    against,
    claim_rows,
    colour,
    ms,
    one,
    undecided,
)
from bench.claims.panels import bars, iqr_errors
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c1_gather_waits"
ABOUT_ONE_WAIT = 1.10  # "about 1 s": the round within 1.10 waits
NOT_OVERLAPPED = 2.0  # two waits or more: closer to the sequential 3 s than to 1 s


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "sleep", runner, 3, 3, seconds=s.wait_s)
            for runner in ("sequential", "asyncio", "threads")]


def check(table: Table) -> Verdict:
    """The asyncio round in waits, with its interval: wholly under ABOUT_ONE_WAIT holds;
    wholly between the two lines holds with limits; wholly above NOT_OVERLAPPED does not
    hold; an interval across either line, or an unfit row, is inconclusive."""
    rows = claim_rows(table, KEY)
    seq, aio, thr = (one(rows, runner=r) for r in ("sequential", "asyncio", "threads"))
    if seq is None or aio is None:
        return Verdict(CLAIM, MISSING, "")
    wait = float(seq["ideal_s"]) / 3
    about = against("asyncio round in waits", aio, wait, ABOUT_ONE_WAIT)
    overlapped = against("asyncio round in waits", aio, wait, NOT_OVERLAPPED)
    evidence = (f"{about.text()} ('about one wait'); the {NOT_OVERLAPPED:.3g}x line = not "
                f"overlapped; sequential {ms(float(seq['median_s']))}")
    details = "" if thr is None else f"threads took {ms(float(thr['median_s']))} for the same waits"
    if about.above is False:
        return Verdict(CLAIM, HOLDS, evidence, details)
    if overlapped.above is True:
        return Verdict(CLAIM, FAILS, evidence, details)
    if about.above is True and overlapped.above is False:
        return Verdict(CLAIM, LIMITS, evidence + "; the waits overlap, but not to one wait",
                       details)
    open_reason = undecided([about, overlapped], "more rounds on a quieter machine")
    return Verdict(CLAIM, INCONCLUSIVE, evidence,
                   open_reason + (f"; {details}" if details else ""))


def panel(ax: Axes, rows: Table) -> None:
    bars(ax, list(rows["runner"]), list(rows["median_s"]), [colour(r) for r in rows["runner"]],
         iqr_errors(rows))
    wait = float(rows["ideal_s"].min())
    ax.axhline(wait, color="black", linestyle="--", linewidth=1, label="one wait")
    ax.set_ylabel("wall time for three waits (s)")


CLAIM = Claim(KEY, "Gathering three 1 s waits takes about 1 s, not 3 s.", check, panel,
              scenarios)
