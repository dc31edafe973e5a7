"""Claim 13: asyncio's HTTP advantage comes from the model, not from the library.

asyncio and threads make the same requests at the same concurrency with every pairing of
an async client (aiohttp, httpx) and a sync client (requests, httpx), against each test
server (aiohttp, uvicorn).  Only a pairing with the same library on both sides isolates
the model; the others measure model and library together and are shown beside it.  A
same-library pairing is a fair control only if that library is about as quick as its
peers on both sides: if its async side is much slower than another async client under the
same model while its sync side is not (httpx's async connection pool is a known cost:
encode/httpx issue 3215), the pairing measures the library's async implementation, and
the claim is inconclusive until a library that serves both sides evenly is measured.  A
server that ran out of CPU measures the server, not the clients, and cannot decide either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
    one,
    ratio,
    undecided,
)
from bench.claims.panels import bars, interval_errors
from bench.claims.registry import (
    Verdict,
    register_claim,
    spec,
)
from bench.scenario import ScenarioSpec
from workloads.clients import ASYNC, CLIENTS, SYNC
from workloads.server import SERVERS

KEY = "c13_model_or_library"
ASYNC_CLIENTS = tuple(name for name, sides in CLIENTS.items() if ASYNC in sides)
SYNC_CLIENTS = tuple(name for name, sides in CLIENTS.items() if SYNC in sides)
EDGE = 1.10  # asyncio "ahead": threads' round over asyncio's wholly above 1.10x
SATURATED = 0.9  # a server using this many cores of its one process has run out of CPU
AHEAD, BEHIND, EVEN, OPEN = "asyncio ahead", "threads ahead", "within 10 %", "undecided"
PAIR_COLOURS = {AHEAD: "#1f77b4", BEHIND: "#ff7f0e", EVEN: "#999999", OPEN: "#dddddd"}


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    library_tasks: int = 256  # claim 13: each client pairing and server
    library_level: int = 32
    library_delay_ms: int = 20


FULL = Sizes()
QUICK = Sizes(library_tasks=16, library_level=4, library_delay_ms=5)


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for server in SERVERS:
        for runner, clients in (("asyncio", ASYNC_CLIENTS), ("threads", SYNC_CLIENTS)):
            for client in clients:
                specs.append(spec(KEY, "http", runner, s.library_tasks, s.library_level,
                                  client=client, server=server, delay_ms=s.library_delay_ms))
    return specs


def classify(effect: Effect) -> str:
    if effect.above is True:
        return AHEAD
    if effect.unfit or effect.low != effect.low:
        return OPEN
    if effect.high < 1 / EDGE:
        return BEHIND
    if effect.low > 1 / EDGE and effect.high < EDGE:
        return EVEN
    return OPEN


def pairings(table: Table) -> list[dict[str, Any]]:
    """Every (server, async client, sync client) measured: threads' round over asyncio's
    (above 1: asyncio ahead) with its interval, and what it shows."""
    rows = claim_rows(table, KEY)
    found: list[dict[str, Any]] = []
    if rows.empty:
        return found
    for server in sorted(rows["server"].unique()):
        mine = rows[rows["server"] == server]
        for async_client in sorted(mine.loc[mine["runner"] == "asyncio", "client"].unique()):
            aio = one(mine, runner="asyncio", client=async_client)
            for sync_client in sorted(mine.loc[mine["runner"] == "threads", "client"].unique()):
                thr = one(mine, runner="threads", client=sync_client)
                if aio is None or thr is None:
                    continue
                effect = ratio(f"{server} server, threads+{sync_client} / asyncio+"
                               f"{async_client}", thr, aio, EDGE)
                found.append({"server": server, "async": async_client, "sync": sync_client,
                              "effect": effect, "ahead": classify(effect),
                              "level": int(aio["concurrency"])})
    return found


def _uneven(rows: Table, library: str) -> Effect | None:
    """Evidence that `library` is slow on one side only: its async round over the best
    other async client's, when that lies wholly above EDGE while its sync round is not
    wholly above EDGE over the best other sync client's (or the reverse); else None."""
    gaps = {}
    for runner in ("asyncio", "threads"):
        side = rows[rows["runner"] == runner]
        mine = one(side, client=library)
        others = side[side["client"] != library]
        if mine is None or others.empty:
            return None
        best = others.loc[others["median_s"].idxmin()]
        gaps[runner] = ratio(f"{runner}+{library} / {runner}+{best['client']}", mine, best,
                             EDGE)
    for slow, other in (("asyncio", "threads"), ("threads", "asyncio")):
        if gaps[slow].above is True and gaps[other].above is not True:
            return gaps[slow]
    return None


