"""Service mode: requests arrive on a schedule, whatever the model does with them.

A closed batch hands N tasks over at once and times the batch.  A service is judged
otherwise: requests arrive at an offered rate, and each one's latency counts from the
moment it was *scheduled* to arrive, so that time a request spends queued behind a slow
or stalled model is counted, and a model that falls behind cannot hide it by making the
load generator wait (coordinated omission; wrk2 and HdrHistogram measure the same way).

- `Schedule`: the arrivals of one run, constant or Poisson (seeded), as offsets in
  seconds from the start.
- `serve_with(executor, ...)`: the arrivals submitted to a `concurrent.futures` executor
  (the pool runners, and the sequential runner's one thread), each at its time.
- `ServiceOutcome`: every request counted as ok or failed, each ok request's latency from
  its scheduled arrival and its service time, and the load generator's own lateness (how
  long after its scheduled time it was handed over), so that a late generator shows.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from bench.outcome import OTHER, WORKER_DIED, TaskResult, describe, run_task
from bench.stats import median, percentile
from workloads.base import Workload

ARRIVALS = ("constant", "poisson")
LEAD_S = 0.02  # the first arrival is this far after the start: the generator is ready
LATE_S = 0.005  # a request handed over this long after its scheduled time was late
# The most requests per second a run may offer.  Measured here with requests that do
# nothing (2 s each): at 6,400/s the generator handed 0.5-5.8 % of them over more than
# LATE_S late (asyncio, threads, processes); at 12,800/s 2-22 %, and processes served only
# 8,785/s.  Above this, the generator rather than the model would decide the figures.
MAX_RATE = 6400.0
DRAIN_TIMEOUT_S = 120.0  # after the last arrival, at most this long for the last result


KEPT = 0.99  # achieved / offered at or above this: the rate was served
# --rate auto: offered rates rising by a factor of sqrt(2); each model stops at the first
# it does not keep (its saturation lies between that one and the one before).
AUTO_RATES = tuple(round(25 * 2 ** (step / 2)) for step in range(17))  # 25 ... 6400


def kept(offered: float, achieved: float | None, p99_s: float | None,
         slo_s: float | None) -> bool:
    """Whether a model kept an offered rate: served at least KEPT of it, and its p99 from
    arrival within the SLO where one was set."""
    if achieved is None or achieved < KEPT * offered:
        return False
    return slo_s is None or (p99_s is not None and p99_s <= slo_s)


def bracket(points: list[tuple[float, bool]]) -> tuple[float | None, float | None]:
    """(the highest rate kept, the lowest rate above it not kept) from (rate, kept) pairs:
    the saturation lies between them (None where the sweep did not reach either)."""
    held = [rate for rate, was_kept in points if was_kept]
    best = max(held) if held else None
    above = [rate for rate, was_kept in points if not was_kept and (best is None or rate > best)]
    return best, (min(above) if above else None)


class Saturation:
    """Per model (a scenario without its rate), the lowest rate it did not keep so far: a
    rate sweep skips the rates above it."""

    def __init__(self) -> None:
        self.not_kept: dict[str, float] = {}

    def above(self, model: str, rate: float) -> float | None:
        """The lower rate this model did not keep, if `rate` is above one."""
        found = self.not_kept.get(model)
        return found if found is not None and rate > found else None

    def add(self, model: str, rate: float, was_kept: bool) -> None:
        if not was_kept:
            self.not_kept[model] = min(rate, self.not_kept.get(model, rate))


class ServiceError(ValueError):
    """A schedule that cannot be kept; the message is one line for the user."""


@dataclass(frozen=True)
class Schedule:
    """When each request of one run arrives."""

    rate: float  # requests per second offered
    duration_s: float
    arrivals: str = "constant"
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ServiceError(f"--rate must be a positive number of requests per second, "
                               f"got {self.rate}")
        if self.rate > MAX_RATE:
            raise ServiceError(f"--rate {self.rate:g}: one load generator keeps at most "
                               f"{MAX_RATE:g} requests per second here; lower --rate")
        if not self.duration_s > 0:
            raise ServiceError(f"--duration-s must be positive, got {self.duration_s}")
        if self.arrivals not in ARRIVALS:
            raise ServiceError(f"--arrivals must be one of {', '.join(ARRIVALS)}, "
                               f"got {self.arrivals!r}")

    def offsets(self) -> list[float]:
        """Seconds from the start at which each request arrives (the same every call)."""
        if self.arrivals == "constant":
            return [i / self.rate for i in range(max(1, round(self.rate * self.duration_s)))]
        draw, at = random.Random(self.seed), 0.0
        found: list[float] = []
        while True:
            at += draw.expovariate(self.rate)
            if at >= self.duration_s:
                return found or [0.0]
            found.append(at)


@dataclass
class ServiceOutcome:
    """What one run of a schedule produced, every request accounted for."""

    offered: int = 0
    ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # scheduled arrival to result
    service_times: list[float] = field(default_factory=list)  # first instruction to result
    lateness: list[float] = field(default_factory=list)  # handed over less scheduled
    span_s: float = 0.0  # first scheduled arrival to the last result back
    # The generator's own CPU: its thread's, where it has one of its own (pools); None
    # where it shares a thread with the model (an event loop's own schedule).
    generator_cpu_s: float | None = None

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def add(self, result: TaskResult, latency: float) -> None:
        if result.failure is None:
            self.ok += 1
            self.latencies.append(latency)
            self.service_times.append(result.seconds)
        else:
            self.fail(result.failure, result.detail)

    def fail(self, kind: str, detail: str | None = None) -> None:
        self.failures[kind] += 1
        if detail and kind not in self.examples:
            self.examples[kind] = detail

    def achieved_rate(self, schedule: Schedule) -> float | None:
        """Ok requests per second of the window they were served in: from the first
        arrival to the last result, less the fastest request's latency (what even an
        idle model adds after the last arrival) and plus one gap between arrivals.  A
        model that keeps up gets the offered rate whatever its latency; one that falls
        behind finishes late, and gets what it served per second."""
        if not self.latencies:
            return None
        window = self.span_s - min(self.latencies) + 1 / schedule.rate
        return self.ok / window if window > 0 else None

    def summary(self, schedule: Schedule, slo_s: float | None = None) -> dict[str, Any]:
        """The figures a service is judged by, for the record."""
        latencies = sorted(self.latencies)
        found: dict[str, Any] = {
            "offered_rate": schedule.rate, "arrivals": schedule.arrivals,
            "duration_s": schedule.duration_s, "requests": self.offered,
            "achieved_rate": self.achieved_rate(schedule),
            "late_requests": sum(1 for late in self.lateness if late > LATE_S),
            "generator_lateness_p99_s": percentile(self.lateness, 99),
            "generator_cpu_s": self.generator_cpu_s,
        }
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
            found[f"arrival_latency_{name}_s"] = percentile(latencies, q)
        found["service_p50_s"] = (median(self.service_times) if self.service_times else None)
        if slo_s is not None:
            found["slo_s"] = slo_s
            found["within_slo"] = sum(1 for latency in latencies if latency <= slo_s)
        return found


def _wait_until(due: float) -> None:
    """Sleep until `due` (perf_counter).  No spinning: a spinning generator would hold
    the GIL against the threads it feeds; the sleep's overshoot (tens of microseconds on
    Linux) is recorded as the generator's lateness instead."""
    left = due - time.perf_counter()
    if left > 0:
        time.sleep(left)


