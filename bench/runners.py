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
import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, ClassVar

from bench.outcome import Outcome, TaskResult, arun_task, run_task
from workloads.base import Workload

START_METHODS = ("fork", "forkserver", "spawn")
WARM_TIMEOUT_S = 60.0
WORKER_DIED = "worker_died"


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
        return Outcome.from_results(run_task(self.workload) for _ in range(tasks))


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
        client_cm = self.workload.async_client(self.concurrency)
        self._client = self._loop.run(self._exit_stack.enter_async_context(client_cm))

    def run(self, tasks: int) -> Outcome:
        if self._loop is None:
            raise RuntimeError("open the runner before running it")
        # A fresh coroutine every round, run to completion on the same loop.
        return Outcome.from_results(self._loop.run(self._gather(tasks)))

    async def _gather(self, tasks: int) -> list[TaskResult]:
        slots = asyncio.Semaphore(self.concurrency)

        async def bounded() -> TaskResult:
            async with slots:
                return await arun_task(self.workload, self._client)

        return await asyncio.gather(*(bounded() for _ in range(tasks)))

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run(self._exit_stack.aclose())
            finally:
                loop.close()
        super().close()


class PoolRunner(Runner):
    """What the thread and process runners share: submit N tasks to a bounded pool."""

    def __init__(self, workload: Workload, concurrency: int) -> None:
        super().__init__(workload, concurrency)
        self._pool: Executor | None = None

    @abstractmethod
    def _make_pool(self) -> Executor: ...

    @abstractmethod
    def _start_workers(self, pool: Executor) -> None:
        """Make the pool start all its workers now, so that no timed round pays for it."""

    def open(self) -> None:
        self._pool = self._make_pool()
        self._start_workers(self._pool)

    def run(self, tasks: int) -> Outcome:
        if self._pool is None:
            raise RuntimeError("open the runner before running it")
        futures = [self._pool.submit(run_task, self.workload) for _ in range(tasks)]
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
            outcome.fail("other")
    return outcome


class ThreadRunner(PoolRunner):
    """`ThreadPoolExecutor(max_workers=C)`: OS threads sharing one interpreter."""

    name = "threads"

    def _make_pool(self) -> Executor:
        return ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bench-worker")

    def _start_workers(self, pool: Executor) -> None:
        # Threads start lazily, one per submit while none is idle: C tasks that wait
        # for each other force all C into existence.
        barrier = threading.Barrier(self.concurrency)
        futures = [pool.submit(barrier.wait, WARM_TIMEOUT_S) for _ in range(self.concurrency)]
        for future in futures:
            future.result()


def _worker_pid(workload: Workload) -> int:
    """Warm-up job: unpickling the workload imports its module in the worker."""
    del workload
    import time

    time.sleep(0.05)  # keep this worker busy so the next submit needs another one
    return os.getpid()


class ProcessRunner(PoolRunner):
    """`ProcessPoolExecutor(max_workers=C)` with a named start method."""

    name = "processes"

    def __init__(self, workload: Workload, concurrency: int,
                 start_method: str | None = None) -> None:
        super().__init__(workload, concurrency)
        method = start_method or multiprocessing.get_start_method()
        if method not in START_METHODS:
            raise ValueError(f"start method must be one of {', '.join(START_METHODS)}")
        self.start_method = method

    def _make_pool(self) -> Executor:
        context = multiprocessing.get_context(self.start_method)
        return ProcessPoolExecutor(max_workers=self.concurrency, mp_context=context)

    def _start_workers(self, pool: Executor) -> None:
        pids: set[int] = set()
        for _ in range(10):
            futures = [pool.submit(_worker_pid, self.workload) for _ in range(self.concurrency)]
            pids.update(future.result(WARM_TIMEOUT_S) for future in futures)
            if len(pids) >= self.concurrency:
                return
        raise RuntimeError(f"only {len(pids)} of {self.concurrency} pool workers started")

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method}


RUNNERS: dict[str, type[Runner]] = {
    cls.name: cls for cls in (SequentialRunner, AsyncioRunner, ThreadRunner, ProcessRunner)
}


def make_runner(name: str, workload: Workload, concurrency: int,
                start_method: str | None = None) -> Runner:
    """Build a runner by its registry name."""
    if name not in RUNNERS:
        raise ValueError(f"unknown runner {name!r}; choose from {', '.join(RUNNERS)}")
    if name == ProcessRunner.name:
        return ProcessRunner(workload, concurrency, start_method)
    return RUNNERS[name](workload, concurrency)
