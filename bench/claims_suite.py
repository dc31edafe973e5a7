"""The claims suite: scenarios that put popular advice about asyncio to the test.

Run with `make claims` (about 10 minutes on 2 cores), or directly:
`pytest bench/claims_suite.py --benchmark-only --benchmark-json claims.json`.
`--quick` shrinks every size for a wiring check that takes seconds; its numbers
are not evidence of anything.  Each scenario carries the claim it is evidence for;
`scripts/claims.py` turns the measurements into verdicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bench.experiments import ISOLATION_MODES, FailureIsolation, measure_inflight
from bench.measure import measure
from bench.runners import START_METHODS
from bench.scenario import ScenarioSpec
from workloads import Workload

Scenario = tuple[ScenarioSpec, Workload, int | None]
WARMUP_ROUNDS = 1


@dataclass(frozen=True)
class Sizes:
    """Everything the claims run sizes; `QUICK` keeps the shape and drops the cost."""

    rounds: int = 5
    sweep_rounds: int = 3
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
    cold_calls: tuple[int, ...] = (1, 2, 4, 8, 16)
    cold_delay_ms: int = 50
    isolation_tasks: int = 10
    isolation_delay_ms: int = 300
    inflight: tuple[tuple[str, int], ...] = (("asyncio", 2000), ("threads", 2000),
                                             ("processes", 32))


FULL = Sizes()
QUICK = Sizes(rounds=2, sweep_rounds=1, wait_s=0.05, sweep_levels=(1, 10, 100),
              sweep_process_levels=(1, 4), sweep_sleep_s=0.01, sweep_http_delay_ms=5,
              sweep_max_tasks=200, cpu_n=20_000, cpu_tasks=4, hash_size=256 * 1024,
              hash_tasks=4, mixed_wait_s=0.005, mixed_n=5_000, mixed_tasks=4, pitfall_ms=5,
              pitfall_tasks=4, cold_calls=(1, 2), cold_delay_ms=5, isolation_tasks=4,
              isolation_delay_ms=50, inflight=(("asyncio", 50), ("threads", 50),
                                               ("processes", 2)))


def _spec(claim: str, workload: str, runner: str, tasks: int, concurrency: int, rounds: int,
          start_method: str | None = None, cold: bool = False, **overrides: Any) -> ScenarioSpec:
    concurrency = 1 if runner == "sequential" else concurrency
    return ScenarioSpec(workload, runner, tasks, concurrency, start_method, rounds,
                        WARMUP_ROUNDS, tuple(sorted(overrides.items())), cold, claim)


def _sweep(s: Sizes) -> Iterator[ScenarioSpec]:
    for workload, knobs in (("sleep", {"seconds": s.sweep_sleep_s}),
                            ("http", {"delay_ms": s.sweep_http_delay_ms})):
        for runner, levels in (("asyncio", s.sweep_levels), ("threads", s.sweep_levels),
                               ("processes", s.sweep_process_levels)):
            for level in levels:
                tasks = min(2 * level, max(s.sweep_max_tasks, level))
                yield _spec("c4_scaling", workload, runner, tasks, level, s.sweep_rounds,
                            **knobs)


def claim_scenarios(s: Sizes) -> list[ScenarioSpec]:
    """Every timed scenario of the claims run, in the order it runs."""
    specs: list[ScenarioSpec] = []
    for runner in ("sequential", "asyncio", "threads"):
        specs.append(_spec("c1_gather_waits", "sleep", runner, 3, 3, s.rounds, seconds=s.wait_s))
    specs += _sweep(s)
    for runner in ("sequential", "asyncio", "threads", "processes"):
        specs.append(_spec("c5_cpu", "cpu", runner, s.cpu_tasks, 2, s.rounds, n=s.cpu_n))
        specs.append(_spec("c6_gil_release", "hash", runner, s.hash_tasks, 2, s.rounds,
                           size=s.hash_size))
    for runner, level in (("asyncio", 8), ("hybrid", 8), ("processes", 2)):
        specs.append(_spec("c7_hybrid", "cpu", runner, s.cpu_tasks, level, s.rounds,
                           n=s.cpu_n))
    for runner in ("sequential", "asyncio", "threads", "hybrid", "processes"):
        specs.append(_spec("c7_hybrid", "mixed", runner, s.mixed_tasks, 16, s.rounds,
                           wait_s=s.mixed_wait_s, n=s.mixed_n))
    for blocking in (False, True):
        specs.append(_spec("c8_blocking", "sleep", "asyncio", s.pitfall_tasks, 16, s.rounds,
                           seconds=s.pitfall_ms / 1000, blocking=blocking))
        specs.append(_spec("c8_blocking", "http", "asyncio", s.pitfall_tasks, 16, s.rounds,
                           delay_ms=s.pitfall_ms, blocking=blocking))
    for calls in s.cold_calls:
        for runner, method in (("sequential", None), ("asyncio", None), ("threads", None),
                               *(("processes", m) for m in START_METHODS)):
            for cold in (True, False):  # the warm twin shows what the set-up costs
                specs.append(_spec("c9_cold", "http", runner, calls, calls, s.rounds,
                                   start_method=method, cold=cold, delay_ms=s.cold_delay_ms))
    return specs


def _sizes(config: pytest.Config) -> Sizes:
    return QUICK if config.getoption("bench_quick") else FULL


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    sizes = _sizes(metafunc.config)
    if "scenario" in metafunc.fixturenames:
        specs = claim_scenarios(sizes)
        ids = [f"{spec.claim}-{spec.workload}-{spec.id}" for spec in specs]
        metafunc.parametrize("scenario", specs, ids=ids, indirect=True)
    elif "isolation_mode" in metafunc.fixturenames:
        metafunc.parametrize("isolation_mode", ISOLATION_MODES)
    elif "inflight" in metafunc.fixturenames:
        metafunc.parametrize("inflight", sizes.inflight, ids=[name for name, _ in sizes.inflight])


def test_claim_scenario(benchmark: Any, scenario: Scenario) -> None:
    spec, workload, server_pid = scenario
    benchmark.group = spec.claim
    outcome = measure(benchmark, spec, workload, server_pid)
    assert outcome.ok + outcome.failed == outcome.tasks


def test_claim_failure_isolation(benchmark: Any, isolation_mode: str,
                                 bench_server: tuple[str, int | None],
                                 pytestconfig: pytest.Config) -> None:
    sizes = _sizes(pytestconfig)
    experiment = FailureIsolation(isolation_mode, bench_server[0], sizes.isolation_tasks,
                                  sizes.isolation_delay_ms)
    benchmark.group = "c2_failure_isolation"
    buckets = benchmark.pedantic(experiment.run, rounds=sizes.rounds, warmup_rounds=1)
    assert sum(buckets.values()) == sizes.isolation_tasks  # every task in exactly one bucket
    benchmark.extra_info.update({
        "claim": "c2_failure_isolation", "workload": "http", "runner": isolation_mode,
        "tasks": sizes.isolation_tasks, "concurrency": sizes.isolation_tasks,
        "ok": buckets["delivered_ok"], "failed": sizes.isolation_tasks - buckets["delivered_ok"],
        "tasks_run": sizes.isolation_tasks, "ideal_s": sizes.isolation_delay_ms / 1000,
        "buckets": dict(buckets), "timed_setup": True, "start_method": None,
    })


def test_claim_inflight_cost(benchmark: Any, inflight: tuple[str, int],
                             pytestconfig: pytest.Config) -> None:
    runner, count = inflight
    sizes = _sizes(pytestconfig)
    benchmark.group = "c3_inflight_cost"
    per_task_kb = measure_inflight(benchmark, runner, count, sizes.rounds)
    benchmark.extra_info.update({
        "claim": "c3_inflight_cost", "workload": "parked", "runner": runner, "tasks": count,
        "concurrency": count, "ok": count, "failed": 0, "tasks_run": count,
        "ideal_s": 0.0, "memory_per_task_kb": per_task_kb, "timed_setup": True,
        "start_method": None,
    })

