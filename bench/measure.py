"""Run one scenario under pytest-benchmark and record what the clock does not see.

pytest-benchmark times each round (`benchmark.pedantic`, exact round counts).  Around
it we bracket the counted rounds with a ResourceMeter, keep the per-task results of
counted rounds only (warm-up rounds are run, timed by nobody and forgotten), and
write the rest into `extra_info`.

Warm scenarios (the default) build the runner before the first round and tear it
down after the last, outside the timed region.  Cold scenarios (`timed_setup`) build
and tear down the runner inside every round, as a one-off script would.  Either way
the set-up and teardown times are recorded beside the round times.
"""

from __future__ import annotations

import inspect
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from bench.environment import gil_enabled, usable_cores
from bench.limits import check_scenario
from bench.outcome import Outcome
from bench.resources import ResourceMeter
from bench.runners import WORKER_DIED, make_runner
from bench.scenario import ScenarioSpec
from workloads.base import Workload


class LostTasks(RuntimeError):
    """Fewer tasks were accounted for than were run: the result must not be cited."""


def percentiles(values: list[float], prefix: str = "latency") -> dict[str, float | None]:
    """p50/p95/p99 (and max) of `values` as extra_info entries named `<prefix>_pNN_s`."""
    if not values:
        empty: dict[str, float | None] = {f"{prefix}_p{q}_s": None for q in (50, 95, 99)}
        return {**empty, f"{prefix}_max_s": None}
    cuts = values * 99 if len(values) == 1 else statistics.quantiles(
        values, n=100, method="inclusive")
    return {f"{prefix}_p50_s": cuts[49], f"{prefix}_p95_s": cuts[94],
            f"{prefix}_p99_s": cuts[98], f"{prefix}_max_s": max(values)}


def _duration(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def measure(benchmark: Any, spec: ScenarioSpec, workload: Workload,
            server_pid: int | None = None) -> Outcome:
    """Benchmark one scenario; return the Outcome of its counted rounds."""
    check_scenario(spec.workload, spec.runner, spec.concurrency)
    cores = usable_cores()
    ideal_s = workload.ideal_seconds(spec.tasks, spec.concurrency, cores)  # calibrates CPU jobs
    runner = make_runner(spec.runner, workload, spec.concurrency, spec.start_method)
    warmups = 0 if benchmark.disabled else spec.warmup_rounds
    counted = Outcome()
    meter = ResourceMeter(server_pid)
    setups: list[float] = []
    teardowns: list[float] = []
    rounds_started = 0

    def before_round() -> None:
        nonlocal rounds_started
        rounds_started += 1
        if rounds_started == warmups + 1:
            meter.start()

    def one_round() -> Outcome:
        if spec.timed_setup:
            setups.append(_duration(runner.open))
            try:
                outcome = runner.run(spec.tasks)
            finally:
                teardowns.append(_duration(runner.close))
        else:
            outcome = runner.run(spec.tasks)
        if rounds_started > warmups:
            counted.extend(outcome)
        return outcome

    if not spec.timed_setup:
        setups.append(_duration(runner.open))
    try:
        result = benchmark.pedantic(one_round, setup=before_round, rounds=spec.rounds,
                                    warmup_rounds=warmups)
        if inspect.isawaitable(result):  # a coroutine here would mean nothing was awaited
            raise TypeError("the benchmarked call returned an awaitable; nothing was timed")
        usage = meter.stop()
    finally:
        teardowns.append(_duration(runner.close))  # a no-op for cold runners, closed already

    rounds = rounds_started - warmups
    if counted.failures.get(WORKER_DIED):
        warnings.warn(f"{spec.id}: a pool worker died; {counted.failures[WORKER_DIED]} tasks "
                      "counted as failed (worker_died)", RuntimeWarning, stacklevel=2)
    if counted.tasks != spec.tasks * rounds:
        raise LostTasks(f"{spec.tasks * rounds} tasks run but {counted.tasks} accounted for")
    if spec.timed_setup:  # the counted rounds' own set-ups, not the warm-up's
        setups, teardowns = setups[-rounds:], teardowns[-rounds - 1:-1]
    benchmark.extra_info.update({
        "workload": spec.workload,
        "claim": spec.claim,
        "params": workload.describe(),
        **runner.describe(),
        "tasks": spec.tasks,
        "rounds": rounds,
        "warmup_rounds": warmups,
        "tasks_run": counted.tasks,
        "ok": counted.ok,
        "failed": counted.failed,
        "failure_kinds": dict(counted.failures),
        "cores": cores,
        "ideal_s": ideal_s,
        **percentiles(counted.latencies),
        **percentiles(counted.loop_lags, prefix="loop_lag"),
        "cpu_s": usage.cpu_s / rounds,
        "peak_rss_mb": usage.peak_rss_mb,
        "pss_mb": usage.pss_mb,
        "server_cpu_s": None if usage.server_cpu_s is None else usage.server_cpu_s / rounds,
        "timed_setup": spec.timed_setup,
        "setup_s": statistics.median(setups),
        "teardown_s": statistics.median(teardowns),
        "python": platform.python_version(),
        "gil_enabled": gil_enabled(),
    })
    return counted
