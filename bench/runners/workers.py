"""The deployments people run: K worker processes, requests dealt to them in turn.

- `procs-asyncio`: each worker process runs its own event loop with its own async client,
  the shape of gunicorn with uvicorn workers;
- `procs-threads`: each worker process runs a thread pool with its own sync clients, the
  shape of gunicorn with threaded workers.

K is `--workers` (default: the usable cores, at most C).  C, the most requests in flight,
is split across the workers (C // K each, the first C % K one more); the parent deals
each request to the next worker in turn, as a pre-forked server's accept queue roughly
does.  Every worker is started, has its client open and the workload imported before the
first timed round.  A worker that dies fails the requests it held as `worker_died`.

`WorkerProcesses` is a `concurrent.futures.Executor` of `run_task` jobs, so closed batches
(`PoolRunner.run`) and service mode (`bench.service.serve_with`) drive it like any pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import multiprocessing
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection, wait
from typing import Any, ClassVar, cast

from bench.environment import usable_cores
from bench.outcome import arun_task, run_task
from bench.runners.base import (
    START_METHOD,
    WARM_TIMEOUT_S,
    RunnerOption,
    checked_start_method,
    register_runner,
)
from bench.runners.pools import PoolRunner
from workloads.base import Workload

READY = "ready"
STOP_TIMEOUT_S = 30.0
WORKERS = RunnerOption("workers", "--workers", "worker processes K (default: the usable "
                       "cores, at most C)", parse=int)


def _split(concurrency: int, workers: int) -> list[int]:
    """C in flight over K workers: C // K each, the first C % K one more."""
    return [concurrency // workers + (1 if i < concurrency % workers else 0)
            for i in range(workers)]


def _serve_threads(conn: Connection, workload: Workload, limit: int) -> None:
    """A worker: a thread pool of `limit`; results go back as they finish."""
    lock = threading.Lock()

    def reply(job_id: int, future: Future[Any]) -> None:
        error = future.exception()
        with lock:
            conn.send((job_id, error is None, future.result() if error is None else error))

    with ThreadPoolExecutor(max_workers=limit) as pool:
        list(pool.map(lambda _: None, range(limit)))  # every thread started before timing
        conn.send(READY)
        while (message := conn.recv()) is not None:
            job_id, fn, args = message
            pool.submit(fn, *args).add_done_callback(functools.partial(reply, job_id))
    workload.close_sync_clients()


