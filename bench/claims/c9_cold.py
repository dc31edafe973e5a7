"""Claim 9: for a handful of calls in a one-off script, async is not worth it.

Scope, as measured: a script of 1, 2 or 4 GET requests (a handful = under 5), run the way
its user runs it -- a fresh interpreter each time, so interpreter start-up, the imports
its model needs, its set-up and teardown all count -- against the local server at several
delays per call (Sizes.script_delays_ms).  The verdict is given per delay, because the
advice's truth depends on how long each call waits.  What the advice also weighs, the
extra complexity of async code, is not measured.

The in-process cold rows (the loop, session or pool built and torn down inside every
round, every start method) show what each model's set-up costs, in the report's set-up
table; they do not decide the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Axes,
    Effect,
    Table,
    claim_rows,
    colour,
    ms,
    one,
    speedup,
    undecided,
)
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.runners import START_METHODS
from bench.scenario import ScenarioSpec

KEY = "c9_cold"
HANDFUL = 5  # "a handful of calls" is fewer than 5
WORTH_IT = 1.10  # "worth it": the async script's speedup over sequential wholly above 1.10x
NOTICEABLE_S = 0.1  # ... and saving at least this much, which a person would notice
DELAY_STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    cold_calls: tuple[int, ...] = (1, 4, 16)  # claim 9's in-process set-up rows
    cold_delay_ms: int = 50
    script_calls: tuple[int, ...] = (1, 2, 4)  # claim 9: the calls of a one-off script
    script_delays_ms: tuple[int, ...] = (10, 100, 1000)  # and the server's delay per call


FULL = Sizes()
QUICK = Sizes(cold_calls=(1, 2), cold_delay_ms=5, script_calls=(1, 2), script_delays_ms=(5,))


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    """The in-process cold rows (the one-off scripts are the suite's own test)."""
    specs = []
    for calls in s.cold_calls:
        for runner, method in (("sequential", None), ("asyncio", None), ("threads", None),
                               *(("processes", m) for m in START_METHODS)):
            specs.append(spec(KEY, "http", runner, calls, calls, start_method=method,
                              cold=True, delay_ms=s.cold_delay_ms))
    return specs


def _delay(params: str) -> int:
    return int(str(params).split("delay_ms=")[1].split(",")[0])


def scripts(table: Table) -> Table:
    rows = claim_rows(table, KEY)
    return rows[rows["workload"] == "script"]


def at_delay(rows: Table) -> list[tuple[int, Effect, float, float]]:
    """(calls, asyncio's speedup over sequential, the time it saves, the most it could save
    within the speedup's interval) at each call count of one delay that is within a
    handful and has more than one call."""
    found = []
    for calls in sorted(rows["tasks"].unique()):
        at = rows[rows["tasks"] == calls]
        seq, aio = one(at, runner="sequential"), one(at, runner="asyncio")
        if seq is None or aio is None or not 1 < calls < HANDFUL:
            continue
        effect = speedup(aio, seq, WORTH_IT, f"{calls} calls: asyncio script speedup over "
                         "sequential")
        base = float(seq["median_s"])
        most = base * (1 - 1 / effect.high) if effect.high == effect.high else base
        found.append((int(calls), effect, base - float(aio["median_s"]), most))
    return found


def panel(ax: Axes, rows: Table) -> None:
    rows = scripts(rows)
    for index, (params, by_delay) in enumerate(rows.groupby("params", sort=False)):
        for runner, mine in by_delay.groupby("runner", sort=False):
            mine = mine.sort_values("tasks")
            ax.plot(mine["tasks"], mine["median_s"] * 1000, marker="o", markersize=3,
                    color=colour(str(runner)),
                    linestyle=DELAY_STYLES[index % len(DELAY_STYLES)],
                    label=f"{runner}, {_delay(str(params))} ms")
    calls = sorted(rows["tasks"].unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks(calls, [str(c) for c in calls])
    ax.set_yscale("log")
    ax.set_xlabel("calls in the script (log scale)")
    ax.set_ylabel("one-off script, start-up included (ms, log)")


@register_claim(
    KEY, "For a handful of calls in a one-off script, async is not worth it.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Per delay: async is worth it at some call count under HANDFUL if the asyncio
    script's speedup over the sequential script lies wholly above WORTH_IT and it saves at
    least NOTICEABLE_S (the claim does not hold there); it is not worth it at a call count
    whose interval lies wholly below, or whose best case within the interval saves under
    NOTICEABLE_S (the claim
    holds there when that is so at every count).  Holds at every delay: holds; at none:
    does not hold; at some and not others: holds with limits; anything else: inconclusive."""
    rows = scripts(table)
    if rows.empty:
        return Verdict(KEY, MISSING, "")
    holds_at, fails_at, open_at, parts, effects = [], [], [], [], []
    for params, mine in rows.groupby("params", sort=False):
        delay = _delay(str(params))
        outcomes = []
        for _, effect, saved, most in at_delay(mine):
            effects.append(effect)
            worth = effect.above is True and saved >= NOTICEABLE_S
            # Not worth it: no clear gain, or even the best case saves too little to notice.
            not_worth = effect.above is False or (not effect.unfit and most < NOTICEABLE_S)
            outcomes.append(True if worth else False if not_worth else None)
            parts.append(f"{delay} ms: {effect.text()}, saves {ms(saved)}")
        if any(outcome is True for outcome in outcomes):
            fails_at.append(delay)
        elif outcomes and all(outcome is False for outcome in outcomes):
            holds_at.append(delay)
        else:
            open_at.append(delay)
    delays = ", ".join(f"{d} ms" for d in sorted(holds_at + fails_at + open_at))
    scope = (f"scripts of 1-{HANDFUL - 1} calls, each a fresh interpreter (start-up and "
             f"imports counted), at {delays} per call; 'worth it' = speedup wholly above "
             f"{WORTH_IT:.3g}x and saving at least {ms(NOTICEABLE_S)}; complexity is not measured")
    said = (f"holds at {', '.join(f'{d} ms' for d in sorted(holds_at)) or 'no delay'}; "
            f"asyncio worth it at {', '.join(f'{d} ms' for d in sorted(fails_at)) or 'no delay'}")
    if holds_at and fails_at:
        verdict = LIMITS
    elif open_at:
        verdict = INCONCLUSIVE
    else:
        verdict = HOLDS if holds_at else FAILS
    details = "; ".join(parts)
    if verdict == INCONCLUSIVE:
        details = undecided(effects, "more rounds of the one-off scripts") + "; " + details
    return Verdict(KEY, verdict, f"{said} ({scope})", details)
