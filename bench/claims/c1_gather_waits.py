"""Claim 1: gathering three 1 s waits takes about 1 s, not 3 s."""

from __future__ import annotations

from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Axes,
    Table,
    against,
    claim_rows,
    colour,
    ms,
    one,
    undecided,
)
from bench.claims.panels import bars, iqr_errors
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec

KEY = "c1_gather_waits"
ABOUT_ONE_WAIT = 1.10  # "about 1 s": the round within 1.10 waits
NOT_OVERLAPPED = 2.0  # two waits or more: closer to the sequential 3 s than to 1 s


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    wait_s: float = 1.0  # claim 1: three waits of this long


FULL = Sizes()
QUICK = Sizes(wait_s=0.05)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    return [spec(KEY, "sleep", runner, 3, 3, seconds=s.wait_s)
            for runner in ("sequential", "asyncio", "threads")]


def panel(ax: Axes, rows: Table) -> None:
    bars(ax, list(rows["runner"]), list(rows["median_s"]), [colour(r) for r in rows["runner"]],
         iqr_errors(rows))
    wait = float(rows["ideal_s"].min())
    ax.axhline(wait, color="black", linestyle="--", linewidth=1, label="one wait")
    ax.set_ylabel("wall time for three waits (s)")


@register_claim(
    KEY, "Gathering three 1 s waits takes about 1 s, not 3 s.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """The asyncio round in waits, with its interval: wholly under ABOUT_ONE_WAIT holds;
    wholly between the two lines holds with limits; wholly above NOT_OVERLAPPED does not
    hold; an interval across either line, or an unfit row, is inconclusive."""
    rows = claim_rows(table, KEY)
    seq, aio, thr = (one(rows, runner=r) for r in ("sequential", "asyncio", "threads"))
    if seq is None or aio is None:
        return Verdict(KEY, MISSING, "")
    wait = float(seq["ideal_s"]) / 3
    about = against("asyncio round in waits", aio, wait, ABOUT_ONE_WAIT)
    overlapped = against("asyncio round in waits", aio, wait, NOT_OVERLAPPED)
    evidence = (f"{about.text()} ('about one wait'); the {NOT_OVERLAPPED:.3g}x line = not "
                f"overlapped; sequential {ms(float(seq['median_s']))}")
    details = "" if thr is None else f"threads took {ms(float(thr['median_s']))} for the same waits"
    if about.above is False:
        return Verdict(KEY, HOLDS, evidence, details)
    if overlapped.above is True:
        return Verdict(KEY, FAILS, evidence, details)
    if about.above is True and overlapped.above is False:
        return Verdict(KEY, LIMITS, evidence + "; the waits overlap, but not to one wait",
                       details)
    open_reason = undecided([about, overlapped], "more rounds on a quieter machine")
    return Verdict(KEY, INCONCLUSIVE, evidence,
                   open_reason + (f"; {details}" if details else ""))
