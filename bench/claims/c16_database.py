"""Claim 16: for database-heavy CRUD work, a sync ORM with threads serves within 10 % of an
async ORM until concurrent connections run into the thousands.

The db workload (a real PostgreSQL; per task reads by key, a join, an update and an insert
committed, and a read-back) runs under threads with SQLAlchemy's sync ORM (psycopg) and
under asyncio with its async ORM (asyncpg), at each concurrency level, with the same
pool of connections per process, so that above the pool size both models wait for a
connection.  The effect at each level is threads' round over asyncio's (above 1: asyncio
ahead) with its interval; the claim's line is 1.10.  It holds where every level below
`THOUSANDS` lies wholly below the line, does not hold where a level lies wholly above it
(asyncio pulls ahead from there), and is inconclusive where an interval straddles it.
The same pairing without the ORM (the drivers' own pools) is shown beside it, so that
the ORM's share of the difference can be read off.  A level where the database itself
used nearly a full core, or where the pool allowed no more than the rate achieved (Little's
law: pool / one task's time), was decided by the database, not by the model, and
decides nothing.

A service-mode run of the db workload (`--rate auto` with an SLO) adds the served side:
the CRUD service deployed as people run it, the async ORM under uvicorn against the sync
ORM under gunicorn's gthread workers (and, in process, asyncio against threads), at the
same connections.  Only pairs that can spend the same cores decide: uvicorn's workers (one
per core) against gthread's workers (several, over every core), and asyncio against
threads (one process each).  One uvicorn process against gthread's several is shown, and
decides nothing: the sync side has more cores to spend.  Each model's saturation under the
SLO lies in its bracket (the highest rate kept, the lowest not kept above it; fit rows
only, bench.claims.c15_one_core); the effect is async's saturation over sync's, bounded by
the brackets' ends.  It is within
10 % where the async bracket's top is at most 1.10 x the sync bracket's bottom, and async
is ahead where its bottom is above 1.10 x the sync top.  A bracket whose top is its
concurrency limit (Little's law), or a saturation the database decided, decides nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.ceilings import bounded_by_c
from bench.claims.c15_one_core import model_bracket
from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MISSING,
    Axes,
    Effect,
    Row,
    Table,
    claim_rows,
    ratio,
    undecided,
)
from bench.claims.panels import bars, interval_errors
from bench.claims.registry import (
    CLAIMS_RUN,
    SERVICE_RUN,
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec
from bench.stats import Z95

KEY = "c16_database"
EDGE = 1.10  # "within 10 %": threads' round over asyncio's wholly below 1.10
THOUSANDS = 1000  # the claim speaks of the levels below this many connections
DB_SATURATED = 0.9  # the database's cores at which it, not the client, decided the time
POOL_BOUND = 0.9  # achieved / (pool / one task's time) at which the pool decided it
APIS = ("orm", "raw")
# Served side (service mode): (sync model, async model, whether it decides), each pair at
# the same C.  One uvicorn process against several gthread workers is not matched.
SERVICE_PAIRS = (("app-gunicorn-gthread", "app-uvicorn-workers", True),
                 ("threads", "asyncio", True),
                 ("app-gunicorn-gthread", "app-uvicorn", False))
UNMATCHED = "one process against several: shown, decides nothing"


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    db_levels: tuple[int, ...] = (10, 100, 1000)  # claim 16: connections in flight
    db_raw_levels: tuple[int, ...] = (100,)  # and where the raw drivers are paired too
    db_tasks: int = 300  # at C above it, C tasks: every one in flight at once
    db_rows: int = 100_000
    db_pool: int = 10


FULL = Sizes()
QUICK = Sizes(db_levels=(2, 8), db_raw_levels=(8,), db_tasks=24, db_rows=1000)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for level in s.db_levels:
        for api in APIS if level in s.db_raw_levels else ("orm",):
            specs += [spec(KEY, "db", runner, max(s.db_tasks, level), level, api=api,
                           rows=s.db_rows, pool=s.db_pool)
                      for runner in ("asyncio", "threads")]
    return specs


def _param(row: Row, name: str) -> str:
    for part in str(row.get("params", "")).split(", "):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return ""


def _row(rows: Table, runner: str, level: int, api: str) -> Row | None:
    for _, row in rows[(rows["runner"] == runner) & (rows["concurrency"] == level)].iterrows():
        if _param(row, "api") == api:
            return row
    return None


def database_decided(row: Row) -> str | None:
    """Why this row's time was the database's (its CPU, or its pool), or None."""
    load = row.get("server_load")
    if load is not None and not math.isnan(float(load)) and float(load) >= DB_SATURATED:
        return f"{row['runner']}: PostgreSQL used {float(load):.2f} cores"
    pool, solo = _param(row, "pool"), row.get("solo_task_s")
    rate = row.get("tasks_per_s")
    if pool and solo is not None and rate is not None and float(solo) > 0:
        ceiling = min(int(pool), int(row["concurrency"])) / float(solo)
        if float(rate) >= POOL_BOUND * ceiling:
            return (f"{row['runner']}: {float(rate):.0f} tasks/s against the pool's ceiling "
                    f"of {ceiling:.0f} (pool {pool} / one task's {float(solo) * 1000:.1f} ms)")
    return None


def levels(table: Table, api: str = "orm") -> list[tuple[int, Effect, list[str]]]:
    """Per level measured: threads' round over asyncio's, and what makes the database,
    not the model, its decider."""
    rows = claim_rows(table, KEY)
    found = []
    for level in sorted(int(c) for c in rows["concurrency"].unique()) if not rows.empty else []:
        thr, aio = _row(rows, "threads", level, api), _row(rows, "asyncio", level, api)
        if thr is None or aio is None:
            continue
        effect = ratio(f"C={level}: threads / asyncio ({api})", thr, aio, EDGE)
        reasons = [why for row in (thr, aio) if (why := database_decided(row))]
        found.append((level, effect, reasons))
    return found


class Served:
    """One served pairing at one C: each side's saturation bracket under the SLO, the
    bounds of async's saturation over sync's, and why the pairing cannot decide."""

    def __init__(self, label: str, sync: tuple[float | None, float | None],
                 asyn: tuple[float | None, float | None], reasons: list[str],
                 margin: float = 1.0) -> None:
        """`margin`: what a rerun moves such a ratio (95 %, as a factor), applied to both
        bounds."""
        self.label, self.sync, self.asyn, self.reasons = label, sync, asyn, reasons
        self.margin = margin
        (sync_low, sync_high), (async_low, async_high) = sync, asyn
        self.low = async_low / sync_high / margin if async_low and sync_high else None
        self.high = async_high / sync_low * margin if async_high and sync_low else None

    @property
    def within(self) -> bool | None:
        """True: async's saturation at most EDGE x sync's; False: beyond it; None: open."""
        if self.reasons:
            return None
        if self.high is not None and self.high <= EDGE:
            return True
        if self.low is not None and self.low > EDGE:
            return False
        return None

    def text(self) -> str:
        def span(pair: tuple[float | None, float | None]) -> str:
            return bound_text(*pair, "{:.0f}")
        bounds = bound_text(self.low, self.high, "{:.2f}x")
        moves = f" (with what a rerun moves a ratio, x{self.margin:.2f})" \
            if self.margin > 1 else ""
        return (f"{self.label}: saturation under the SLO {span(self.asyn)} against "
                f"{span(self.sync)} req/s, async / sync {bounds}{moves} vs the {EDGE:.2f}x "
                "line")


def bound_text(low: float | None, high: float | None, form: str) -> str:
    """An interval as far as it is bounded: "a-b", "at least a", "below b", or "no bound"
    (never "at least 0", which bounds nothing)."""
    low = low or None  # a bound of zero is no bound
    if low is not None and high is not None:
        return f"{form.format(low)}-{form.format(high)}"
    if low is not None:
        return f"at least {form.format(low)}"
    if high is not None:
        return f"below {form.format(high)} (no lower bound)"
    return "no bound"


def _bracket(rows: Table) -> tuple[tuple[float | None, float | None], str | None]:
    """A model's SLO bracket from its fit rows; why it cannot decide (its top is its
    concurrency limit's, or the database decided its first rate not kept), or None."""
    best, above = model_bracket(rows, fit_only=True)
    listed = [row for _, row in rows.iterrows()]
    first = rows.iloc[0]
    if bounded_by_c(listed, best, above):
        return (best, None), f"{first['runner']}: bounded by its concurrency limit"
    for row in listed:
        if above is not None and float(row["offered_rate"]) == above:
            why = database_decided(row)
            if why:
                return (best, above), why
    return (best, above), None


