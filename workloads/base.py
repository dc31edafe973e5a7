"""What every workload is: one job written twice, sized by its own knobs.

A workload is a small frozen dataclass.  Its sync twin (`call`) runs under the
sequential, thread and process runners; its async twin (`acall`) runs under asyncio.
Both do the same work and return the same result, which `check` verifies, so a wrong
answer is counted as a failed task instead of passing as a fast one.

Instances are pickled to process-pool workers, so every subclass must be a
module-level class whose fields are plain values.
"""

from __future__ import annotations

import functools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ClassVar

# Runs a picklable function with its arguments in a process pool, from the event loop.
Offload = Callable[..., Awaitable[object]]


class TaskFailed(Exception):
    """A task failed in a way both twins name alike (status, timeout, connection)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class WrongResult(TaskFailed):
    """A task finished but returned something other than its twin's result."""

    def __init__(self, detail: str) -> None:
        super().__init__("wrong_result", detail)


CALIBRATION_CALLS = 5


@functools.cache
def best_seconds(workload: Workload) -> float:
    """Fastest of a few calls of `workload.call` in this process, after one that warms caches.

    Cached by the workload's value (workloads are frozen dataclasses), so every scenario
    of a run that uses the same job is measured against the same ideal, taken once and
    outside every timing.
    """
    workload.call()
    samples = []
    for _ in range(CALIBRATION_CALLS):
        start = time.perf_counter()
        workload.call()
        samples.append(time.perf_counter() - start)
    return min(samples)


class Workload(ABC):
    """One job with a sync and an async twin; subclasses are frozen dataclasses."""

    name: ClassVar[str]

    @abstractmethod
    def call(self) -> object:
        """Run one task synchronously and return its result."""

    @abstractmethod
    async def acall(self, client: Any) -> object:
        """Run one task on the event loop with the client from `async_client`."""

    def for_task(self, index: int) -> Workload:
        """The workload as task `index` of a round runs it (the same, unless it injects faults)."""
        return self

    async def ahybrid(self, client: Any, offload: Offload) -> object:
        """The hybrid twin: the loop awaits, a process pool computes.

        By default the whole sync twin goes to the pool; a workload that mixes I/O and
        CPU overrides this to await its I/O on the loop and offload only the CPU part.
        """
        return await offload(self.call)

    @abstractmethod
    def check(self, result: object) -> None:
        """Raise WrongResult unless `result` is what one task must return."""

    @abstractmethod
    def task_seconds(self) -> float:
        """How long one task must take at the least, on an otherwise idle machine."""

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float:
        """The best wall time N tasks can take at concurrency C on K cores.

        Waiting overlaps freely, so I/O jobs need ceil(N / C) task times; CPU jobs
        override this to use min(C, K) instead of C.
        """
        return math.ceil(tasks / concurrency) * self.task_seconds()

    @asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[Any]:
        """Whatever the async twin shares across tasks (none by default)."""
        yield None

    def close_sync_clients(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release clients that sync twins opened in this process."""

    def describe(self) -> dict[str, object]:
        """The sizing knobs, for the record of a run."""
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}


class CpuBoundWorkload(Workload):
    """A job that computes and never waits: it overlaps only on separate cores."""

    def task_seconds(self) -> float:
        return best_seconds(self)

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float:
        return math.ceil(tasks / min(concurrency, cores)) * self.task_seconds()
