"""The benchmark suite: one parametrized test serves every registered workload.

Run with `pytest --benchmark-only`; the scenario matrix comes from the options the
plugin registers (`pytest --help`, section concurrency-bench).  The claims suite runs
this same test over its own scenarios.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.limits import LimitError
from bench.measure import measure
from bench.scenario import ScenarioSpec
from workloads import Workload

Scenario = tuple[ScenarioSpec, Workload, int | None]


def test_scenario(benchmark: Any, scenario: Scenario) -> None:
    spec, workload, server_pid = scenario
    benchmark.group = spec.claim or spec.workload
    try:
        record = measure(benchmark, spec, workload, server_pid)
    except LimitError as exc:
        pytest.fail(f"{spec.id}: {exc}", pytrace=False)
    if record.failed and not record.faults_injected:
        kinds = ", ".join(f"{kind}={count}" for kind, count in sorted(record.failure_kinds.items()))
        pytest.fail(f"{spec.workload} {spec.id}: {record.failed} of {record.tasks_run} tasks "
                    f"failed ({kinds}) with no fault injected; this scenario is not a result",
                    pytrace=False)
