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

import bisect
import math
import random
import statistics
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
GENERATOR_LATE = 0.01  # more than this share sent late: the generator fell behind (⚠)


def generator_late(late_requests: Any, requests: Any) -> bool:
    """Whether the load generator itself fell behind in a run: more than GENERATOR_LATE
    of its requests sent more than LATE_S after their time.  Such a run offered less than
    the rate asked, and decides nothing."""
    try:
        late, count = float(late_requests), float(requests)
    except (TypeError, ValueError):
        return False
    return late == late and count > 0 and late > GENERATOR_LATE * count
# --rate auto: offered rates doubling; each model stops at the first it does not keep (its
# saturation lies between that one and the one before), and that bracket is then bisected
# REFINE_STEPS times (a factor of 2 to 1.09).
AUTO_RATES = tuple(25 * 2 ** step for step in range(9))  # 25 ... 6400


P99_FROM = 1000  # ok requests from which a p99 is a p99 (and printed as one)
TAIL = 0.01  # the share of requests a p99 lets past it


def exceedances_allowed(requests: int) -> int:
    """The most requests over the SLO that a run of `requests` may show while its true
    p99 is within the SLO: the 95th percentile of Binomial(requests, TAIL).  With 50
    requests, 2: one slow request among 50 is no evidence of a p99 over the SLO."""
    total, k = 0.0, 0
    while True:
        total += math.comb(requests, k) * TAIL ** k * (1 - TAIL) ** (requests - k)
        if total >= 0.95 or k >= requests:
            return k
        k += 1


def tail_within(p99_s: float | None, slo_s: float, ok: int | None = None,
                within: int | None = None) -> bool:
    """Whether the p99 from arrival was within the SLO.  From P99_FROM ok requests on, the
    p99 itself decides.  With fewer, the p99 is (nearly) the largest latency, which one
    slow request decides; then the requests over the SLO decide: within unless more of
    them than `exceedances_allowed`, i.e. unless they show the p99 over it."""
    if ok is not None and within is not None and 0 < ok < P99_FROM:
        return ok - within <= exceedances_allowed(ok)
    return p99_s is not None and p99_s <= slo_s


def kept(offered: float, achieved: float | None, p99_s: float | None,
         slo_s: float | None, sustained: bool | None = None,
         ok_share: float | None = None, ok: int | None = None,
         within: int | None = None) -> bool:
    """Whether a model kept an offered rate: its backlog did not grow (`sustained`, see
    `Backlog`), at least KEPT of the requests were served ok, and its p99 from arrival was
    within the SLO where one was set (`tail_within`, from the `ok` requests of which
    `within` met it).  A record made before backlogs were recorded is judged by its
    achieved rate: at least KEPT of the offered."""
    if sustained is not None:
        if not sustained or ok_share is None or ok_share < KEPT:
            return False
    elif achieved is None or achieved < KEPT * offered:
        return False
    return slo_s is None or tail_within(p99_s, slo_s, ok, within)


def bracket(points: list[tuple[float, bool]]) -> tuple[float | None, float | None]:
    """(the highest rate kept below the saturation, the saturation) from (rate, kept)
    pairs: the saturation is the lowest rate not kept, wherever a higher rate was kept
    (None where the sweep did not reach either)."""
    lost = [rate for rate, was_kept in points if not was_kept]
    above = min(lost) if lost else None
    held = [rate for rate, was_kept in points if was_kept and (above is None or rate < above)]
    return (max(held) if held else None), above


def kept_above(points: list[tuple[float, bool]]) -> list[float]:
    """Rates kept above the saturation (a model that failed a lower rate than it kept: a
    bad moment or a bistable server; the lower failure decides, and both are shown)."""
    _, above = bracket(points)
    return sorted(rate for rate, was_kept in points if was_kept and above is not None
                  and rate > above)


REFINE_STEPS = 3  # --rate auto: bisections of each model's bracket after the sweep
REFINED = 1.10  # a bracket this narrow (not kept / kept) is not bisected further


