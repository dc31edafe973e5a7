"""Event-loop runners: every task a coroutine on one asyncio loop.

The loop lives on a thread of its own (`HomeThread`): built, run and closed there, so that
its tasks start from the same kind of thread as every other runner's.  `AsyncioRunner`
gathers the async twins behind a semaphore of C slots: the loop's own bound on work in
flight, as a pool's size is a pool's.  `HybridRunner`
is the same loop with a process pool beside it, for the CPU part of each task.  Both
carry a heartbeat timer whose lateness is the loop's lag: how long the loop was held.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, suppress
from typing import Any, ClassVar

from bench.environment import usable_cores
from bench.outcome import Outcome, RoundClock, TaskResult, arun_task
from bench.runners.base import (
    START_METHOD,
    HomeThread,
    Runner,
    checked_start_method,
    register_runner,
)
from bench.runners.pools import started_process_pool, started_thread_pool
from bench.service import LEAD_S, ServiceOutcome
from workloads.base import Workload

HEARTBEAT_S = 0.005  # how often the event loop is asked to wake, to measure its lag


async def _heartbeat(lags: list[float]) -> None:
    """Wake every HEARTBEAT_S and record how late each wake-up was: the loop's lag.

    A loop that is free answers within a fraction of a millisecond; a loop held by
    CPU work or a blocking call answers late by as long as it was held.
    """
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + HEARTBEAT_S
        try:
            await asyncio.sleep(HEARTBEAT_S)
        except asyncio.CancelledError:
            # A loop held until the end never ran this wake-up: count how late it is.
            if loop.time() > due:
                lags.append(loop.time() - due)
            raise
        lags.append(max(0.0, loop.time() - due))


@register_runner
class AsyncioRunner(Runner):
    """All tasks on one event loop, gathered, with a semaphore bounding those in flight."""

    name: ClassVar[str] = "asyncio"
    colour: ClassVar[str] = "#1f77b4"
    uses_async_twin: ClassVar[bool] = True
    order: ClassVar[int] = 10
    in_default_matrix: ClassVar[bool] = True

    def __init__(self, workload: Workload, concurrency: int) -> None:
        super().__init__(workload, concurrency)
        self._home: HomeThread | None = None
        self._loop: asyncio.Runner | None = None
        self._client: Any = None
        self._exit_stack = AsyncExitStack()

    def _new_loop(self) -> asyncio.Runner:
        """The event loop this runner runs on (asyncio's own by default)."""
        return asyncio.Runner()

    def open(self) -> None:
        self._home = HomeThread()
        self._home.call(self._open_loop)

    def _open_loop(self) -> None:
        """On the home thread: the loop and whatever the twin needs on it (its client)."""
        self._loop = self._new_loop()
        self._exit_stack = AsyncExitStack()
        client_cm = self.workload.async_client(self.concurrency)
        self._client = self._loop.run(self._exit_stack.enter_async_context(client_cm))

    def run(self, tasks: int) -> Outcome:
        if self._home is None or self._loop is None:
            raise RuntimeError("open the runner before running it")
        # A fresh coroutine every round, run to completion on the same loop.
        loop, clock = self._loop, RoundClock()
        return self._home.call(lambda: loop.run(self._gather(tasks, clock)))

    def _one_task(self, workload: Workload) -> Awaitable[TaskResult]:
        return arun_task(workload, lambda: workload.acall(self._client))

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        if self._home is None or self._loop is None:
            raise RuntimeError("open the runner before serving")
        loop = self._loop
        return self._home.call(lambda: loop.run(self._serve(offsets)))

    async def _serve(self, offsets: list[float]) -> ServiceOutcome:
        """On the loop: each request started at its time, at most C in flight (the same
        semaphore as a round); a request that waits for a slot, or for a loop busy with
        another's CPU work, counts that wait from its scheduled arrival."""
        slots = asyncio.Semaphore(self.concurrency)
        outcome = ServiceOutcome(offered=len(offsets))

        async def one(index: int, due: float) -> tuple[TaskResult, float, float, float]:
            async with slots:
                result = await self._one_task(self.workload.for_task(index))
            finished = time.perf_counter()
            return result, finished - due, finished, due

        start = time.perf_counter() + LEAD_S
        started = []
        for index, offset in enumerate(offsets):
            due = start + offset
            left = due - time.perf_counter()
            if left > 0:
                await asyncio.sleep(left)
            outcome.lateness.append(time.perf_counter() - due)
            started.append(asyncio.create_task(one(index, due)))
        last = start
        for result, latency, finished, due in await asyncio.gather(*started):
            outcome.add(result, latency, due - start)
            last = max(last, finished)
        outcome.span_s = last - start
        return outcome

    async def _gather(self, tasks: int, clock: RoundClock) -> Outcome:
        slots = asyncio.Semaphore(self.concurrency)
        lags: list[float] = []
        beat = asyncio.create_task(_heartbeat(lags))

        async def bounded(index: int) -> tuple[TaskResult, float]:
            async with slots:
                result = await self._one_task(self.workload.for_task(index))
            return result, clock.since()

        try:
            results = await asyncio.gather(*(bounded(i) for i in range(tasks)))
        finally:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat
        outcome = Outcome()
        for result, waited in results:
            outcome.add(result, waited)
        outcome.loop_lags = lags
        return outcome

    def close(self) -> None:
        home, self._home = self._home, None
        try:
            if home is not None:
                try:
                    home.call(self._close_loop)
                finally:
                    home.close()
        finally:
            super().close()

    def _close_loop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run(self._exit_stack.aclose())
            finally:
                loop.close()


@register_runner
class HybridRunner(AsyncioRunner):
    """asyncio for the waiting, a process pool (one worker per core) for the computing.

    Each task is the workload's hybrid twin: by default its whole sync twin is sent to
    the pool with `run_in_executor`; workloads that mix I/O and CPU await their I/O on
    the loop and send only the computation.
    """

    parallel: ClassVar[bool] = True
    name: ClassVar[str] = "hybrid"
    colour: ClassVar[str] = "#9467bd"
    order: ClassVar[int] = 40
    in_default_matrix: ClassVar[bool] = False
    options = (START_METHOD,)

    def __init__(self, workload: Workload, concurrency: int,
                 start_method: str | None = None) -> None:
        super().__init__(workload, concurrency)
        self.start_method = checked_start_method(start_method)
        self.pool_workers = self.worker_processes(concurrency)
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        return min(concurrency, usable_cores())

    def open(self) -> None:
        self._pool = started_process_pool(self.pool_workers, self.start_method, self.workload)
        super().open()

    async def _offload(self, function: Callable[..., object], *args: object) -> object:
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def _one_task(self, workload: Workload) -> Awaitable[TaskResult]:
        return arun_task(workload, lambda: workload.ahybrid(self._client, self._offload))

    def close(self) -> None:
        try:
            super().close()
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method,
                "pool_workers": self.pool_workers}


