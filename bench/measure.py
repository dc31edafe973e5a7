"""Run one scenario under pytest-benchmark and record what the clock does not see.

pytest-benchmark times each round (`benchmark.pedantic`, exact round counts).  Around
it we build the runner outside the timed region, bracket the counted rounds with a
ResourceMeter, keep the per-task results of counted rounds only (warm-up rounds are
run, timed by nobody and forgotten), and write the rest into `extra_info`.
"""

from __future__ import annotations

import inspect
import platform
import statistics
import time
from typing import Any

from bench.environment import gil_enabled, usable_cores
from bench.outcome import Outcome
from bench.resources import ResourceMeter
from bench.runners import make_runner
from bench.scenario import ScenarioSpec
from workloads.base import Workload


class LostTasks(RuntimeError):
    """Fewer tasks were accounted for than were run: the result must not be cited."""


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"latency_p50_s": None, "latency_p95_s": None, "latency_p99_s": None}
    if len(latencies) == 1:
        cuts = latencies * 99
    else:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"latency_p50_s": cuts[49], "latency_p95_s": cuts[94], "latency_p99_s": cuts[98]}


def measure(benchmark: Any, spec: ScenarioSpec, workload: Workload,
            server_pid: int | None = None) -> Outcome:
    """Benchmark one scenario; return the Outcome of its counted rounds."""
    cores = usable_cores()
    ideal_s = workload.ideal_seconds(spec.tasks, spec.concurrency, cores)  # calibrates cpu
    runner = make_runner(spec.runner, workload, spec.concurrency, spec.start_method)
    warmups = 0 if benchmark.disabled else spec.warmup_rounds
    counted = Outcome()
    meter = ResourceMeter(server_pid)
    rounds_started = 0

    def before_round() -> None:
        nonlocal rounds_started
        rounds_started += 1
        if rounds_started == warmups + 1:
            meter.start()

    def one_round() -> Outcome:
        outcome = runner.run(spec.tasks)
        if rounds_started > warmups:
            counted.extend(outcome)
        return outcome

    opened = time.perf_counter()
    runner.open()
    setup_s = time.perf_counter() - opened
    try:
        result = benchmark.pedantic(one_round, setup=before_round, rounds=spec.rounds,
                                    warmup_rounds=warmups)
        if inspect.isawaitable(result):  # a coroutine here would mean nothing was awaited
            raise TypeError("the benchmarked call returned an awaitable; nothing was timed")
        usage = meter.stop()
    finally:
        closing = time.perf_counter()
        runner.close()
        teardown_s = time.perf_counter() - closing

    rounds = rounds_started - warmups
    if counted.tasks != spec.tasks * rounds:
        raise LostTasks(f"{spec.tasks * rounds} tasks run but {counted.tasks} accounted for")
    benchmark.extra_info.update({
        "workload": spec.workload,
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
        "cpu_s": usage.cpu_s / rounds,
        "peak_rss_mb": usage.peak_rss_mb,
        "pss_mb": usage.pss_mb,
        "server_cpu_s": None if usage.server_cpu_s is None else usage.server_cpu_s / rounds,
        "timed_setup": False,
        "setup_s": setup_s,
        "teardown_s": teardown_s,
        "python": platform.python_version(),
        "gil_enabled": gil_enabled(),
    })
    return counted