def serve_with(executor: Executor, workload: Workload, offsets: list[float],
               submit: Callable[[Executor, Workload], Future[TaskResult]] | None = None
               ) -> ServiceOutcome:
    """Hand each request to `executor` at its scheduled time; its latency is from that
    time to its checked result back in the client, whatever the executor did meanwhile."""
    send = submit or (lambda pool, job: pool.submit(run_task, job))
    outcome = ServiceOutcome(offered=len(offsets))
    back: dict[Future[TaskResult], float] = {}

    def returned(future: Future[TaskResult]) -> None:
        back[future] = time.perf_counter()

    start = time.perf_counter() + LEAD_S
    cpu_before = time.thread_time()
    sent: list[tuple[Future[TaskResult], float]] = []
    for index, offset in enumerate(offsets):
        due = start + offset
        _wait_until(due)
        outcome.lateness.append(time.perf_counter() - due)
        future = send(executor, workload.for_task(index))
        future.add_done_callback(returned)
        sent.append((future, due))
    outcome.generator_cpu_s = time.thread_time() - cpu_before
    wait([future for future, _ in sent], timeout=DRAIN_TIMEOUT_S)
    last = start
    for future, due in sent:
        if not future.done():
            outcome.fail("timeout", f"no result {DRAIN_TIMEOUT_S:g} s after the last arrival")
            future.cancel()
            continue
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            outcome.fail(WORKER_DIED, describe(exc))
            continue
        except Exception as exc:
            outcome.fail(OTHER, describe(exc))
            continue
        finished = back.get(future, time.perf_counter())
        last = max(last, finished)
        outcome.add(result, finished - due)
    outcome.span_s = last - start
    return outcome
