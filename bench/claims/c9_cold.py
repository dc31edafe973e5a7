"""Claim 9: for a handful of calls in a one-off script, async is not worth it.

Cold scenarios build and tear down the loop, session or pool inside every round, as a
script that runs once would; each has a warm twin that shows what the set-up costs.
"""

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
    claim_rows,
    colour,
    faster,
    ms,
    one,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.runners import START_METHODS
from bench.scenario import ScenarioSpec

KEY = "c9_cold"
HANDFUL = 5  # "a handful of calls" is fewer than 5
WORTH_IT = 1.10  # "beats sequential" means significantly and >= 10 % faster
NOTICEABLE_S = 0.1  # time a person running a one-off script would notice saving
LINE_STYLES = {"": "-", "fork": "-", "forkserver": "--", "spawn": ":"}


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for calls in s.cold_calls:
        for runner, method in (("sequential", None), ("asyncio", None), ("threads", None),
                               *(("processes", m) for m in START_METHODS)):
            for cold in (True, False):  # the warm twin shows what the set-up costs
                specs.append(spec(KEY, "http", runner, calls, calls, s.rounds,
                                  start_method=method, cold=cold, delay_ms=s.cold_delay_ms))
    return specs


def crossover(rows: Table, runner: str, start_method: str | None = None) -> int | None:
    """Smallest call count from which `runner` (cold) beats sequential (cold) -- faster
    significantly and by at least WORTH_IT -- at every larger count too; None if never."""
    found = None
    for calls in sorted(rows["tasks"].unique(), reverse=True):
        at = rows[rows["tasks"] == calls]
        seq = one(at, runner="sequential")
        mine = at[at["runner"] == runner]
        if start_method is not None:
            mine = mine[mine["start_method"] == start_method]
        if seq is None or mine.empty:
            return found
        beats = significant(faster(mine.iloc[0]["rounds_data"], seq["rounds_data"])) and \
            float(seq["median_s"]) >= WORTH_IT * float(mine.iloc[0]["median_s"])
        if not beats:
            return found
        found = int(calls)
    return found


def check(table: Table) -> Verdict:
    """The measurable half of the advice: does async save time within a handful of calls?

    HOLDS if asyncio (set-up and teardown included) never beats sequential -- faster
    significantly and by at least WORTH_IT -- below HANDFUL calls.  If it does, the time
    it saves at the largest count below HANDFUL decides: under NOTICEABLE_S, a one-off
    script's user would not notice (LIMITS); at least that, the advice does not hold on
    time (FAILS).  The complexity the advice also weighs is not measured here.
    """
    rows = claim_rows(table, KEY)
    rows = rows[rows["timed_setup"]]
    if rows.empty:
        return Verdict(CLAIM, MISSING, "")
    parts = []
    for runner, method in (("asyncio", None), ("threads", None), ("processes", "fork"),
                           ("processes", "forkserver"), ("processes", "spawn")):
        mine = rows[rows["runner"] == runner]
        if method:
            mine = mine[mine["start_method"] == method]
        if mine.empty:
            continue
        point = crossover(rows, runner, method)
        label = f"{runner} ({method})" if method else runner
        setup = float(mine["setup_s"].median())
        parts.append(f"{label}: beats sequential from {point} call{'s' if point > 1 else ''} on"
                     if point else f"{label}: never beats sequential")
        parts[-1] += f", set-up {ms(setup)}"
    details = "; ".join(parts)
    point = crossover(rows, "asyncio")
    rule = (f"'beats' = significantly and >= {WORTH_IT:.2f}x faster, set-up included; "
            f"a handful = under {HANDFUL} calls; only time is measured, not complexity")
    if point is None or point >= HANDFUL:
        return Verdict(CLAIM, HOLDS, "asyncio does not beat sequential within a handful of "
                       f"calls ({rule})", details)
    largest = max(c for c in rows["tasks"].unique() if c < HANDFUL)
    at = rows[rows["tasks"] == largest]
    seq, aio = one(at, runner="sequential"), one(at, runner="asyncio")
    assert seq is not None and aio is not None  # the crossover needs both
    saved = float(seq["median_s"]) - float(aio["median_s"])
    evidence = (f"asyncio beats sequential from {point} call{'s' if point > 1 else ''} on; at "
                f"{largest} calls {ms(float(aio['median_s']))} vs {ms(float(seq['median_s']))}"
                f", saving {ms(saved)} (noticeable = at least {ms(NOTICEABLE_S)}; {rule})")
    return Verdict(CLAIM, FAILS if saved >= NOTICEABLE_S else LIMITS, evidence, details)


def panel(ax: Axes, rows: Table) -> None:
    rows = rows[rows["timed_setup"]]
    for (runner, method), mine in rows.groupby(["runner", rows["start_method"].fillna("")]):
        mine = mine.sort_values("tasks")
        ax.plot(mine["tasks"], mine["median_s"] * 1000, marker="o", markersize=3,
                color=colour(str(runner)), linestyle=LINE_STYLES.get(str(method), "-"),
                label=f"{runner} {method}".strip())
    calls = sorted(rows["tasks"].unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks(calls, [str(c) for c in calls])
    ax.set_yscale("log")
    ax.set_xlabel("calls in the script (log scale)")
    ax.set_ylabel("cold wall time incl. set-up (ms, log scale)")


CLAIM = Claim(KEY, "For a handful of calls in a one-off script, async is not worth it.",
              check, panel, scenarios)