async def _serve_loop(conn: Connection, workload: Workload, limit: int) -> None:
    """A worker: one event loop, at most `limit` requests in flight on it."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(limit)
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the parent is gone: finish what is running, then stop
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(None)

    loop.add_reader(conn.fileno(), readable)
    running: set[asyncio.Task[None]] = set()
    async with workload.async_client(limit) as client:

        async def one(job_id: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
            async with slots:
                try:
                    if fn is run_task:  # a request: the async twin, on this loop
                        job = args[0]
                        value: Any = await arun_task(job, lambda: job.acall(client))
                    else:  # the harness's own probes (a no-op round trip)
                        value = fn(*args)
                except Exception as exc:
                    conn.send((job_id, False, exc))
                    return
            conn.send((job_id, True, value))

        conn.send(READY)
        while (message := await inbox.get()) is not None:
            task = asyncio.create_task(one(*message))
            running.add(task)
            task.add_done_callback(running.discard)
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(conn.fileno())
        if running:
            await asyncio.gather(*running)


def _worker(conn: Connection, workload: Workload, limit: int, mode: str) -> None:
    # Ctrl-C reaches the whole process group; the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if mode == "loop":
            asyncio.run(_serve_loop(conn, workload, limit))
        else:
            _serve_threads(conn, workload, limit)
    finally:
        conn.close()


class WorkerProcesses(Executor):
    """K worker processes taking `run_task` jobs dealt in turn; see the module doc."""

    def __init__(self, workload: Workload, limits: list[int], mode: str,
                 start_method: str) -> None:
        context = multiprocessing.get_context(start_method)
        self._conns: list[Connection] = []
        self._processes: list[Any] = []
        self._pending: dict[int, tuple[Future[Any], int]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._turn = itertools.cycle(range(len(limits)))
        self._closed = False
        try:
            for limit in limits:
                mine, theirs = context.Pipe()
                process = context.Process(  # type: ignore[attr-defined]
                    target=_worker, args=(theirs, workload, limit, mode), daemon=True)
                process.start()
                theirs.close()
                self._conns.append(mine)
                self._processes.append(process)
            for conn in self._conns:
                if not conn.poll(WARM_TIMEOUT_S) or conn.recv() != READY:
                    raise RuntimeError("a worker process did not start")
        except BaseException:
            self.shutdown()
            raise
        self._receiver = threading.Thread(target=self._receive, daemon=True,
                                          name="bench-workers-receiver")
        self._receiver.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("worker processes take positional arguments only")
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker processes are shut down")
            job_id, worker = next(self._ids), next(self._turn)
            self._pending[job_id] = (future, worker)
            try:
                self._conns[worker].send((job_id, fn, args))
            except OSError as exc:
                del self._pending[job_id]
                future.set_exception(BrokenProcessPool(f"worker {worker} is gone: {exc}"))
        return future

    def _receive(self) -> None:
        """Results back as they come; a worker whose pipe ends fails what it held."""
        live = list(self._conns)
        while live:
            for ready in wait(live, timeout=0.5):
                conn = cast(Connection, ready)
                try:
                    job_id, ok, value = conn.recv()
                except (EOFError, OSError):
                    live.remove(conn)
                    self._fail_worker(self._conns.index(conn))
                    continue
                with self._lock:
                    found = self._pending.pop(job_id, None)
                if found is None:
                    continue
                if ok:
                    found[0].set_result(value)
                else:
                    found[0].set_exception(value)
            with self._lock:
                if self._closed and not self._pending:
                    return

    def _fail_worker(self, worker: int) -> None:
        with self._lock:
            lost = [job for job, (_, mine) in self._pending.items() if mine == worker]
            futures = [self._pending.pop(job)[0] for job in lost]
        for future in futures:
            future.set_exception(BrokenProcessPool(f"worker process {worker} died"))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
        for process in self._processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                process.join(STOP_TIMEOUT_S)
        receiver = getattr(self, "_receiver", None)
        if receiver is not None:
            receiver.join(STOP_TIMEOUT_S)
        for conn in self._conns:
            conn.close()
        with self._lock:
            left = list(self._pending.values())
            self._pending.clear()
        for future, worker in left:
            future.set_exception(BrokenProcessPool(f"worker process {worker} stopped"))


class _WorkersRunner(PoolRunner):
    """What the two deployments share; `mode` says what runs in each worker."""

    parallel: ClassVar[bool] = True
    mode: ClassVar[str]
    options = (START_METHOD, WORKERS)
    worker_files = 6

    def __init__(self, workload: Workload, concurrency: int, start_method: str | None = None,
                 workers: int | None = None) -> None:
        super().__init__(workload, concurrency)
        self.start_method = checked_start_method(start_method)
        self.workers = self.worker_processes(concurrency, {"workers": workers})

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        asked = (options or {}).get("workers")
        return max(1, min(concurrency, int(asked) if asked else usable_cores()))

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> str | None:
        asked = options.get("workers")
        return None if asked is None or int(asked) >= 1 else "--workers must be at least 1"

    def _started_pool(self) -> Executor:
        return WorkerProcesses(self.workload, _split(self.concurrency, self.workers), self.mode,
                               self.start_method)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method,
                "pool_workers": self.workers}

    def details(self) -> dict[str, Any]:
        return {"worker_processes": self.workers,
                "in_flight_per_worker": _split(self.concurrency, self.workers)}


@register_runner
class ProcessLoopsRunner(_WorkersRunner):
    """K processes, each with its own event loop and async client (uvicorn workers)."""

    name: ClassVar[str] = "procs-asyncio"
    colour: ClassVar[str] = "#843c39"
    order: ClassVar[int] = 42
    uses_async_twin: ClassVar[bool] = True
    mode: ClassVar[str] = "loop"


@register_runner
class ProcessThreadsRunner(_WorkersRunner):
    """K processes, each with a thread pool and its own sync clients (threaded workers)."""

    name: ClassVar[str] = "procs-threads"
    colour: ClassVar[str] = "#637939"
    order: ClassVar[int] = 43
    mode: ClassVar[str] = "threads"

    @classmethod
    def threads_started(cls, concurrency: int) -> int:
        return concurrency  # in the workers: they take thread ids from the same machine
