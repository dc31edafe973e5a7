"""A distributed engine: tasks go through a Dask scheduler to worker processes.

The runner submits through the `distributed` client's `concurrent.futures` executor
(`Client.get_executor(pure=False)`: without `pure=False`, Dask would give identical tasks
one key and compute them once), and accounts for every task like the pool runners.  As
with a pool, every task of a round is handed over at once and the workers bound how many
run: the cluster has C worker threads in all.

By default it starts a `LocalCluster` on 127.0.0.1: up to one worker process per usable
core (`--dask-workers`), C worker threads split evenly among them (so the most workers
that divide C), connected and with the workload imported before timing, closed after.
Its scheduler fails a task at once when the worker running it dies (`allowed-failures`
0), so a lost worker's tasks count as `worker_lost` instead of being run again.  With
`--dask-scheduler tcp://HOST:PORT` it uses a running cluster instead, which it never shuts
down (that cluster's own retry rule applies; its worker threads, not C, bound the tasks
in flight, and the record says how many there are), and records the scheduler's address,
its workers and the versions they report.  If no worker is left
for `WORKERLESS_S`, the tasks still waiting count as `worker_lost` and the round ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import CancelledError, Future, wait
from typing import Any, ClassVar
from urllib.parse import urlsplit

from bench.environment import usable_cores
from bench.outcome import OTHER, Outcome, RoundClock, TaskResult, describe, run_task
from bench.runners.base import WARM_TIMEOUT_S, Runner, RunnerOption, register_runner
from bench.runners.pools import round_trip
from bench.service import ServiceOutcome, serve_with
from workloads.base import Workload

WORKER_LOST = "worker_lost"
CONNECT_TIMEOUT_S = 5.0  # to reach a scheduler named with --dask-scheduler
WORKERLESS_S = 10.0  # no worker for this long: the tasks still waiting are lost
POLL_S = 0.5
MAX_WORKERS = 256
SCHEMES = ("tcp", "tls")


def scheduler_address(raw: str) -> str:
    """A scheduler address as Dask takes it, checked for form (tcp://HOST:PORT)."""
    parts = urlsplit(raw.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None or \
            parts.path not in ("", "/"):
        raise ValueError(f"expected tcp://HOST:PORT, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc}"


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """None if something accepts connections at the scheduler address, else why not."""
    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def worker_count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected an integer, got {raw!r}") from None
    if not 1 <= value <= MAX_WORKERS:
        raise ValueError(f"must be between 1 and {MAX_WORKERS}, got {value}")
    return value


DASK_SCHEDULER = RunnerOption(
    "dask_scheduler", "--dask-scheduler",
    "use the running Dask cluster whose scheduler is at tcp://HOST:PORT instead of starting "
    "a LocalCluster (it is never shut down)", parse=scheduler_address,
    label=lambda address: "at-" + str(address).split("://", 1)[-1])
DASK_WORKERS = RunnerOption(
    "dask_workers", "--dask-workers",
    "most worker processes of the LocalCluster, which share C threads evenly (default: one "
    "per usable core)",
    parse=worker_count, label=lambda count: f"{count}workers")


def local_workers(concurrency: int, most: int) -> int:
    """How many worker processes share C threads evenly: the most, up to `most`, that
    divide C (C=16 on 2 cores: 2 workers of 8 threads; C=3: 1 worker of 3)."""
    return max(count for count in range(1, min(most, concurrency) + 1)
               if concurrency % count == 0)


def _import_workload(workload: Workload) -> None:
    """Run on every worker: unpickling the workload imports its module there."""


def _close_sync_clients(workload: Workload) -> None:
    """Run on every worker: close the keep-alive clients its tasks opened there."""
    workload.close_sync_clients()


def _lost(exc: BaseException) -> bool:
    """Whether a task's error means its worker (or the cluster) went away."""
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return isinstance(exc, (KilledWorker, CommClosedError, CancelledError))


@register_runner
class DaskRunner(Runner):
    """Tasks through a Dask distributed scheduler to C worker threads."""

    parallel: ClassVar[bool] = True
    name: ClassVar[str] = "dask"
    colour: ClassVar[str] = "#8c564b"
    order: ClassVar[int] = 45
    in_default_matrix: ClassVar[bool] = False
    options = (DASK_SCHEDULER, DASK_WORKERS)
    # Measured for a LocalCluster of single-threaded workers with the workloads imported:
    # about 70 MiB resident per worker, and 10 more open files in this process per worker
    # (scheduler and nanny connections, process pipes).
    worker_memory = 80 * 1024 * 1024
    worker_files = 12
    workers_set_by = "--dask-workers"

    def __init__(self, workload: Workload, concurrency: int, dask_scheduler: str | None = None,
                 dask_workers: int | None = None) -> None:
        super().__init__(workload, concurrency)
        self.address = dask_scheduler
        self.workers = local_workers(concurrency, dask_workers or usable_cores())
        self._cluster: Any = None
        self._scratch: str | None = None  # the LocalCluster's scratch space, removed on close
        self._client: Any = None
        self._executor: Any = None
        self._details: dict[str, Any] = {}

    @classmethod
    def unavailable(cls) -> str | None:
        if importlib.util.find_spec("distributed") is None:
            return ("the distributed package is not installed for this Python "
                    "(pip install 'concurrency-bench[dask]')")
        return None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> str | None:
        address = options.get("dask_scheduler")
        if address is None:
            return None
        reason = check_reachable(address)
        return None if reason is None else \
            f"--dask-scheduler: {address} is unreachable ({reason})"

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        options = options or {}
        if options.get("dask_scheduler") is not None:
            return 0  # a running cluster: this machine starts no worker
        return local_workers(concurrency, int(options.get("dask_workers") or usable_cores()))

    def open(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.address is None:
                # Dask's scheduler and workers keep lock files in a scratch space, by default
                # <tmp>/dask-scratch-space, left behind after they close: give them one of
                # ours, and remove it on close.
                self._scratch = tempfile.mkdtemp(prefix="concurrency-bench-dask-")
                with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                      "temporary-directory": self._scratch}):
                    self._cluster = LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=self.concurrency // self.workers, processes=True,
                        host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                        local_directory=self._scratch)
                self._client = Client(self._cluster, set_as_default=False)
                self._client.wait_for_workers(self.workers, timeout=WARM_TIMEOUT_S)
            else:
                self._client = Client(self.address, timeout=CONNECT_TIMEOUT_S,
                                      set_as_default=False)
                self._client.wait_for_workers(1, timeout=WARM_TIMEOUT_S)
            self._client.run(_import_workload, self.workload)
            self._executor = self._client.get_executor(pure=False)
            self._details = self._describe_cluster()
        except BaseException:
            self.close()
            raise

    def _describe_cluster(self) -> dict[str, Any]:
        info = self._client.scheduler_info(n_workers=-1)
        versions = self._client.get_versions()
        workers = versions.get("workers") or {}

        def reported(package: str) -> list[str]:
            return sorted({str((found.get("packages") or {}).get(package))
                           for found in workers.values()})

        return {
            "cluster": "LocalCluster (started by the suite)" if self.address is None else
            "external (--dask-scheduler; left running)",
            "scheduler": info.get("address"),
            "workers": len(info.get("workers") or {}),
            "threads": int(sum(w.get("nthreads", 0) for w in info["workers"].values())),
            "worker_python": [version.split(".final")[0] for version in reported("python")],
            "worker_distributed": reported("distributed"),
            "worker_hosts": sorted({str(w.get("host")) for w in info["workers"].values()}),
            "allowed_failures": self._client.run_on_scheduler(_allowed_failures),
        }

    def run(self, tasks: int) -> Outcome:
        if self._executor is None:
            raise RuntimeError("open the runner before running it")
        # Every task is handed over at once, as to a pool: the cluster's worker threads
        # (C of them in the suite's LocalCluster) bound how many run, and the scheduler
        # queues the rest.  A gate in the client would cost a round trip per task.
        clock = RoundClock()
        futures = [clock.watch(self._executor.submit(run_task, self.workload.for_task(index)))
                   for index in range(tasks)]
        self._wait(futures)
        outcome = Outcome()
        for future in futures:
            try:
                outcome.add(future.result(0), clock.waited(future))
            except Exception as exc:
                outcome.fail(WORKER_LOST if _lost(exc) else OTHER, detail=describe(exc))
        return outcome

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        """Requests through the scheduler's executor, each at its time (bench.service)."""
        if self._executor is None:
            raise RuntimeError("open the runner before serving")
        return serve_with(self._executor, self.workload, offsets)

    def _wait(self, futures: list[Future[TaskResult]]) -> None:
        """Until every future is done, or no worker has been left for WORKERLESS_S (then
        the rest are cancelled, and count as lost)."""
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=POLL_S)
            if pending and self._workerless():
                for future in pending:
                    future.cancel()
                return

    def _workerless(self) -> bool:
        """True once the scheduler has had no worker (or could not be asked) for
        WORKERLESS_S."""
        deadline = time.monotonic() + WORKERLESS_S
        while time.monotonic() < deadline:
            try:
                if self._client.nthreads():
                    return False
            except Exception:  # the scheduler itself is gone
                pass
            time.sleep(POLL_S)
        return True

    def outside_processes(self) -> list[int]:
        """An external cluster's scheduler, nannies and workers, where they run on this
        machine (a LocalCluster's workers are this process's children already)."""
        if self._client is None or self._cluster is not None:
            return []
        # Imported here: this module is imported in subinterpreter workers (with the
        # package), where psutil's extension cannot load.
        import psutil

        local = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
        pids: list[int] = []
        if urlsplit(str(self._details.get("scheduler"))).hostname in local:
            pids.append(int(self._client.run_on_scheduler(os.getpid)))
        hosts = self._client.scheduler_info(n_workers=-1)["workers"]
        for address, pid in self._client.run(os.getpid).items():
            if hosts.get(address, {}).get("host") in local:
                pids.append(int(pid))
                with contextlib.suppress(psutil.Error):
                    parent = psutil.Process(int(pid)).parent()
                    if parent is not None and "dask" in " ".join(parent.cmdline()):
                        pids.append(parent.pid)  # its nanny
        return [pid for pid in pids if psutil.pid_exists(pid)]

    def task_overhead(self) -> float | None:
        return None if self._executor is None else round_trip(self._executor)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        try:
            if executor is not None:
                executor.shutdown(wait=False)  # cancels what is left; the cluster stays
            if client is not None:
                with contextlib.suppress(Exception):  # workers may be gone already
                    client.run(_close_sync_clients, self.workload)
                client.close()
        finally:
            scratch, self._scratch = self._scratch, None
            try:
                if cluster is not None:  # only our own LocalCluster, never a --dask-scheduler one
                    cluster.close()
            finally:
                if scratch is not None:
                    shutil.rmtree(scratch, ignore_errors=True)
                super().close()

    def describe(self) -> dict[str, Any]:
        workers = self._details.get("workers", self.workers if self.address is None else None)
        return {**super().describe(), "pool_workers": workers}

    def details(self) -> dict[str, Any]:
        return dict(self._details)


def _allowed_failures(dask_scheduler: Any) -> int:
    """Run on the scheduler: how often a task may lose its worker before it fails."""
    return int(dask_scheduler.allowed_failures)
