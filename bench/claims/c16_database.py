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
"""

from __future__ import annotations

import math

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MISSING,
    Axes,
    Claim,
    Effect,
    Row,
    Table,
    Verdict,
    claim_rows,
    ratio,
    undecided,
)
from bench.claims.panels import bars, interval_errors
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec

KEY = "c16_database"
EDGE = 1.10  # "within 10 %": threads' round over asyncio's wholly below 1.10
THOUSANDS = 1000  # the claim speaks of the levels below this many connections
DB_SATURATED = 0.9  # the database's cores at which it, not the client, decided the time
POOL_BOUND = 0.9  # achieved / (pool / one task's time) at which the pool decided it
APIS = ("orm", "raw")


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


def check(table: Table) -> Verdict:
    """Below THOUSANDS: every level wholly below EDGE holds; any level wholly above it
    (with the model, not the database, deciding) does not hold; else inconclusive.  The
    first level where asyncio is ahead is named, and the raw-driver pairing shown."""
    found = levels(table)
    claimed = [(level, effect, why) for level, effect, why in found if level < THOUSANDS]
    if not claimed:
        return Verdict(CLAIM, MISSING, "")
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
    return Verdict(CLAIM, verdict, evidence, ". ".join(details))


def panel(ax: Axes, rows: Table) -> None:
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


CLAIM = Claim(KEY, "For database-heavy CRUD work, a sync ORM with threads serves within 10 % "
              "of an async ORM until concurrent connections run into the thousands.", check,
              panel, scenarios)
