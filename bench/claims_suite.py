"""The claims suite: scenarios that put popular advice about asyncio to the test.

Run with `make claims` (about 7 minutes on 2 cores), or directly:
`pytest bench/claims_suite.py --benchmark-only --benchmark-json claims.json`.
`--quick` shrinks every size for a wiring check that takes seconds; its numbers
are not evidence of anything.  Each scenario carries the claim it is evidence for;
the claim modules in `bench.claims` say which, and turn the measurements into verdicts.

The timed scenarios run through the same test as the default suite (`test_scenario`);
claims 2 and 3 are experiments with tests of their own below.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.claims import CLAIMS
from bench.claims.sizes import FULL, QUICK, Sizes
from bench.experiments import ISOLATION_MODES, FailureIsolation, measure_inflight
from bench.plugin import SETTINGS, LocalServers
from bench.record import ScenarioRecord
from bench.scenario import ScenarioSpec
from bench.test_benchmarks import test_scenario
from workloads.server import DEFAULT_SERVER

__all__ = ["scenario_specs", "test_scenario"]


def _sizes(config: pytest.Config) -> Sizes:
    return QUICK if config.getoption("bench_quick") else FULL


def scenario_specs(config: pytest.Config) -> list[ScenarioSpec]:
    """Every timed scenario of the claims run, claim by claim (the plugin asks for these)."""
    sizes = _sizes(config)
    return [spec for claim in CLAIMS for spec in claim.scenarios(sizes)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    sizes = _sizes(metafunc.config)
    if "isolation_mode" in metafunc.fixturenames:
        metafunc.parametrize("isolation_mode", ISOLATION_MODES)
    elif "inflight" in metafunc.fixturenames:
        metafunc.parametrize("inflight", sizes.inflight, ids=[name for name, _ in sizes.inflight])


def test_claim_failure_isolation(benchmark: Any, isolation_mode: str,
                                 bench_servers: LocalServers,
                                 pytestconfig: pytest.Config) -> None:
    sizes = _sizes(pytestconfig)
    url = pytestconfig.stash[SETTINGS].target_url or bench_servers.get(DEFAULT_SERVER).url
    experiment = FailureIsolation(isolation_mode, url, sizes.isolation_tasks,
                                  sizes.isolation_delay_ms)
    benchmark.group = "c2_failure_isolation"
    buckets = benchmark.pedantic(experiment.run, rounds=sizes.rounds, warmup_rounds=1)
    assert sum(buckets.values()) == sizes.isolation_tasks  # every task in exactly one bucket
    record = ScenarioRecord(
        workload="http", runner=isolation_mode, tasks=sizes.isolation_tasks,
        concurrency=sizes.isolation_tasks, ok=buckets["delivered_ok"],
        failed=sizes.isolation_tasks - buckets["delivered_ok"],
        ideal_s=sizes.isolation_delay_ms / 1000, claim="c2_failure_isolation",
        faults_injected=True, timed_setup=True, extra={"buckets": dict(buckets)})
    benchmark.extra_info.update(record.as_dict())


def test_claim_inflight_cost(benchmark: Any, inflight: tuple[str, int],
                             pytestconfig: pytest.Config) -> None:
    runner, count = inflight
    sizes = _sizes(pytestconfig)
    benchmark.group = "c3_inflight_cost"
    per_task_kb = measure_inflight(benchmark, runner, count, sizes.rounds)
    record = ScenarioRecord(
        workload="parked", runner=runner, tasks=count, concurrency=count, ok=count, failed=0,
        ideal_s=None, claim="c3_inflight_cost", timed_setup=True,
        extra={"memory_per_task_kb": per_task_kb})
    benchmark.extra_info.update(record.as_dict())