def served(table: Table) -> list[Served]:
    """Each served pairing of the db workload's service rows, per C and ORM/raw setting."""
    if "offered_rate" not in table:
        return []
    rows = table[(table["workload"] == "db") & table["offered_rate"].notna()]
    found = []
    for sync_runner, async_runner, decides in SERVICE_PAIRS:
        for (_, level), group in rows.groupby(["params", "concurrency"], sort=False):
            sides = [group[group["runner"] == name] for name in (sync_runner, async_runner)]
            if any(side.empty for side in sides):
                continue
            (sync, why_sync), (asyn, why_async) = (_bracket(side) for side in sides)
            api = _param(sides[0].iloc[0], "api") or "orm"
            reasons = [why for why in (why_sync, why_async) if why]
            term = group["run_to_run_saturation_ratio"].iloc[0] \
                if "run_to_run_saturation_ratio" in group else 0.0
            margin = math.exp(Z95 * float(term)) if term and term == term else 1.0
            found.append(Served(f"C={level}: {async_runner} / {sync_runner} ({api})", sync,
                                asyn, reasons + ([] if decides else [UNMATCHED]), margin))
    return found


def _batch_check(table: Table) -> Verdict:
    """Below THOUSANDS: every level wholly below EDGE holds; any level wholly above it
    (with the model, not the database, deciding) does not hold; else inconclusive.  The
    first level where asyncio is ahead is named, and the raw-driver pairing shown."""
    found = levels(table)
    claimed = [(level, effect, why) for level, effect, why in found if level < THOUSANDS]
    if not claimed:
        return Verdict(KEY, MISSING, "")
    outcomes = [None if why else effect.below for _, effect, why in claimed]
    verdict = FAILS if False in outcomes else HOLDS if all(outcomes) else INCONCLUSIVE
    evidence = "; ".join(effect.text() for _, effect, _ in found)
    ahead = [level for level, effect, why in found if effect.above is True and not why]
    details = [f"asyncio ahead (beyond {EDGE:.2f}x) from C={ahead[0]}" if ahead else
               f"asyncio ahead (beyond {EDGE:.2f}x) at no level that can decide"]
    above_but_unfit = [level for level, effect, _ in found
                       if effect.unfit and effect.full_level and effect.low > EDGE]
    if above_but_unfit:
        details.append("the interval lies wholly above the line at C=" + ", ".join(
            map(str, above_but_unfit)) + ", but from rows the report does not call citable")
    decided_by_db = [f"C={level}: {'; '.join(why)}" for level, _, why in found if why]
    if decided_by_db:
        details.append("the database, not the model, decided " + "; ".join(decided_by_db))
    raw = levels(table, "raw")
    if raw:
        details.append("without the ORM: " + "; ".join(effect.text() for _, effect, _ in raw))
    if verdict == INCONCLUSIVE:
        details.append(undecided([effect for _, effect, _ in claimed],
                                 "more rounds on a quieter machine"))
    return Verdict(KEY, verdict, evidence, ". ".join(details))


