"""The benchmark suite: one parametrized test serves every registered workload.

Run with `pytest --benchmark-only`; the scenario matrix comes from the options the
plugin registers (`pytest --help`, section concurrency-bench).  The claims suite runs
this same test over its own scenarios.

A scenario whose tasks fail with no fault injected on purpose is not a result: its test
fails with one line naming the failure kinds, and pytest-benchmark leaves it out of the
JSON.  If the local test server stops, the whole run stops.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any

import pytest

from bench.limits import LimitError
from bench.measure import measure
from bench.precision import Tracker
from bench.runners import RUNNERS
from bench.scenario import Scenario
from bench.service import Saturation, kept


def _not_a_result(benchmark: Any, scenario: Scenario, message: str) -> None:
    """Fail the test with one line, and keep pytest-benchmark from saving its timings
    (it drops a benchmark only when `pedantic` itself raised)."""
    benchmark.has_error = True
    died = scenario.server_exit()
    if died:
        pytest.exit(f"{died} during {scenario.spec.workload} {scenario.spec.id}; the run is "
                    "stopped", returncode=3)
    pytest.fail(f"{scenario.spec.workload} {scenario.spec.id}: {message}", pytrace=False)


def failure_text(kinds: dict[str, int], examples: dict[str, str]) -> str:
    """'other=8: RuntimeError: parser exploded': each kind, its count and its first error."""
    return "; ".join(f"{kind}={count}" + (f": {examples[kind]}" if kind in examples else "")
                     for kind, count in sorted(kinds.items()))


def test_scenario(benchmark: Any, scenario: Scenario, round_tracker: Tracker,
                  saturation: Saturation) -> None:
    spec = scenario.spec
    benchmark.group = spec.claim or spec.workload
    if spec.refine:  # --rate auto: a bisection of the bracket the sweep found
        rate, why_not = saturation.refine(spec.model_key)
        if rate is None:
            pytest.skip(why_not)
        spec = dataclasses.replace(spec, rate=rate, tasks=max(1, round(rate * spec.duration_s)),
                                   refine=0)
    most = RUNNERS[spec.runner].max_rate()
    if spec.rate is not None and most is not None and spec.rate > most:
        if spec.sweep:
            pytest.skip(f"above {most:g} requests per second, the most its load generators "
                        "send on time here")
        _not_a_result(benchmark, scenario, f"--rate {spec.rate:g}: its load generators send "
                      f"at most {most:g} requests per second on time here; lower --rate")
    if spec.sweep and spec.rate is not None:  # --rate auto: nothing to learn above saturation
        lower = saturation.above(spec.model_key, spec.rate)
        if lower is not None:
            pytest.skip(f"above saturation: {lower:g} requests per second was not kept")
    if spec.pass_index > 1:  # a later pass runs only for scenarios short of the target
        enough = round_tracker.enough(spec.key)
        if enough:
            pytest.skip(enough)
    earlier = round_tracker.rounds.get(spec.key) if spec.pass_index > 1 else None
    steady = statistics.median(earlier) if earlier else None  # warm until near it
    try:
        record = measure(benchmark, spec, scenario.workload, scenario.server_pid, steady)
    except (LimitError, OSError, RuntimeError) as exc:  # limits the checks could not see
        _not_a_result(benchmark, scenario, f"{type(exc).__name__}: {exc}")
    if scenario.server_exit():
        _not_a_result(benchmark, scenario, "the server stopped")
    if not benchmark.disabled:
        round_tracker.add(spec.key, list(benchmark.stats.stats.data))
    if spec.rate is not None:  # the sweep goes on past the SLO, up to what it can serve
        share = record.ok / record.tasks_run if record.tasks_run else 0.0
        served = kept(spec.rate, record.achieved_rate, None, None, record.sustained, share)
        within = None if spec.slo_s is None else kept(
            spec.rate, record.achieved_rate, record.arrival_latency_p99_s, spec.slo_s,
            record.sustained, share, record.ok, record.within_slo)
        saturation.add(spec.model_key, spec.rate, served, within)
    if record.failed and not record.faults_injected:
        kinds = failure_text(record.failure_kinds, record.failure_examples)
        _not_a_result(benchmark, scenario, f"{record.failed} of {record.tasks_run} tasks failed "
                      f"({kinds}) with no fault injected; this scenario is not a result")