class Saturation:
    """Per model (a scenario without its rate), what it kept so far: the sweep skips the
    rates above the lowest one whose load it did not serve (throughput: past the SLO the
    sweep still learns how much a model serves), and then bisects the bracket that
    decides (`refine`): the one under the SLO where one was set."""

    def __init__(self) -> None:
        self.not_kept: dict[str, float] = {}
        self.points: dict[str, list[tuple[float, bool]]] = {}

    def above(self, model: str, rate: float) -> float | None:
        """The lower rate this model did not keep, if `rate` is above one."""
        found = self.not_kept.get(model)
        return found if found is not None and rate > found else None

    def add(self, model: str, rate: float, was_kept: bool,
            within_slo: bool | None = None) -> None:
        """A rate measured: whether its load was served, and whether it was kept within
        the SLO too (None: no SLO)."""
        if not was_kept:
            self.not_kept[model] = min(rate, self.not_kept.get(model, rate))
        self.points.setdefault(model, []).append(
            (rate, was_kept if within_slo is None else was_kept and within_slo))

    def refine(self, model: str) -> tuple[float | None, str]:
        """The next rate to measure inside this model's bracket (the geometric middle of
        the highest rate kept below its saturation and the saturation), or None and why
        not."""
        below, above = bracket(self.points.get(model, []))
        if above is None or below is None:
            return None, ("no bracket to refine: the sweep found no rate it kept and none "
                          "above it that it did not")
        if above / below <= REFINED:
            return None, f"bracket {below:g}-{above:g} is within {REFINED - 1:.0%} already"
        return float(round(math.sqrt(above * below))), ""


SAMPLES = 40  # instants across the schedule at which the backlog is read
GROWTH_SHARE = round(1 - KEPT, 6)  # the backlog may grow by this share of the requests
GROWTH_NOISE = 2.0  # plus this many SDs of its own wobble about its trend, plus one request


@dataclass(frozen=True)
class Backlog:
    """Requests arrived and not yet returned, across the schedule: its growth along a
    least-squares line, and whether that growth is within what a model keeping up shows."""

    growth: float  # requests: the line's rise from the schedule's start to its end
    wobble: float  # SD of the backlog about the line (a queue's own ups and downs)
    requests: int

    @property
    def tolerance(self) -> float:
        return GROWTH_SHARE * self.requests + GROWTH_NOISE * self.wobble + 1

    @property
    def sustained(self) -> bool:
        return self.growth <= self.tolerance


