"""Pool runners: submit N tasks to a `concurrent.futures` executor of C workers.

What they share lives in `PoolRunner`: every worker is started before the first timed
round, every future is collected, and a worker that dies counts its tasks as failed.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from abc import abstractmethod
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ClassVar

from bench.outcome import OTHER, WORKER_DIED, Outcome, RoundClock, TaskResult, describe, run_task
from bench.runners.base import (
    START_METHOD,
    WARM_TIMEOUT_S,
    Runner,
    checked_start_method,
    register_runner,
)
from bench.service import ServiceOutcome, serve_with
from bench.stats import median
from workloads.base import Workload


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
        clock = RoundClock()
        futures: list[Future[TaskResult]] = []
        try:
            for i in range(tasks):
                futures.append(clock.watch(self._pool.submit(run_task,
                                                             self.workload.for_task(i))))
        except BrokenProcessPool as exc:
            # A worker died while the round was still handing tasks over (the first task
            # can kill its worker before the last is submitted): the pool refuses the rest,
            # which count as failed like the ones it had taken.
            outcome = collect(futures, clock)
            outcome.fail(WORKER_DIED, tasks - len(futures), describe(exc))
            return outcome
        return collect(futures, clock)

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        if self._pool is None:
            raise RuntimeError("open the runner before serving")
        return serve_with(self._pool, self.workload, offsets)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        super().close()

    def task_overhead(self) -> float | None:
        if self._pool is None:
            return None
        return round_trip(self._pool)


OVERHEAD_PROBES = 30  # no-op tasks sent one at a time to measure a round trip


def noop() -> None:
    """A task that does nothing: what is left of its time is the model's own cost."""


def round_trip(pool: Executor) -> float:
    """Median time to submit a no-op task and get its result, one at a time."""
    times = []
    for _ in range(OVERHEAD_PROBES):
        start = time.perf_counter()
        pool.submit(noop).result(WARM_TIMEOUT_S)
        times.append(time.perf_counter() - start)
    return median(times)


def collect(futures: list[Future[TaskResult]], clock: RoundClock) -> Outcome:
    """Wait for every future; a worker that died counts its tasks as failed."""
    # One wait for all, not one per future: the caller sleeps until the last result, rather
    # than waking (and taking the GIL from the workers) once per task.
    wait(futures)
    outcome = Outcome()
    for future in futures:
        try:
            outcome.add(future.result(), clock.waited(future))
        except BrokenProcessPool as exc:
            outcome.fail(WORKER_DIED, detail=describe(exc))
        except Exception as exc:
            outcome.fail(OTHER, detail=describe(exc))
    return outcome


@register_runner
class ThreadRunner(PoolRunner):
    """`ThreadPoolExecutor(max_workers=C)`: OS threads sharing one interpreter."""

    name: ClassVar[str] = "threads"
    colour: ClassVar[str] = "#ff7f0e"
    order: ClassVar[int] = 20
    in_default_matrix: ClassVar[bool] = True

    @classmethod
    def threads_started(cls, concurrency: int) -> int:
        return concurrency

    def _started_pool(self) -> Executor:
        return started_thread_pool(self.concurrency)


def started_thread_pool(count: int) -> ThreadPoolExecutor:
    """A thread pool of `count` threads, every one started.

    Threads start lazily, one per submit while none is idle: `count` tasks that each wait
    at a closed gate force all of them into existence.  The gate then lets them go one at a
    time, each waited for before the next: released together (a barrier's last arrival
    wakes every waiter), thousands of threads wake at once and fight for the GIL and the
    barrier's lock (measured, 10,000 threads: 19-89 s of wall time, up to 155 s of it
    system CPU on two cores, against 11-19 s one at a time, most of that CPython starting
    the threads; scripts/evidence/many_threads.md).
    """
    pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-worker")
    gate, finished = threading.Semaphore(0), threading.Semaphore(0)
    try:
        futures = [pool.submit(gate.acquire, True, WARM_TIMEOUT_S) for _ in range(count)]
        for future in futures:
            future.add_done_callback(lambda _: finished.release())
        for _ in futures:
            gate.release()
            if not finished.acquire(timeout=WARM_TIMEOUT_S):
                raise RuntimeError(f"a pool thread did not start within {WARM_TIMEOUT_S:g} s")
        if not all(future.result() for future in futures):
            raise RuntimeError(f"the pool's threads did not all start within {WARM_TIMEOUT_S:g} s")
    except BaseException:
        for _ in range(count):  # nothing left waiting at the gate
            gate.release()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return pool


def _import_workload(workload: Workload) -> None:
    """Warm-up job: unpickling the workload imports its module in the worker."""


def _wait_for_all_workers(barrier: Any) -> None:
    # Ctrl-C reaches the whole process group; the parent handles it and shuts the pool
    # down.  A worker that took it too would print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    barrier.wait(WARM_TIMEOUT_S)


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


@register_runner
class ProcessRunner(PoolRunner):
    """`ProcessPoolExecutor(max_workers=C)` with a named start method."""

    samples_startup: ClassVar[bool] = True  # claim 12 compares their start-up and memory

    parallel: ClassVar[bool] = True
    name: ClassVar[str] = "processes"
    colour: ClassVar[str] = "#2ca02c"
    order: ClassVar[int] = 30
    in_default_matrix: ClassVar[bool] = True
    options = (START_METHOD,)

    def __init__(self, workload: Workload, concurrency: int,
                 start_method: str | None = None) -> None:
        super().__init__(workload, concurrency)
        self.start_method = checked_start_method(start_method)

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        return concurrency

    def _started_pool(self) -> Executor:
        return started_process_pool(self.concurrency, self.start_method, self.workload)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method}
