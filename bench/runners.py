"""How tasks are run: one class per concurrency model, one interface for all.

Each runner is a context manager.  Entering it builds what the model needs (event
loop and client session, thread pool, or process pool with every worker started);
`run(tasks)` then runs N tasks, at most `concurrency` at a time, and returns an
Outcome; leaving it tears everything down.  Only `run` is meant to be timed, so that
the default ("warm") measurement leaves set-up and teardown out.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AsyncExitStack, suppress
from types import TracebackType
from typing import Any, ClassVar

from bench.environment import usable_cores
from bench.outcome import OTHER, Outcome, TaskResult, arun_task, run_task
from workloads.base import Workload

START_METHODS = ("fork", "forkserver", "spawn")
WARM_TIMEOUT_S = 60.0
WORKER_DIED = "worker_died"
HEARTBEAT_S = 0.005  # how often the event loop is asked to wake, to measure its lag


class Runner(ABC):
    """Runs N tasks of one workload at a fixed concurrency."""

    name: ClassVar[str]

    def __init__(self, workload: Workload, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.workload = workload
        self.concurrency = concurrency

    def __enter__(self) -> Runner:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:  # noqa: B027 - runners without set-up need nothing here
        """Build and warm whatever the model needs before the first timed round."""

    @abstractmethod
    def run(self, tasks: int) -> Outcome:
        """Run `tasks` tasks and account for every one of them."""

    def close(self) -> None:
        self.workload.close_sync_clients()

    def describe(self) -> dict[str, Any]:
        return {"runner": self.name, "concurrency": self.concurrency, "start_method": None}


class SequentialRunner(Runner):
    """The baseline: one task after another in the calling thread."""

    name = "sequential"

    def __init__(self, workload: Workload, concurrency: int = 1) -> None:
        if concurrency != 1:
            raise ValueError("the sequential runner has concurrency 1 by definition")
        super().__init__(workload, concurrency)

    def run(self, tasks: int) -> Outcome:
        return Outcome.from_results(run_task(self.workload.for_task(i)) for i in range(tasks))


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


class AsyncioRunner(Runner):
    """All tasks on one event loop, gathered, with a semaphore bounding those in flight."""

    name = "asyncio"

    def __init__(self, workload: Workload, concurrency: int) -> None:
        super().__init__(workload, concurrency)
        self._loop: asyncio.Runner | None = None
        self._client: Any = None
        self._exit_stack = AsyncExitStack()

    def open(self) -> None:
        self._loop = asyncio.Runner()
        self._exit_stack = AsyncExitStack()
        client_cm = self.workload.async_client(self.concurrency)
        self._client = self._loop.run(self._exit_stack.enter_async_context(client_cm))

    def run(self, tasks: int) -> Outcome:
        if self._loop is None:
            raise RuntimeError("open the runner before running it")
        # A fresh coroutine every round, run to completion on the same loop.
        return self._loop.run(self._gather(tasks))

    def _one_task(self, workload: Workload) -> Awaitable[TaskResult]:
        return arun_task(workload, lambda: workload.acall(self._client))

    async def _gather(self, tasks: int) -> Outcome:
        slots = asyncio.Semaphore(self.concurrency)
        lags: list[float] = []
        beat = asyncio.create_task(_heartbeat(lags))

        async def bounded(index: int) -> TaskResult:
            async with slots:
                return await self._one_task(self.workload.for_task(index))

        try:
            results = await asyncio.gather(*(bounded(i) for i in range(tasks)))
        finally:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat
        outcome = Outcome.from_results(results)
        outcome.loop_lags = lags
        return outcome

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run(self._exit_stack.aclose())
            finally:
                loop.close()
        super().close()


class HybridRunner(AsyncioRunner):
    """asyncio for the waiting, a process pool (one worker per core) for the computing.

    Each task is the workload's hybrid twin: by default its whole sync twin is sent to
    the pool with `run_in_executor`; workloads that mix I/O and CPU await their I/O on
    the loop and send only the computation.
    """

    name = "hybrid"

    def __init__(self, workload: Workload, concurrency: int,
                 start_method: str | None = None) -> None:
        super().__init__(workload, concurrency)
        self.start_method = _checked_start_method(start_method)
        self.pool_workers = min(concurrency, usable_cores())
        self._pool: ProcessPoolExecutor | None = None

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


class PoolRunner(Runner):
    """What the thread and process runners share: submit N tasks to a bounded pool."""

    def __init__(self, workload: Workload, concurrency: int) -> None:
        super().__init__(workload, concurrency)
        self._pool: Executor | None = None

    @abstractmethod
    def _started_pool(self) -> Executor:
        """A new pool with all its workers already running, so no timed round pays for them."""

    def open(self) -> None:
        self._pool = self._started_pool()

    def run(self, tasks: int) -> Outcome:
        if self._pool is None:
            raise RuntimeError("open the runner before running it")
        futures = [self._pool.submit(run_task, self.workload.for_task(i)) for i in range(tasks)]
        return collect(futures)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        super().close()


def collect(futures: list[Future[TaskResult]]) -> Outcome:
    """Wait for every future; a worker that died counts its tasks as failed."""
    outcome = Outcome()
    for future in futures:
        try:
            outcome.add(future.result())
        except BrokenProcessPool:
            outcome.fail(WORKER_DIED)
        except Exception:
            outcome.fail(OTHER)
    return outcome


class ThreadRunner(PoolRunner):
    """`ThreadPoolExecutor(max_workers=C)`: OS threads sharing one interpreter."""

    name = "threads"

    def _started_pool(self) -> Executor:
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bench-worker")
        # Threads start lazily, one per submit while none is idle: C tasks that wait
        # for each other force all C into existence.
        barrier = threading.Barrier(self.concurrency)
        futures = [pool.submit(barrier.wait, WARM_TIMEOUT_S) for _ in range(self.concurrency)]
        for future in futures:
            future.result()
        return pool


def _import_workload(workload: Workload) -> None:
    """Warm-up job: unpickling the workload imports its module in the worker."""


def _wait_for_all_workers(barrier: Any) -> None:
    barrier.wait(WARM_TIMEOUT_S)


def _checked_start_method(start_method: str | None) -> str:
    method = start_method or multiprocessing.get_start_method()
    if method not in START_METHODS:
        raise ValueError(f"start method must be one of {', '.join(START_METHODS)}")
    return method


def started_process_pool(count: int, start_method: str,
                         workload: Workload) -> ProcessPoolExecutor:
    """A process pool of `count` workers, every one started and with the workload imported.

    Workers start lazily, one per submit while none is idle; each waits at a barrier
    in its initializer until all `count` (and this process) have arrived, so `count`
    submits are sure to start `count` workers, and none is left starting later.
    """
    context = multiprocessing.get_context(start_method)
    barrier = context.Barrier(count + 1)
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context,
                               initializer=_wait_for_all_workers, initargs=(barrier,))
    try:
        futures = [pool.submit(_import_workload, workload) for _ in range(count)]
        barrier.wait(WARM_TIMEOUT_S)
        for future in futures:
            future.result(WARM_TIMEOUT_S)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return pool


class ProcessRunner(PoolRunner):
    """`ProcessPoolExecutor(max_workers=C)` with a named start method."""

    name = "processes"

    def __init__(self, workload: Workload, concurrency: int,
                 start_method: str | None = None) -> None:
        super().__init__(workload, concurrency)
        self.start_method = _checked_start_method(start_method)

    def _started_pool(self) -> Executor:
        return started_process_pool(self.concurrency, self.start_method, self.workload)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method}


RUNNERS: dict[str, type[Runner]] = {
    cls.name: cls
    for cls in (SequentialRunner, AsyncioRunner, ThreadRunner, ProcessRunner, HybridRunner)
}
# The runners of the default matrix; the others are asked for by name.
DEFAULT_RUNNERS = ("sequential", "asyncio", "threads", "processes")


def make_runner(name: str, workload: Workload, concurrency: int,
                start_method: str | None = None) -> Runner:
    """Build a runner by its registry name."""
    if name not in RUNNERS:
        raise ValueError(f"unknown runner {name!r}; choose from {', '.join(RUNNERS)}")
    if name == ProcessRunner.name:
        return ProcessRunner(workload, concurrency, start_method)
    if name == HybridRunner.name:
        return HybridRunner(workload, concurrency, start_method)
    return RUNNERS[name](workload, concurrency)
