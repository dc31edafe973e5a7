"""Two claims are about behaviour and cost rather than throughput; these measure them.

`FailureIsolation`: N requests gathered on one loop, one of which fails early.  What
does the caller get back, and what happens to the others, under
`gather(return_exceptions=True)`, plain `gather` and `TaskGroup`?  Every task ends in
exactly one bucket: delivered ok, delivered failed, finished but never seen by the
caller, or cancelled.

`InflightProbe`: start K tasks that all park until released, under asyncio, threads
and processes.  The timed part is starting them until every one is running; the
memory they hold while parked is measured apart, in fresh interpreters.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections import Counter
from typing import Any, ClassVar

import aiohttp
import psutil

from workloads.http import HttpWorkload

ISOLATION_MODES = ("gather_return_exceptions", "gather", "taskgroup")
START_TIMEOUT_S = 120.0


class FailureIsolation:
    """One round: N requests, task 0 fails fast (HTTP 500), the rest are slow and fine."""

    def __init__(self, mode: str, base_url: str, tasks: int, delay_ms: int) -> None:
        if mode not in ISOLATION_MODES:
            raise ValueError(f"mode must be one of {', '.join(ISOLATION_MODES)}")
        self.mode = mode
        self.tasks = tasks
        self.good = HttpWorkload(base_url=base_url, delay_ms=delay_ms, size=64)
        self.bad = HttpWorkload(base_url=base_url, delay_ms=0, size=64, status=500)

    def run(self) -> Counter[str]:
        return asyncio.run(self._run())

    async def _run(self) -> Counter[str]:
        buckets: Counter[str] = Counter()
        async with self.good.async_client(self.tasks) as session:
            calls = [self.bad, *[self.good] * (self.tasks - 1)]
            if self.mode == "taskgroup":
                await self._taskgroup(session, calls, buckets)
            else:
                await self._gather(session, calls, buckets)
        return buckets

    async def _gather(self, session: aiohttp.ClientSession, calls: list[HttpWorkload],
                      buckets: Counter[str]) -> None:
        tasks = [asyncio.create_task(call.acall(session)) for call in calls]
        try:
            results = await asyncio.gather(*tasks,
                                           return_exceptions=self.mode != "gather")
        except Exception as delivered:
            # The caller got the first exception and nothing else; the others go on.
            buckets["delivered_failed"] += 1
            await asyncio.wait(tasks)
            for task in tasks:
                if task.cancelled():
                    buckets["cancelled"] += 1
                elif task.exception() is delivered:
                    continue
                elif task.exception() is not None:
                    buckets["failed_unseen"] += 1
                else:
                    buckets["finished_unseen"] += 1
            return
        for result in results:
            buckets["delivered_failed" if isinstance(result, BaseException)
                    else "delivered_ok"] += 1

    async def _taskgroup(self, session: aiohttp.ClientSession, calls: list[HttpWorkload],
                         buckets: Counter[str]) -> None:
        tasks: list[asyncio.Task[int]] = []
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(call.acall(session)) for call in calls]
        except* Exception as errors:
            buckets["delivered_failed"] += len(errors.exceptions)
        for task in tasks:
            if task.cancelled():
                buckets["cancelled"] += 1
            elif task.exception() is None:
                buckets["delivered_ok"] += 1


class InflightProbe(ABC):
    """Start K parked tasks of one model; release them; report what they held."""

    runner: ClassVar[str]

    @abstractmethod
    def start(self, count: int) -> None:
        """Start `count` tasks and return once every one of them is running."""

    @abstractmethod
    def release(self) -> None:
        """Let every task finish, and wait for them."""

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process()]


def pss_bytes(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        info = process.memory_full_info()
        total += int(getattr(info, "pss", info.uss))
    return total


class AsyncioProbe(InflightProbe):
    runner = "asyncio"

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, count: int) -> None:
        self._loop.run_until_complete(self._start(count))

    async def _start(self, count: int) -> None:
        release = self._release = asyncio.Event()
        started = 0
        all_started = asyncio.Event()

        async def parked() -> None:
            nonlocal started
            started += 1
            if started == count:
                all_started.set()
            await release.wait()

        self._tasks = [asyncio.create_task(parked()) for _ in range(count)]
        await all_started.wait()

    def release(self) -> None:
        if self._release is not None:
            self._release.set()
            self._loop.run_until_complete(asyncio.gather(*self._tasks))
        self._tasks = []
        self._loop.close()


class ThreadProbe(InflightProbe):
    runner = "threads"

    def __init__(self) -> None:
        self._release = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        started = threading.Semaphore(0)

        def parked() -> None:
            started.release()
            self._release.wait()

        self._threads = [threading.Thread(target=parked, daemon=True) for _ in range(count)]
        for thread in self._threads:
            thread.start()
        for _ in range(count):
            if not started.acquire(timeout=START_TIMEOUT_S):
                raise RuntimeError("threads did not start in time")

    def release(self) -> None:
        self._release.set()
        for thread in self._threads:
            thread.join()
        self._threads = []


def _parked_process(started: Any, release: Any) -> None:
    started.release()
    release.wait()


class ProcessProbe(InflightProbe):
    runner = "processes"

    def __init__(self, start_method: str | None = None) -> None:
        self._context = multiprocessing.get_context(start_method)
        self._release = self._context.Event()
        self._children: list[Any] = []

    def start(self, count: int) -> None:
        started = self._context.Semaphore(0)
        self._children = [self._context.Process(target=_parked_process,  # type: ignore[attr-defined]
                                                args=(started, self._release))
                          for _ in range(count)]
        for child in self._children:
            child.start()
        for _ in range(count):
            if not started.acquire(timeout=START_TIMEOUT_S):
                raise RuntimeError("processes did not start in time")

    def release(self) -> None:
        self._release.set()
        for child in self._children:
            child.join()
        self._children = []

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(), *(psutil.Process(child.pid) for child in self._children)]


PROBES: dict[str, type[InflightProbe]] = {
    probe.runner: probe for probe in (AsyncioProbe, ThreadProbe, ProcessProbe)
}


def memory_per_task_kb(runner: str, count: int) -> float:
    """PSS per parked task, measured in this process, which must be fresh.

    In a process that has already run tasks, Python reuses the memory they freed
    and a second batch costs nothing new; threads' stacks are unmapped and come back.
    Only a fresh interpreter measures both alike, so this runs in a child process.
    """
    probe = PROBES[runner]()
    baseline = pss_bytes(probe.processes())
    probe.start(count)
    try:
        return (pss_bytes(probe.processes()) - baseline) / count / 1024
    finally:
        probe.release()


def measure_inflight(benchmark: Any, runner: str, count: int, rounds: int,
                     memory_samples: int = 5) -> list[float]:
    """Benchmark starting `count` parked tasks; return the PSS per task in KiB from each of
    `memory_samples` fresh interpreters, smallest first."""
    probe: InflightProbe | None = None

    def setup() -> None:
        nonlocal probe
        probe = PROBES[runner]()

    def start() -> None:
        assert probe is not None
        probe.start(count)

    def teardown() -> None:
        assert probe is not None
        probe.release()

    benchmark.pedantic(start, setup=setup, teardown=teardown, rounds=rounds, warmup_rounds=1)
    if benchmark.disabled:  # pytest-benchmark skips teardown when disabled
        teardown()
    return sorted(memory_in_fresh_interpreter(runner, count) for _ in range(memory_samples))


def memory_in_fresh_interpreter(runner: str, count: int) -> float:
    command = [sys.executable, "-m", "bench.experiments", runner, str(count)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S,
                            check=True)
    return float(result.stdout.strip())


if __name__ == "__main__":
    print(memory_per_task_kb(sys.argv[1], int(sys.argv[2])))