@register_runner
class UvloopRunner(AsyncioRunner):
    """The asyncio runner on uvloop's event loop (a loop factory, not the deprecated policy);
    the same semaphore, gather, heartbeat and accounting."""

    name: ClassVar[str] = "uvloop"
    colour: ClassVar[str] = "#17becf"
    order: ClassVar[int] = 12
    in_default_matrix: ClassVar[bool] = False

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            return ("uvloop is not installed for this Python (pip install uvloop; it has no "
                    "build for free-threaded CPython)")
        return None

    def _new_loop(self) -> asyncio.Runner:
        import uvloop

        return asyncio.Runner(loop_factory=uvloop.new_event_loop)


@register_runner
class ToThreadRunner(AsyncioRunner):
    """asyncio awaiting the sync twin through `asyncio.to_thread`, the default executor
    sized to C: what code does with a blocking library inside async code.  Loop lag is
    recorded like the other event-loop runners."""

    name: ClassVar[str] = "to_thread"
    colour: ClassVar[str] = "#bcbd22"
    order: ClassVar[int] = 15
    in_default_matrix: ClassVar[bool] = False
    uses_async_twin: ClassVar[bool] = False

    @classmethod
    def threads_started(cls, concurrency: int) -> int:
        return concurrency

    def _open_loop(self) -> None:
        self._loop = self._new_loop()
        self._exit_stack = AsyncExitStack()
        # The sync twin needs no async client; the executor's C threads start before timing.
        self._loop.get_loop().set_default_executor(started_thread_pool(self.concurrency))

    def _one_task(self, workload: Workload) -> Awaitable[TaskResult]:
        return arun_task(workload, lambda: asyncio.to_thread(workload.call))
