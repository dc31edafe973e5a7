"""Run one scenario under pytest-benchmark and record what the clock does not see.

Three steps, each a function of its own:

- `calibrate`: whatever the ideal time needs measured (a CPU job's one-task time) is
  measured before any timing, so no round pays for it;
- `run_rounds`: pytest-benchmark times each round (`benchmark.pedantic`, exact round
  counts) while a ResourceMeter brackets the counted rounds; per-task results are kept
  for counted rounds only (warm-up rounds are run, timed by nobody and forgotten);
- `make_record`: the ScenarioRecord of what happened, with the ideal decided from the
  calibration and the fastest task the run saw together, so that a busy moment during
  calibration cannot put efficiency above 100 %.

Each round, warm-up or counted, starts with `gc.collect()` and `gc.freeze()` outside the
timed region: the harness's own heap (pytest, the report's libraries, earlier scenarios'
leftovers) is set aside, so the collections a round triggers walk only what the round
made, as they would in a program that runs the model alone.

Warm scenarios (the default) build the runner before the first round and tear it
down after the last, outside the timed region.  Cold scenarios (`timed_setup`) build
and tear down the runner inside every round, as a one-off script would.  Either way
the set-up and teardown times are recorded beside the round times.
"""

from __future__ import annotations

import dataclasses
import gc
import inspect
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.environment import gil_enabled, usable_cores
from bench.limits import check_scenario
from bench.outcome import Outcome
from bench.pinning import pin_again, pinned
from bench.record import ScenarioRecord
from bench.resources import ResourceMeter, ResourceUsage
from bench.runners import WORKER_DIED, Runner, make_runner
from bench.scenario import ScenarioSpec, side_of
from bench.service import Schedule, ServiceOutcome
from bench.stats import FEWEST_FOR_95, median, percentile
from bench.watchdog import bounded, round_bound
from workloads.base import Workload


class LostTasks(RuntimeError):
    """Fewer tasks were accounted for than were run: the result must not be cited."""


def percentiles(values: list[float], prefix: str = "latency") -> dict[str, Any]:
    """p50/p95/p99 (and max) of `values` as record fields named `<prefix>_pNN_s`: nearest
    rank (bench.stats), so each is a real task's figure."""
    found: dict[str, Any] = {f"{prefix}_p{q}_s": percentile(values, q) for q in (50, 95, 99)}
    return {**found, f"{prefix}_max_s": max(values) if values else None}


