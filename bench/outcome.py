"""What one round of a scenario produced: two clocks per task and an account of every task.

`run_task` and `arun_task` wrap one call of a workload's twin.  They time it, check
its result and turn any exception into a failure kind, so that a task can never
vanish: it is counted as ok or as failed, whatever happens inside it.

Each successful task is timed by two clocks, the same for every runner:
- its *service time* (`latencies`): what the task costs once it runs, from its first
  instruction to its checked result, wherever it runs;
- its caller's *wait* (`waits`): from the moment the round hands the task to the runner
  (all of a round's tasks are handed over when the round starts) until its checked result
  is back in the client.  This includes the queue of a pool, the semaphore of an event
  loop, the trip to a worker process and back: what a caller of the model sees.
`RoundClock` is the caller's clock of one round.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from workloads.base import TaskFailed, Workload

OTHER = "other"
WORKER_DIED = "worker_died"  # a pool worker died while it held the task
DETAIL_CHARS = 200  # of an exception's text kept as a failure kind's example


@dataclass(frozen=True)
class TaskResult:
    seconds: float
    failure: str | None = None  # None means the task succeeded
    detail: str | None = None  # the exception's type and text, for a failed task


def _failure_kind(exc: Exception) -> str:
    return exc.kind if isinstance(exc, TaskFailed) else OTHER


def describe(exc: BaseException) -> str:
    """'RuntimeError: parser exploded': what a reader needs to know why a task failed."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    found = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return found if len(found) <= DETAIL_CHARS else found[:DETAIL_CHARS - 3] + "..."


def _failed(start: float, exc: Exception) -> TaskResult:
    return TaskResult(time.perf_counter() - start, _failure_kind(exc), describe(exc))


def run_task(workload: Workload) -> TaskResult:
    """Run the sync twin once; module level so that process pools can pickle it."""
    start = time.perf_counter()
    try:
        workload.check(workload.call())
    except Exception as exc:
        return _failed(start, exc)
    return TaskResult(time.perf_counter() - start)


async def arun_task(workload: Workload, call: Callable[[], Awaitable[object]]) -> TaskResult:
    """Await one call of an async twin, with the same accounting as `run_task`."""
    start = time.perf_counter()
    try:
        workload.check(await call())
    except Exception as exc:
        return _failed(start, exc)
    return TaskResult(time.perf_counter() - start)


class RoundClock:
    """The caller's clock of one round: started when the round hands its tasks over."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self._back: dict[Future[Any], float] = {}

    def since(self) -> float:
        """Seconds since the hand-over: a task whose result is back now waited this long."""
        return time.perf_counter() - self.start

    def watch(self, future: Future[Any]) -> Future[Any]:
        """Note when `future`'s result reaches this process (its done callback runs here,
        in the pool's result thread, as soon as the result is set)."""
        future.add_done_callback(self._note)
        return future

    def _note(self, future: Future[Any]) -> None:
        self._back[future] = self.since()

    def waited(self, future: Future[Any]) -> float:
        """The caller's wait for a finished, watched future."""
        return self._back.get(future, self.since())


@dataclass
class Outcome:
    """Per-task service times and caller's waits of successful tasks, and ok/failed counts
    by kind."""

    latencies: list[float] = field(default_factory=list)  # service time
    ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    loop_lags: list[float] = field(default_factory=list)  # event-loop runners only
    waits: list[float] = field(default_factory=list)  # the caller's wait
    examples: dict[str, str] = field(default_factory=dict)  # each kind's first exception

    @classmethod
    def from_results(cls, results: Iterable[TaskResult],
                     clock: RoundClock | None = None) -> Outcome:
        """From results produced one after another (e.g. a generator that runs each task
        when asked): each task's caller's wait is read on `clock` as its result arrives.
        Without a clock, the round starts when the first result is asked for."""
        clock = clock or RoundClock()
        outcome = cls()
        for result in results:
            outcome.add(result, clock.since())
        return outcome

    def add(self, result: TaskResult, waited: float) -> None:
        if result.failure is None:
            self.ok += 1
            self.latencies.append(result.seconds)
            self.waits.append(waited)
        else:
            self.fail(result.failure, 1, result.detail)

    def fail(self, kind: str, count: int = 1, detail: str | None = None) -> None:
        """Count failed tasks (also those that failed before they could report, e.g. on a
        dead worker); the first text seen for a kind is kept as its example."""
        self.failures[kind] += count
        if detail and kind not in self.examples:
            self.examples[kind] = detail

    def extend(self, other: Outcome) -> None:
        self.latencies.extend(other.latencies)
        self.ok += other.ok
        self.failures.update(other.failures)
        self.loop_lags.extend(other.loop_lags)
        self.waits.extend(other.waits)
        for kind, detail in other.examples.items():
            self.examples.setdefault(kind, detail)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def tasks(self) -> int:
        return self.ok + self.failed