def _served_panel(ax: Axes, service: list[Served]) -> None:
    """Async's saturation over sync's per served pairing: the bar at the bounds' geometric
    middle, the whiskers at the bounds (an open bound drawn at the bar)."""
    labels, values, low, high = [], [], [], []
    for pairing in service:
        bottom, top = pairing.low or 0.0, pairing.high or pairing.low or 0.0
        middle = math.sqrt(bottom * top) if bottom and top else bottom or top
        labels.append(pairing.label.replace(": ", "\n").replace(" / ", "\n/ "))
        values.append(middle)
        low.append(middle - bottom)
        high.append(top - middle)
    bars(ax, labels, values, ["#1f77b4"] * len(values), [low, high])
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="same saturation")
    ax.axhline(EDGE, color="grey", linestyle=":", linewidth=1, label=f"{EDGE:.2f}x line")
    ax.legend(fontsize=8, loc="best")
    ax.set_ylabel("async / sync saturation under the SLO (x)")


def panel(ax: Axes, rows: Table) -> None:
    if "claim" not in rows or claim_rows(rows, KEY).empty:
        _served_panel(ax, served(rows))
        return
    labels, effects, colours = [], [], []
    for api, colour in (("orm", "#1f77b4"), ("raw", "#ff7f0e")):
        for level, effect, _ in levels(rows, api):
            labels.append(f"C={level}\n{api}")
            effects.append(effect)
            colours.append(colour)
    bars(ax, labels, [e.value for e in effects], colours, interval_errors(effects))
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="same speed")
    ax.axhline(EDGE, color="grey", linestyle=":", linewidth=1, label=f"{EDGE:.2f}x line")
    ax.legend(fontsize=8, loc="best")
    ax.set_ylabel("threads / asyncio round time (x)")
    ax.set_xlabel("connections in flight (C), ORM or raw driver", fontsize=8)


@register_claim(
    KEY,
    "For database-heavy CRUD work, a sync ORM with threads serves within 10 % of an async"
    " ORM until concurrent connections run into the thousands.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK,
    runs=frozenset({CLAIMS_RUN, SERVICE_RUN}))
def check(table: Table) -> Verdict:
    """Batch rows and served rows, each where present (see `_batch_check`); both decide,
    and the claim holds only where neither says otherwise."""
    batch = _batch_check(table) if "claim" in table and not claim_rows(table, KEY).empty \
        else None
    service = served(table)
    if not service:
        return batch or Verdict(KEY, MISSING, "")
    outcomes = [pairing.within for pairing in service if UNMATCHED not in pairing.reasons]
    verdict = FAILS if False in outcomes else HOLDS if outcomes and all(outcomes) else \
        INCONCLUSIVE
    evidence = "; ".join(pairing.text() for pairing in service)
    details = [f"{pairing.label}: decides nothing ({'; '.join(pairing.reasons)})"
               for pairing in service if pairing.reasons]
    if batch is not None:
        verdict = FAILS if FAILS in (verdict, batch.verdict) else \
            HOLDS if verdict == batch.verdict == HOLDS else INCONCLUSIVE
        evidence = f"{batch.evidence}; served: {evidence}"
        details.insert(0, batch.details)
    if verdict == INCONCLUSIVE and any(outcome is None for outcome in outcomes):
        details.append("a served pairing's brackets straddle the line. To settle: a finer "
                       "sweep (more --rate auto refinement) or a longer --duration-s")
    return Verdict(KEY, verdict, evidence, ". ".join(part for part in details if part))