def _duration(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


@dataclass
class Rounds:
    """What the counted rounds of one scenario produced."""

    outcome: Outcome
    rounds: int
    warmup_rounds: int
    usage: ResourceUsage
    setups: list[float] = field(default_factory=list)  # counted rounds' own (cold), or the one
    teardowns: list[float] = field(default_factory=list)
    overhead_s: float | None = None  # a no-op task's round trip on the open runner
    solo_task_s: float | None = None  # one real task at a time on the open runner
    base_pss_mb: float | None = None  # the client's PSS before the runner opened (warm only)
    lag_p99_rounds: list[float] = field(default_factory=list)  # each counted round's own
    setup_samples: list[float] = field(default_factory=list)  # opens timed before timing
    open_pss_samples: list[float] = field(default_factory=list)  # MB each open added


SOLO_PROBES = 5  # real tasks sent one at a time, to compare per-task speed across runners
STARTUP_SAMPLES = FEWEST_FOR_95  # opens timed (first pass) where start-up is compared: enough
# for a 95 % interval of the ratio of two medians (claim 12)


def solo_task(runner: Runner) -> float | None:
    """Median service time of one task run alone through the open runner: what one task
    costs under this model with nothing beside it, against which the baseline's is
    compared (per-task speed, apart from what running many at once gains)."""
    times: list[float] = []
    for _ in range(SOLO_PROBES):
        times.extend(runner.run(1).latencies)
    return median(times) if times else None


def calibrate(workload: Workload) -> float | None:
    """Measure what the ideal needs before any timing; return one task's time (None where
    the workload does not know it)."""
    return workload.task_seconds()


STEADY = 1.3  # a warm-up round slower than this times the earlier passes' median: not warm
EXTRA_WARMUPS = 3  # at most this many warm-up rounds beyond the ones asked for


@dataclass
class RoundLoop:
    """The rounds of one pass on one runner: the warm-up, then the counted rounds that
    pytest-benchmark times, each started from a collected, frozen heap."""

    benchmark: Any
    spec: ScenarioSpec
    runner: Runner
    meter: ResourceMeter
    steady_s: float | None = None
    warmups: int = 0  # warm-up rounds run; final once counting starts
    warming: bool = True
    rounds_started: int = 0
    counted: Outcome = field(default_factory=Outcome)
    lag_p99_rounds: list[float] = field(default_factory=list)
    setups: list[float] = field(default_factory=list)
    teardowns: list[float] = field(default_factory=list)
    first_round_s: float | None = None  # bounds later rounds where no task time is known
    bound: tuple[float | None, str] = (None, "")  # the next round's (bench.watchdog)

    @property
    def wanted(self) -> int:
        return 0 if self.benchmark.disabled else self.spec.warmup_rounds

    def before_round(self) -> None:
        self.rounds_started += 1
        # Every round starts from a collected heap, outside the timed region: garbage left
        # by earlier rounds otherwise triggers collections of 7-10 ms in some rounds only
        # (measured: http asyncio C=64, IQR/median 13 % -> 3 %).  Collections caused by the
        # round's own garbage still happen, and are timed.
        before = time.process_time()
        if self.rounds_started == 1:
            # Once a pass: everything back in the collector's view and collected, so that
            # cyclic garbage frozen by an earlier pass is freed.  That walks the whole heap
            # (about 55 ms for the suite's ~100,000 objects), so later rounds collect only
            # what was made since the last freeze; what was frozen stays frozen.  The
            # round starts from the same heap either way: all of it frozen, nothing young.
            gc.unfreeze()
        gc.collect()
        # Measured at 10,000 tasks (asyncio, sleep 0.1 s): collections walking the suite's
        # ~100,000 objects took 0.18 s of a 0.34 s round; frozen, 0.05 s of 0.23 s.
        gc.freeze()
        self.bound = round_bound(self.runner.workload.task_seconds(), self.spec.tasks,
                                 self.first_round_s)
        if self.warming:
            return
        if self.rounds_started == self.warmups + 1:
            self.meter.start()
        elif self.rounds_started > self.warmups + 1:  # between counted rounds: not the client's
            self.meter.leave_out(time.process_time() - before)

    def _bounded_run(self) -> Outcome:
        """The round's tasks, stopped (`Stalled`) if they take far longer than they should
        (the bound set in `before_round`, outside the timed region)."""
        start = time.perf_counter()
        with bounded(*self.bound):
            outcome = self.runner.run(self.spec.tasks)
        if self.first_round_s is None:
            self.first_round_s = time.perf_counter() - start
        return outcome

    def one_round(self) -> Outcome:
        if self.spec.timed_setup:
            self.setups.append(_duration(self.runner.open))
            try:
                outcome = self._bounded_run()
            finally:
                self.teardowns.append(_duration(self.runner.close))
        else:
            outcome = self._bounded_run()
        if not self.warming:
            self.counted.extend(outcome)
            if outcome.loop_lags:
                self.lag_p99_rounds.append(
                    percentiles(outcome.loop_lags, "lag")["lag_p99_s"])
        return outcome

    def still_cold(self, last: float | None) -> bool:
        if self.warmups < self.wanted:
            return True
        return (self.steady_s is not None and last is not None
                and last > STEADY * self.steady_s
                and self.warmups < self.wanted + EXTRA_WARMUPS)

    def warm_up(self) -> None:
        last = None
        while self.still_cold(last):
            self.before_round()
            start = time.perf_counter()
            self.one_round()
            last = time.perf_counter() - start
            self.warmups += 1
        self.warming = False


def _open_warm(loop: RoundLoop, server_pid: int | None
               ) -> tuple[float | None, list[float], list[float]]:
    """Open the runner before timing (its set-up timed); where its start-up is compared,
    open it a few more times, each timed with the memory it adds, so that start-up and
    memory compare with an interval (claim 12), not on one reading.  Returns the client's
    PSS before the open that stays (a closed subinterpreter pool does not hand all its
    memory back: counting from before the first open, 3.13's backport added 226 MB for
    two workers after six opens, against 34-54 MB an open) and those samples."""
    runner, meter = loop.runner, loop.meter
    base_pss = meter.client_pss_mb()
    loop.setups.append(_duration(runner.open))
    pin_again(loop.spec.cores, server_pid)  # workers a process outside the mask started
    setup_samples: list[float] = []
    pss_samples: list[float] = []
    if runner.samples_startup and loop.spec.pass_index == 1 and not loop.benchmark.disabled:
        setup_samples.append(loop.setups[0])
        pss_samples.append(meter.client_pss_mb() - base_pss)
        for _ in range(STARTUP_SAMPLES - 1):
            runner.close()
            base_pss = meter.client_pss_mb()
            setup_samples.append(_duration(runner.open))
            pss_samples.append(meter.client_pss_mb() - base_pss)
    meter.include(runner.outside_processes())
    return base_pss, setup_samples, pss_samples


def run_rounds(benchmark: Any, spec: ScenarioSpec, runner: Runner,
               server_pid: int | None = None, steady_s: float | None = None) -> Rounds:
    """Time every round with pytest-benchmark; keep the counted rounds' outcomes.

    The runner is warmed first: `spec.warmup_rounds` uncounted rounds, and where earlier
    passes know the scenario's steady round (`steady_s`, their median), more (at most
    EXTRA_WARMUPS) while the last warm-up round is still above STEADY times it.  httpx's
    async pool, for one, is slow for its first two rounds after it is built (measured:
    2.9 s, 2.5 s, then 1.1 s per round of 500 requests at C=50).
    """
    loop = RoundLoop(benchmark, spec, runner, ResourceMeter(server_pid), steady_s)
    base_pss: float | None = None
    setup_samples: list[float] = []
    pss_samples: list[float] = []
    if not spec.timed_setup:
        base_pss, setup_samples, pss_samples = _open_warm(loop, server_pid)
    overhead = solo = None
    try:
        # Before timing, on the open runner.  The no-op round trip once per scenario (the
        # report takes the first pass's); one task alone every pass, after the warm-up, so
        # that the report's median over the passes spreads the machine's drift over the
        # runners as the alternating rounds do.
        if not spec.timed_setup and spec.pass_index == 1:
            overhead = runner.task_overhead()
        loop.warm_up()
        if not spec.timed_setup:
            solo = solo_task(runner)
        result = benchmark.pedantic(loop.one_round, setup=loop.before_round,
                                    rounds=spec.rounds, warmup_rounds=0)
        if inspect.isawaitable(result):  # a coroutine here would mean nothing was awaited
            raise TypeError("the benchmarked call returned an awaitable; nothing was timed")
        usage = loop.meter.stop()
    except BaseException:
        # pytest-benchmark marks a benchmark as failed on Exception only; an interrupted
        # one (Ctrl-C) would otherwise be saved and shown with the rounds it had so far.
        benchmark.has_error = True
        raise
    finally:
        gc.unfreeze()
        loop.teardowns.append(_duration(runner.close))  # a no-op for cold runners
    rounds = loop.rounds_started - loop.warmups
    setups, teardowns = loop.setups, loop.teardowns
    if spec.timed_setup:  # the counted rounds' own set-ups, not the warm-up's
        setups, teardowns = setups[-rounds:], teardowns[-rounds - 1:-1]
    return Rounds(loop.counted, rounds, loop.warmups, usage, setups, teardowns, overhead, solo,
                  base_pss, loop.lag_p99_rounds, setup_samples, pss_samples)


def in_flight(spec: ScenarioSpec) -> int:
    """The most tasks a round of `spec` can have running at once: C, or fewer tasks."""
    return max(1, min(spec.concurrency, spec.tasks))


def client_used(workload: Workload, runner: str) -> str:
    """The HTTP library this runner's tasks used, or "" for a workload that makes no
    requests."""
    client_for = getattr(workload, "client_for", None)
    return "" if client_for is None else str(client_for(side_of(runner)))


def make_record(spec: ScenarioSpec, workload: Workload, runner: Runner,
                done: Rounds) -> ScenarioRecord:
    """The record of one scenario.  Raises LostTasks if any task is unaccounted for."""
    counted, rounds = done.outcome, done.rounds
    if counted.tasks != spec.tasks * rounds:
        raise LostTasks(f"{spec.tasks * rounds} tasks run but {counted.tasks} accounted for")
    if counted.latencies:
        workload.observe(min(counted.latencies))  # a faster task than calibration saw?
    cores = usable_cores()
    record = ScenarioRecord(
        workload=spec.workload, runner=runner.name, tasks=spec.tasks,
        concurrency=spec.concurrency, ok=counted.ok, failed=counted.failed,
        ideal_s=workload.ideal_seconds(spec.tasks, spec.concurrency, cores),
        claim=spec.claim, params=workload.describe(), scenario=spec.id,
        client=client_used(workload, spec.runner), server=spec.server,
        pass_index=spec.pass_index,
        start_method=runner.describe().get("start_method"),
        pool_workers=runner.describe().get("pool_workers"),
        worker_processes=runner.worker_processes(spec.concurrency, dict(spec.runner_options)),
        rounds=rounds, warmup_rounds=done.warmup_rounds, tasks_run=counted.tasks,
        failure_kinds=dict(counted.failures), failure_examples=dict(counted.examples),
        faults_injected=workload.faults_injected(),
        cores=cores, task_s=workload.task_seconds(), ideal_basis=workload.ideal_basis,
        cpu_s=done.usage.cpu_s / rounds, peak_rss_mb=done.usage.peak_rss_mb,
        ctx_switches=None if done.usage.ctx_switches is None else
        done.usage.ctx_switches / rounds,
        pss_mb=done.usage.pss_mb,
        runner_pss_mb=None if done.base_pss_mb is None else
        done.usage.pss_mb - done.base_pss_mb,
        solo_task_s=done.solo_task_s, gil_cpu_s=workload.gil_cpu_seconds(),
        server_cpu_s=None if done.usage.server_cpu_s is None else
        done.usage.server_cpu_s / rounds,
        others_cpu_s=done.usage.others_cpu_s / rounds, steal_s=done.usage.steal_s / rounds,
        others_cores=done.usage.others_cpu_s / done.usage.window_s
        if done.usage.window_s > 0 else None,
        load_avg=done.usage.load_avg,
        timed_setup=spec.timed_setup, setup_s=median(done.setups),
        setup_samples_s=done.setup_samples, open_pss_samples_mb=done.open_pss_samples,
        loop_lag_p99_rounds_s=done.lag_p99_rounds,
        teardown_s=median(done.teardowns), task_overhead_s=done.overhead_s,
        runner_details=runner.details(),
        python=platform.python_version(), gil_enabled=gil_enabled(),
        pinned_cores=spec.cores,
    )
    return dataclasses.replace(record, **percentiles(counted.latencies),
                               **percentiles(counted.waits, prefix="wait"),
                               **percentiles(counted.loop_lags, prefix="loop_lag"))


def _service_fields(schedule: Schedule, outcome: ServiceOutcome, usage: ResourceUsage,
                    slo_s: float | None) -> dict[str, Any]:
    """The record fields only a service run has: the rate, latency from arrival, the
    generator's own lateness and CPU, CPU per request."""
    summary = outcome.summary(schedule, slo_s)
    keys = ("achieved_rate", "arrival_latency_p50_s", "arrival_latency_p90_s",
            "arrival_latency_p99_s", "arrival_latency_p999_s", "late_requests",
            "generator_lateness_p99_s", "generator_cpu_s", "service_p50_s",
            "service_mean_s")
    sent = sorted(outcome.sent_latencies)
    return {**{key: summary[key] for key in keys},
            "sent_latency_p50_s": percentile(sent, 50) if sent else None,
            "sent_latency_p99_s": percentile(sent, 99) if sent else None,
            "deployment_cpu_s": outcome.deployment_cpu_s,
            "deployment_pss_mb": outcome.deployment_pss_mb,
            "backlog_growth": summary.get("backlog_growth"),
            "sustained": summary.get("sustained"),
            "offered_rate": schedule.rate, "arrivals": schedule.arrivals,
            "arrival_seed": schedule.seed if schedule.arrivals == "poisson" else None,
            "duration_s": schedule.duration_s, "slo_s": slo_s,
            "within_slo": summary.get("within_slo"),
            "cpu_per_request_s": usage.cpu_s / outcome.offered if outcome.offered else None}


def slots(concurrency: int, details: dict[str, Any]) -> dict[str, Any]:
    """The most requests served at once and what sets it: C, or a deployment's own
    workers and threads where they are fewer."""
    own = details.get("slots")
    if own is not None and own < concurrency:
        return {"slots": own, "slots_by": details.get("slots_text")}
    return {"slots": concurrency, "slots_by": f"C={concurrency}"}


def measure_service(benchmark: Any, spec: ScenarioSpec, workload: Workload,
                    server_pid: int | None = None) -> ScenarioRecord:
    """Service mode: the warm runner serves the schedule's rate uncounted for a warm-up,
    then the counted schedule, timed as one pytest-benchmark round; each request's latency
    counts from its scheduled arrival (bench.service)."""
    assert spec.rate is not None
    check_scenario(spec.workload, spec.runner, spec.concurrency, dict(spec.runner_options))
    calibrate(workload)
    schedule = Schedule(spec.rate, spec.duration_s, spec.arrivals or "constant",
                        spec.arrival_seed)
    offsets = schedule.offsets()
    runner = make_runner(spec.runner, workload, spec.concurrency, dict(spec.runner_options))
    meter = ResourceMeter(server_pid)
    with runner:
        pin_again(spec.cores, server_pid)
        meter.include(runner.outside_processes())
        base_pss = meter.client_pss_mb()
        if spec.service_warmup_s > 0:
            runner.serve(Schedule(spec.rate, spec.service_warmup_s, "constant").offsets())
        gc.collect()
        served: list[ServiceOutcome] = []
        meter.start()
        benchmark.pedantic(lambda: served.append(runner.serve(offsets)), rounds=1,
                           iterations=1, warmup_rounds=0)
        usage = meter.stop()
        details = runner.details()
    outcome = served[0]
    if outcome.ok + outcome.failed != outcome.offered:
        raise LostTasks(f"{outcome.offered} requests offered but "
                        f"{outcome.ok + outcome.failed} accounted for")
    record = ScenarioRecord(
        workload=spec.workload, runner=runner.name, tasks=outcome.offered,
        concurrency=spec.concurrency, ok=outcome.ok, failed=outcome.failed, ideal_s=None,
        claim=spec.claim, params=workload.describe(), scenario=spec.id,
        client=client_used(workload, spec.runner), server=spec.server,
        start_method=runner.describe().get("start_method"), rounds=1, warmup_rounds=0,
        worker_processes=runner.worker_processes(spec.concurrency, dict(spec.runner_options)),
        failure_kinds=dict(outcome.failures), failure_examples=dict(outcome.examples),
        faults_injected=workload.faults_injected(), cores=usable_cores(),
        cpu_s=usage.cpu_s, peak_rss_mb=usage.peak_rss_mb, pss_mb=usage.pss_mb,
        runner_pss_mb=usage.pss_mb - base_pss, server_cpu_s=usage.server_cpu_s,
        others_cpu_s=usage.others_cpu_s, steal_s=usage.steal_s,
        others_cores=usage.others_cpu_s / usage.window_s if usage.window_s > 0 else None,
        load_avg=usage.load_avg, ctx_switches=usage.ctx_switches, runner_details=details,
        python=platform.python_version(), gil_enabled=gil_enabled(),
        gil_cpu_s=workload.gil_cpu_seconds(), task_s=workload.task_seconds(),
        pinned_cores=spec.cores, **_service_fields(schedule, outcome, usage, spec.slo_s),
        **slots(spec.concurrency, details),
    )
    record = dataclasses.replace(record, **percentiles(outcome.service_times))
    benchmark.extra_info.update(record.as_dict())
    return record


def measure(benchmark: Any, spec: ScenarioSpec, workload: Workload,
            server_pid: int | None = None, steady_s: float | None = None) -> ScenarioRecord:
    """Benchmark one scenario: calibrate, run, record; the record goes into extra_info."""
    with pinned(spec.cores, server_pid):
        if spec.rate is not None:
            return measure_service(benchmark, spec, workload, server_pid)
        return _measure_batch(benchmark, spec, workload, server_pid, steady_s)


def _measure_batch(benchmark: Any, spec: ScenarioSpec, workload: Workload,
                   server_pid: int | None, steady_s: float | None) -> ScenarioRecord:
    check_scenario(spec.workload, spec.runner, in_flight(spec), dict(spec.runner_options))
    calibrate(workload)
    # At most as many workers as a round has tasks: a pool of C workers for fewer than C
    # tasks would start workers that never run one (same bound on work in flight).
    runner = make_runner(spec.runner, workload, in_flight(spec), dict(spec.runner_options))
    done = run_rounds(benchmark, spec, runner, server_pid, steady_s)
    if done.outcome.failures.get(WORKER_DIED):
        warnings.warn(f"{spec.id}: a pool worker died; {done.outcome.failures[WORKER_DIED]} "
                      "tasks counted as failed (worker_died)", RuntimeWarning, stacklevel=2)
    record = make_record(spec, workload, runner, done)
    benchmark.extra_info.update(record.as_dict())
    return record