def confounds(table: Table, pair: dict[str, Any]) -> list[str]:
    rows = claim_rows(table, KEY)
    mine = rows[rows["server"] == pair["server"]]
    found = []
    uneven = _uneven(mine, pair["async"])
    if uneven is not None:
        found.append(f"{pair['async']} is uneven across the sides ({uneven.text()})")
    load = mine["server_load"].max() if "server_load" in mine else math.nan
    if load == load and load >= SATURATED:
        found.append(f"the {pair['server']} server used {load:.2f} cores (saturated)")
    return found


def panel(ax: Axes, rows: Table) -> None:
    found = pairings(rows)
    labels = [f"{p['async']}\n{p['sync']}\n({p['server']})" for p in found]
    effects = [p["effect"] for p in found]
    bars(ax, labels, [e.value for e in effects], [PAIR_COLOURS[str(p["ahead"])] for p in found],
         interval_errors(effects))
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="same speed")
    for kind in dict.fromkeys(str(p["ahead"]) for p in found):  # what each colour means
        ax.bar([0], [0], color=PAIR_COLOURS[kind], label=kind)
    ax.legend(fontsize=8, loc="best")
    ax.set_ylabel("threads / asyncio round time (x)")
    ax.set_xlabel("async client, sync client (server)", fontsize=8)


@register_claim(
    KEY, "asyncio's edge on HTTP comes from the model, not from the client library.",
    panel, scenarios=scenarios, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Decided by the same-library pairings that are fair controls: asyncio ahead in all
    holds; ahead in some and within 10 % in the rest holds with limits; ahead in none
    (within 10 % or behind) does not hold -- the edge seen elsewhere then came from the
    libraries; an undecided pairing, or no fair control, is inconclusive."""
    found = pairings(table)
    if not found:
        return Verdict(KEY, MISSING, "")
    same = [pair for pair in found if pair["async"] == pair["sync"]]
    controls: list[tuple[dict[str, Any], list[str]]] = []
    confounded: list[tuple[dict[str, Any], list[str]]] = []
    for pair in same:
        reasons = confounds(table, pair)
        (confounded if reasons else controls).append((pair, reasons))
    kinds = {pair["ahead"] for pair, _ in controls}
    shown = "; ".join(f"{pair['effect'].text()}: {pair['ahead']}" for pair in same)
    evidence = (f"same library on both sides, C={found[0]['level']}: {shown or 'none measured'}"
                f" (asyncio ahead = threads' round over asyncio's above {EDGE:.3g}x)")
    details = "all pairings: " + "; ".join(
        f"{pair['effect'].text()} ({pair['ahead']})" for pair in found)
    if not controls:
        why = "; ".join(reason for _, reasons in confounded for reason in reasons) or \
            "no library serves both sides in this run"
        return Verdict(KEY, INCONCLUSIVE, evidence,
                       f"undecided: no same-library pairing is a fair control: {why}. To "
                       "settle: a client library whose async and sync sides are about as quick "
                       f"as their peers, on a server with CPU to spare; {details}")
    if OPEN in kinds:
        verdict = INCONCLUSIVE
        details = undecided([pair["effect"] for pair, _ in controls],
                            "more rounds on a quieter machine") + "; " + details
    elif kinds == {AHEAD}:
        verdict = HOLDS
    elif AHEAD in kinds and BEHIND not in kinds:
        verdict = LIMITS
    else:
        verdict = FAILS
    return Verdict(KEY, verdict, evidence, details)
