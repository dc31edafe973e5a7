"""What one round of a scenario produced: latencies and an account of every task.

`run_task` and `arun_task` wrap one call of a workload's twin.  They time it, check
its result and turn any exception into a failure kind, so that a task can never
vanish: it is counted as ok or as failed, whatever happens inside it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from workloads.base import TaskFailed, Workload

OTHER = "other"


@dataclass(frozen=True)
class TaskResult:
    seconds: float
    failure: str | None = None  # None means the task succeeded


def _failure_kind(exc: Exception) -> str:
    return exc.kind if isinstance(exc, TaskFailed) else OTHER


def run_task(workload: Workload) -> TaskResult:
    """Run the sync twin once; module level so that process pools can pickle it."""
    start = time.perf_counter()
    try:
        workload.check(workload.call())
    except Exception as exc:
        return TaskResult(time.perf_counter() - start, _failure_kind(exc))
    return TaskResult(time.perf_counter() - start)


async def arun_task(workload: Workload, call: Callable[[], Awaitable[object]]) -> TaskResult:
    """Await one call of an async twin, with the same accounting as `run_task`."""
    start = time.perf_counter()
    try:
        workload.check(await call())
    except Exception as exc:
        return TaskResult(time.perf_counter() - start, _failure_kind(exc))
    return TaskResult(time.perf_counter() - start)


@dataclass
class Outcome:
    """Per-task latencies of successful tasks, and ok/failed counts by kind."""

    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    loop_lags: list[float] = field(default_factory=list)  # event-loop runners only

    @classmethod
    def from_results(cls, results: Iterable[TaskResult]) -> Outcome:
        outcome = cls()
        for result in results:
            outcome.add(result)
        return outcome

    def add(self, result: TaskResult) -> None:
        if result.failure is None:
            self.ok += 1
            self.latencies.append(result.seconds)
        else:
            self.failures[result.failure] += 1

    def fail(self, kind: str, count: int = 1) -> None:
        """Count tasks that failed before they could report (e.g. a dead worker)."""
        self.failures[kind] += count

    def extend(self, other: Outcome) -> None:
        self.latencies.extend(other.latencies)
        self.ok += other.ok
        self.failures.update(other.failures)
        self.loop_lags.extend(other.loop_lags)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def tasks(self) -> int:
        return self.ok + self.failed
