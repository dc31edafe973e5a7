"""How big the claims run is: every size in one place, and `QUICK` for a wiring check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.runners import RUNNERS
from bench.scenario import ScenarioSpec, side_of
from workloads import WORKLOADS
from workloads.clients import DEFAULT_FOR
from workloads.server import DEFAULT_SERVER

WARMUP_ROUNDS = 1


@dataclass(frozen=True)
class Sizes:
    """Everything the claims run sizes; `QUICK` keeps the shape and drops the cost."""

    wait_s: float = 1.0  # claim 1: three waits of this long
    sweep_levels: tuple[int, ...] = (1, 10, 100, 1000, 10_000)
    sweep_process_levels: tuple[int, ...] = (1, 8, 64)
    sweep_sleep_s: float = 0.1
    sweep_http_delay_ms: int = 50
    sweep_max_tasks: int = 10_000
    cpu_n: int = 1_000_000
    cpu_tasks: int = 16
    hash_size: int = 16 * 1024 * 1024
    hash_tasks: int = 32
    mixed_wait_s: float = 0.05
    mixed_n: int = 300_000
    mixed_tasks: int = 32
    pitfall_ms: int = 20
    pitfall_tasks: int = 32
    cold_calls: tuple[int, ...] = (1, 4, 16)  # claim 9's in-process set-up rows
    cold_delay_ms: int = 50
    script_calls: tuple[int, ...] = (1, 2, 4)  # claim 9: the calls of a one-off script
    script_delays_ms: tuple[int, ...] = (10, 100, 1000)  # and the server's delay per call
    library_tasks: int = 256  # claim 13: each client pairing and server
    library_level: int = 32
    library_delay_ms: int = 20
    size_ns: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000, 4_000_000)  # claim 14
    size_tasks: int = 8
    size_level: int = 2
    isolation_tasks: int = 10
    isolation_delay_ms: int = 300
    inflight: tuple[tuple[str, int], ...] = (("asyncio", 2000), ("threads", 2000),
                                             ("processes", 32))
    db_levels: tuple[int, ...] = (10, 100, 1000)  # claim 16: connections in flight
    db_raw_levels: tuple[int, ...] = (100,)  # and where the raw drivers are paired too
    db_tasks: int = 300  # at C above it, C tasks: every one in flight at once
    db_rows: int = 100_000
    db_pool: int = 10


FULL = Sizes()
QUICK = Sizes(wait_s=0.05, sweep_levels=(1, 10, 100),
              sweep_process_levels=(1, 4), sweep_sleep_s=0.01, sweep_http_delay_ms=5,
              sweep_max_tasks=200, cpu_n=20_000, cpu_tasks=4, hash_size=256 * 1024,
              hash_tasks=4, mixed_wait_s=0.005, mixed_n=5_000, mixed_tasks=4, pitfall_ms=5,
              pitfall_tasks=4, cold_calls=(1, 2), cold_delay_ms=5, script_calls=(1, 2),
              script_delays_ms=(5,), library_tasks=16,
              library_level=4, library_delay_ms=5, size_ns=(1_000, 200_000), size_tasks=4,
              isolation_tasks=4,
              isolation_delay_ms=50, inflight=(("asyncio", 50), ("threads", 50),
                                               ("processes", 2)),
              db_levels=(2, 8), db_raw_levels=(8,), db_tasks=24, db_rows=1000)


def spec(claim: str, workload: str, runner: str, tasks: int, concurrency: int,
         start_method: str | None = None, cold: bool = False, client: str = "",
         server: str = "", **overrides: Any) -> ScenarioSpec:
    """A claim's scenario; the runner decides its own concurrency levels (sequential: 1).
    A workload that makes requests uses its twin's default client and the default server
    unless `client` and `server` name others.  Its rounds and passes are the run's round
    plan's (the claims suite expands each scenario into passes)."""
    concurrency = RUNNERS[runner].levels((concurrency,))[0]
    options = (("start_method", start_method),) if start_method else ()
    takes_client = getattr(WORKLOADS[workload], "takes_http_client", False)
    if takes_client and not client:
        client = DEFAULT_FOR[side_of(runner)]
    if WORKLOADS[workload].needs_server and not server:
        server = DEFAULT_SERVER
    return ScenarioSpec(workload, runner, tasks, concurrency, 0, WARMUP_ROUNDS, options,
                        tuple(sorted(overrides.items())), cold, claim, client=client,
                        server=server)