def backlog_growth(arrived: list[float], returned: list[float], duration_s: float) -> Backlog:
    """The backlog (arrived by t less returned by t) at SAMPLES instants of the schedule
    from the first result on, and the growth of its least-squares line over them.  A model
    that keeps up holds a backlog that wobbles about a level (its requests in service, and
    a queue that comes and goes); one past its capacity holds one that grows with every
    request.  With constant arrivals the rule tells 0.9 from 1.1 of a server's capacity at
    any size; with Poisson arrivals it needs about a thousand requests (tests/test_service
    checks both on a simulated server)."""
    arrivals, returns = sorted(arrived), sorted(returned)
    # From the first result on: until then the backlog only fills the model's slots, which
    # any model does, kept or not.
    begin = min(returns[0], duration_s / 2)
    times = [begin + (duration_s - begin) * (k + 0.5) / SAMPLES for k in range(SAMPLES)]
    counts = [bisect.bisect_right(arrivals, t) - bisect.bisect_right(returns, t)
              for t in times]
    mean_t, mean_n = sum(times) / SAMPLES, sum(counts) / SAMPLES
    spread = sum((t - mean_t) ** 2 for t in times)
    slope = sum((t - mean_t) * (n - mean_n) for t, n in zip(times, counts, strict=True)) / spread
    residuals = [n - mean_n - slope * (t - mean_t) for t, n in zip(times, counts, strict=True)]
    wobble = math.sqrt(sum(r * r for r in residuals) / SAMPLES)
    return Backlog(slope * (duration_s - begin), wobble, len(arrived))


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
    # Every request's scheduled arrival and the time its result came back (inf: never),
    # in seconds from the start: the backlog over the run, for `sustained`.
    arrived: list[float] = field(default_factory=list)
    returned: list[float] = field(default_factory=list)
    span_s: float = 0.0  # first scheduled arrival to the last result back
    # The generator's own CPU: its thread's, where it has one of its own (pools); None
    # where it shares a thread with the model (an event loop's own schedule).
    generator_cpu_s: float | None = None
    # Real deployments (bench.runners.apps): each ok request's latency from the moment its
    # headers went on the wire (beside the one from its scheduled send), and the
    # deployment's own CPU over the run.
    sent_latencies: list[float] = field(default_factory=list)
    deployment_cpu_s: float | None = None
    deployment_pss_mb: float | None = None  # every process of it, when the run ended

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def add(self, result: TaskResult, latency: float, arrived: float | None = None) -> None:
        if arrived is not None:
            self.arrived.append(arrived)
            self.returned.append(arrived + latency)
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

    def backlog(self, duration_s: float) -> Backlog | None:
        """How the requests waiting or in service grew across the schedule (None where the
        run did not record arrivals and returns)."""
        if not self.arrived:
            return None
        return backlog_growth(self.arrived, self.returned, duration_s)

    def achieved_rate(self, schedule: Schedule) -> float | None:
        """Ok requests per second served in steady state: the offered rate times the share
        of requests served ok, less the share left waiting by the backlog's growth over
        the schedule.  A model that keeps up gets the offered rate whatever its latency
        and whatever the realised number of Poisson arrivals; one that falls behind by a
        growing queue gets what it served per second.  A run that recorded no backlog
        (older records) divides the ok requests by the span they were served in."""
        if not self.latencies:
            return None
        grown = self.backlog(schedule.duration_s)
        if grown is not None:
            share = self.ok / self.offered if self.offered else 0.0
            return schedule.rate * share * (1 - max(0.0, grown.growth) / max(1, self.offered))
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
        grown = self.backlog(schedule.duration_s)
        if grown is not None:
            found["backlog_growth"] = grown.growth
            found["sustained"] = grown.sustained
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
            found[f"arrival_latency_{name}_s"] = percentile(latencies, q)
        found["service_p50_s"] = (median(self.service_times) if self.service_times else None)
        found["service_mean_s"] = (statistics.fmean(self.service_times) if self.service_times
                                   else None)
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
        try:
            future = send(executor, workload.for_task(index))
        except BrokenProcessPool as exc:  # a worker died: the pool refuses every later request
            refused: Future[TaskResult] = Future()
            refused.set_exception(exc)
            future = refused
        future.add_done_callback(returned)
        sent.append((future, due))
    outcome.generator_cpu_s = time.thread_time() - cpu_before
    wait([future for future, _ in sent], timeout=DRAIN_TIMEOUT_S)
    last = start
    for future, due in sent:
        if not future.done():
            outcome.arrived.append(due - start)
            outcome.returned.append(math.inf)
            outcome.fail("timeout", f"no result {DRAIN_TIMEOUT_S:g} s after the last arrival")
            future.cancel()
            continue
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            outcome.arrived.append(due - start)
            outcome.returned.append(back.get(future, time.perf_counter()) - start)
            outcome.fail(WORKER_DIED, describe(exc))
            continue
        except Exception as exc:
            outcome.arrived.append(due - start)
            outcome.returned.append(back.get(future, time.perf_counter()) - start)
            outcome.fail(OTHER, describe(exc))
            continue
        finished = back.get(future, time.perf_counter())
        last = max(last, finished)
        outcome.add(result, finished - due, due - start)
    outcome.span_s = last - start
    return outcome
