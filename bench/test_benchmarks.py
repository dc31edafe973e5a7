"""The benchmark suite: one parametrized test per workload.

Run with `pytest --benchmark-only`; the scenario matrix comes from the options the
plugin registers (`pytest --help`, section concurrency-bench).
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.measure import measure
from bench.scenario import ScenarioSpec
from workloads import Workload

Scenario = tuple[ScenarioSpec, Workload, int | None]


def _run(benchmark: Any, scenario: Scenario) -> None:
    spec, workload, server_pid = scenario
    benchmark.group = spec.workload
    outcome = measure(benchmark, spec, workload, server_pid)
    assert outcome.ok + outcome.failed == outcome.tasks


@pytest.mark.workload("sleep")
def test_sleep(benchmark: Any, scenario: Scenario) -> None:
    _run(benchmark, scenario)


@pytest.mark.workload("http")
def test_http(benchmark: Any, scenario: Scenario) -> None:
    _run(benchmark, scenario)


@pytest.mark.workload("cpu")
def test_cpu(benchmark: Any, scenario: Scenario) -> None:
    _run(benchmark, scenario)
