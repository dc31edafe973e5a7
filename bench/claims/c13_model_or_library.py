"""Claim 13: asyncio's HTTP advantage comes from the model, not from the library.

asyncio and threads make the same requests at the same concurrency with every pairing of
an async client (aiohttp, httpx) and a sync client (requests, httpx), against each test
server (aiohttp, uvicorn).  If asyncio is ahead because of the model, it stays ahead
whatever the libraries and the server; httpx against httpx is the pairing where only the
model differs.
"""

from __future__ import annotations

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    SAME,
    Axes,
    Claim,
    Table,
    Verdict,
    bars,
    claim_rows,
    faster,
    one,
    significant,
)
from bench.claims.sizes import Sizes, spec
from bench.scenario import ScenarioSpec
from workloads.clients import ASYNC, CLIENTS, SYNC
from workloads.server import SERVERS

KEY = "c13_model_or_library"
ASYNC_CLIENTS = tuple(name for name, sides in CLIENTS.items() if ASYNC in sides)
SYNC_CLIENTS = tuple(name for name, sides in CLIENTS.items() if SYNC in sides)
AHEAD, BEHIND, EVEN = "asyncio ahead", "threads ahead", "no significant difference"
PAIR_COLOURS = {AHEAD: "#1f77b4", BEHIND: "#ff7f0e", EVEN: "#999999"}


def scenarios(s: Sizes) -> list[ScenarioSpec]:
    specs = []
    for server in SERVERS:
        for runner, clients in (("asyncio", ASYNC_CLIENTS), ("threads", SYNC_CLIENTS)):
            for client in clients:
                specs.append(spec(KEY, "http", runner, s.library_tasks, s.library_level,
                                  s.rounds, client=client, server=server,
                                  delay_ms=s.library_delay_ms))
    return specs


def pairings(table: Table) -> list[dict[str, object]]:
    """Every (server, async client, sync client) measured: the ratio threads / asyncio
    of their median round times (above 1: asyncio ahead) and which is significantly ahead."""
    rows = claim_rows(table, KEY)
    found: list[dict[str, object]] = []
    if rows.empty:
        return found
    for server in sorted(rows["server"].unique()):
        mine = rows[rows["server"] == server]
        for async_client in ASYNC_CLIENTS:
            aio = one(mine, runner="asyncio", client=async_client)
            for sync_client in SYNC_CLIENTS:
                thr = one(mine, runner="threads", client=sync_client)
                if aio is None or thr is None:
                    continue
                ahead = EVEN
                if significant(faster(aio["rounds_data"], thr["rounds_data"])):
                    ahead = AHEAD
                elif significant(faster(thr["rounds_data"], aio["rounds_data"])):
                    ahead = BEHIND
                found.append({"server": server, "async": async_client, "sync": sync_client,
                              "ratio": float(thr["median_s"]) / float(aio["median_s"]),
                              "ahead": ahead, "level": int(aio["concurrency"])})
    return found


def check(table: Table) -> Verdict:
    """HOLDS if asyncio is significantly ahead of threads (one-sided Mann-Whitney on the
    rounds) with every client pairing against every server; LIMITS if it is ahead in some
    and even in the rest; FAILS if threads are ahead in any (the ordering then depends on
    the library or the server); SAME if neither is ahead in any."""
    found = pairings(table)
    if not found:
        return Verdict(CLAIM, MISSING, "")
    kinds = {pair["ahead"] for pair in found}
    verdict = HOLDS if kinds == {AHEAD} else LIMITS if kinds == {AHEAD, EVEN} else \
        SAME if kinds == {EVEN} else FAILS
    text = "; ".join(f"{p['server']} server, asyncio+{p['async']} vs threads+{p['sync']}: "
                     f"{p['ratio']:.2f}x" + ("" if p["ahead"] == AHEAD else f" ({p['ahead']})")
                     for p in found)
    same = [p for p in found if p["async"] == p["sync"]]
    pure = "; with the same library on both sides (" + ", ".join(
        f"{p['server']}: {p['ratio']:.2f}x, {p['ahead']}" for p in same) + ")" if same else ""
    return Verdict(CLAIM, verdict,
                   f"threads/asyncio round time at C={found[0]['level']}, above 1 = asyncio "
                   f"ahead (p<0.05 one-sided){pure}", details=text)


def panel(ax: Axes, rows: Table) -> None:
    found = pairings(rows)
    labels = [f"{p['async']}\n{p['sync']}\n({p['server']})" for p in found]
    bars(ax, labels, [float(p["ratio"]) for p in found],  # type: ignore[arg-type]
         [PAIR_COLOURS[str(p["ahead"])] for p in found])
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="same speed")
    ax.set_ylabel("threads / asyncio round time (x)")
    ax.tick_params(axis="x", labelsize=6)
    ax.set_xlabel("async client, sync client (server)", fontsize=8)


CLAIM = Claim(KEY, "asyncio's edge on HTTP comes from the model, not from the client library.",
              check, panel, scenarios)
