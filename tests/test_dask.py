"""The dask runner against real clusters: a LocalCluster it starts and closes, and a
cluster started by hand with Dask's own `dask scheduler` and `dask worker` commands,
which it uses and leaves running.  Every task is accounted for, a lost worker's tasks
count as `worker_lost`, and a bad scheduler address is one line within seconds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import psutil
import pytest

from bench.environment import usable_cores
from bench.limits import LimitError, check_workers, files_needed
from bench.runners import RUNNERS, make_runner
from bench.runners.cluster import local_workers
from tests.conftest import REPO, is_interpreter_helper, settled
from workloads import CpuWorkload, Workload, WrongResult

pytestmark = pytest.mark.skipif(RUNNERS["dask"].unavailable() is not None,
                                reason=str(RUNNERS["dask"].unavailable()))

DASK = Path(sys.executable).parent / "dask"
CLUSTER_START_S = 60.0


@dataclass(frozen=True)
class DyingWorkload(Workload):
    """Task 0 kills the worker process running it; the others sleep briefly."""

    name: ClassVar[str] = "dying"
    die: bool = False

    def call(self) -> int:
        if self.die:
            os._exit(3)
        time.sleep(0.01)
        return 1

    def for_task(self, index: int) -> Workload:
        return DyingWorkload(die=index == 0)

    def check(self, result: object) -> None:
        if result != 1:
            raise WrongResult(f"got {result!r}")


def suite_processes() -> set[int]:
    """This process's descendants, but not multiprocessing's interpreter-wide helpers."""
    return {child.pid for child in psutil.Process().children(recursive=True)
            if not is_interpreter_helper(child)}


def test_local_cluster_runs_every_task_and_closes() -> None:
    before = suite_processes()
    with make_runner("dask", CpuWorkload(n=20_000), 2, {"dask_workers": 2}) as runner:
        outcome = runner.run(6)
        overhead = runner.task_overhead()
        details = runner.details()
        assert len(suite_processes() - before) >= 2  # the worker processes
    assert (outcome.ok, outcome.failed) == (6, 0)
    assert overhead is not None and overhead > 0
    assert details["workers"] == 2 and details["threads"] == 2
    assert details["allowed_failures"] == 0
    assert details["scheduler"].startswith("tcp://127.0.0.1:")
    deadline = time.monotonic() + 10
    while suite_processes() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not suite_processes() - before, "cluster processes left behind"


def test_local_cluster_leaves_no_scratch_space(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask's default scratch space is <tmp>/dask-scratch-space, whose lock files outlive
    # the cluster; the runner's own lives in a temporary folder that goes on close.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with make_runner("dask", CpuWorkload(n=1000), 1, {"dask_workers": 1}) as runner:
        assert runner.run(1).ok == 1
        during = [entry.name for entry in tmp_path.iterdir()]
        assert len(during) == 1 and during[0].startswith("concurrency-bench-dask-")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("concurrency", [1, 3])
def test_at_most_c_tasks_are_in_flight(concurrency: int) -> None:
    # 6 tasks of 0.2 s, every one handed over at once: the cluster's C threads (1 worker of
    # C threads here, the most of 2 that divide C) bound them to ceil(6 / C) waves.
    from workloads import SleepWorkload

    with make_runner("dask", SleepWorkload(seconds=0.2), concurrency,
                     {"dask_workers": 2}) as runner:
        start = time.perf_counter()
        outcome = runner.run(6)
        elapsed = time.perf_counter() - start
        threads = runner.details()["threads"]
    assert outcome.ok == 6 and threads == concurrency
    assert elapsed >= -(-6 // concurrency) * 0.2


def test_c_threads_are_split_evenly_over_the_most_workers_that_divide_c() -> None:
    assert [local_workers(c, 2) for c in (1, 2, 3, 16, 64)] == [1, 2, 1, 2, 2]
    assert [local_workers(c, 4) for c in (6, 8, 3)] == [3, 4, 3]


def test_a_lost_worker_fails_its_tasks_with_their_own_kind_and_the_run_ends() -> None:
    with make_runner("dask", DyingWorkload(), 2, {"dask_workers": 2}) as runner:
        outcome = runner.run(8)
    assert outcome.tasks == 8
    assert outcome.failures["worker_lost"] >= 1
    assert outcome.ok + outcome.failures["worker_lost"] == 8, dict(outcome.failures)


def _free_port() -> int:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        return int(spare.getsockname()[1])


@pytest.fixture(scope="module")
def hand_started_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, list[subprocess.Popen[bytes]]]]:
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, as a user starts them."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("cluster")
    # Their scratch space (lock files that outlive them) goes under the test's own folder.
    env = {**os.environ, "PYTHONPATH": str(REPO), "DASK_TEMPORARY_DIRECTORY": str(logs)}
    commands = [[str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard"]]
    commands += [[str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
                  "--host", "127.0.0.1", "--no-dashboard"]] * 2
    processes = []
    try:
        for index, command in enumerate(commands):
            with (logs / f"{index}.log").open("wb") as log:
                processes.append(subprocess.Popen(command, stdout=log, stderr=log, env=env,
                                                  cwd=REPO))
            if index == 0:
                _wait_for_port(port)
        _wait_for_workers(address, 2)
        yield address, processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + CLUSTER_START_S
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("dask scheduler did not start")


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=CLUSTER_START_S)


def test_the_suite_uses_a_hand_started_cluster_and_leaves_it_running(
        hand_started_cluster: tuple[str, list[subprocess.Popen[bytes]]],
        tmp_path: Path) -> None:
    address, processes = hand_started_cluster
    out = tmp_path / "run.json"
    before = suite_processes()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "cpu",
         "--runner", "sequential,dask", "--dask-scheduler", address, "--tasks", "6",
         "--concurrency", "2", "--cpu-n", "20000", "--rounds", "2",
         f"--benchmark-json={out}", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    records = {bench["extra_info"]["runner"]: bench["extra_info"]
               for bench in json.loads(out.read_text())["benchmarks"]}
    dask = records["dask"]
    assert (dask["ok"], dask["failed"]) == (6 * dask["rounds"], 0)
    details = dask["runner_details"]
    assert details["scheduler"] == address and details["workers"] == 2
    assert details["cluster"].startswith("external")
    assert details["worker_python"] and details["worker_distributed"]
    assert dask["task_overhead_s"] > 0
    assert all(process.poll() is None for process in processes), "the cluster was shut down"
    assert settled(lambda: suite_processes() - before) == set()


@pytest.mark.parametrize("address, message", [
    ("localhost", "ERROR: --dask-scheduler: expected tcp://HOST:PORT, got 'localhost'"),
    ("tcp://127.0.0.1:9", "ERROR: --dask-scheduler: tcp://127.0.0.1:9 is unreachable"),
])
def test_a_bad_scheduler_address_is_one_line_within_seconds(address: str,
                                                            message: str) -> None:
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "cpu",
         "--runner", "dask", "--dask-scheduler", address],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 30
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_limits_count_the_workers_the_options_start() -> None:
    dask = RUNNERS["dask"]
    assert dask.worker_processes(64) == local_workers(64, usable_cores())  # the default
    assert dask.worker_processes(10, {"dask_workers": 5}) == 5
    assert dask.worker_processes(2, {"dask_scheduler": "tcp://127.0.0.1:8786",
                                      "dask_workers": None}) == 0  # a running cluster
    assert files_needed("sleep", "dask", 100, {"dask_workers": 100}) == \
        files_needed("sleep", "dask", 100, {"dask_workers": 1}) + 99 * dask.worker_files
    # More workers than memory allows names the option that sets their number.
    too_many = psutil.virtual_memory().total // dask.worker_memory + 1
    with pytest.raises(LimitError, match=r"drop dask from --runner or lower --dask-workers$"):
        check_workers("dask", too_many, {"dask_workers": too_many})
    check_workers("dask", 2, {"dask_scheduler": "tcp://127.0.0.1:8786"})  # starts none here
