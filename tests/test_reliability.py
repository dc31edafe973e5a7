"""Faults, dead workers, Ctrl-C, file limits: every task is accounted for, nothing is left."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from bench.limits import LimitError, check_workers, ensure_open_files, files_needed
from bench.runners import RUNNERS, ProcessRunner, make_runner
from scripts.results import atomic_path
from tests.conftest import REPO
from workloads import HttpWorkload, SleepWorkload
from workloads.server import ServerProcess

TASKS = 20


def expected_failures(workload: HttpWorkload, tasks: int) -> int:
    return sum(workload.faulty(index) for index in range(tasks))


@pytest.mark.usefixtures("assert_no_leftovers")
@pytest.mark.parametrize("fault, rate, kind", [
    ("status", 0.3, "status"), ("reset", 0.5, "reset"), ("slow", 0.2, "timeout")])
@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_faults_are_counted_exactly_under_every_runner(
        runner_name: str, fault: str, rate: float, kind: str, server: ServerProcess) -> None:
    workload = HttpWorkload(base_url=server.url, delay_ms=2, size=4096, timeout_s=0.4,
                            fail_rate=rate, fault=fault, seed=7)
    faulty = expected_failures(workload, TASKS)
    assert 0 < faulty < TASKS  # the seed must give a mix, or the test proves nothing
    concurrency = 1 if runner_name == "sequential" else 4
    with make_runner(runner_name, workload, concurrency) as runner:
        outcome = runner.run(TASKS)
    assert dict(outcome.failures) == {kind: faulty}
    assert outcome.ok == TASKS - faulty
    assert outcome.ok + outcome.failed == TASKS


def test_the_seed_decides_which_tasks_fail() -> None:
    def faulty_set(seed: int) -> set[int]:
        workload = HttpWorkload(fail_rate=0.3, seed=seed)
        return {index for index in range(200) if workload.faulty(index)}

    assert faulty_set(1) == faulty_set(1)
    assert faulty_set(1) != faulty_set(2)
    assert 30 <= len(faulty_set(1)) <= 90  # about 30 % of 200
    assert not HttpWorkload(fail_rate=0.0).faulty(0)
    assert all(HttpWorkload(fail_rate=1.0).faulty(index) for index in range(50))


def test_faulty_tasks_ask_the_server_for_their_fault() -> None:
    always = HttpWorkload(base_url="http://127.0.0.1:1/", fail_rate=1.0, fail_status=503)
    assert "status=503" in always.for_task(0).url
    assert "status=200" in HttpWorkload(fail_rate=0.0).for_task(0).url
    assert "fault=reset" in HttpWorkload(inject="reset").url
    assert "delay_ms=3000" in HttpWorkload(inject="slow", timeout_s=2).url


@pytest.mark.usefixtures("assert_no_leftovers")
def test_killed_worker_fails_its_tasks_and_the_run_ends(server: ServerProcess) -> None:
    runner = ProcessRunner(SleepWorkload(seconds=0.3), 3, "fork")
    with runner:
        workers = [child for child in psutil.Process().children() if child.pid != server.pid]
        assert len(workers) == 3
        victim = workers[0]
        threading.Timer(0.1, victim.kill).start()
        done: list[object] = []
        worker = threading.Thread(target=lambda: done.append(runner.run(12)))
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the run hung after a worker died"
    outcome = done[0]
    assert hasattr(outcome, "failures")
    assert outcome.failures["worker_died"] >= 1  # type: ignore[attr-defined]
    assert outcome.ok + outcome.failed == 12  # type: ignore[attr-defined]


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_ctrl_c_leaves_no_process_socket_or_file(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "http",
               "--runner", "processes", "--concurrency", "3", "--tasks", "30",
               "--http-delay-ms", "200", "--rounds", "100", f"--benchmark-json={out}",
               "-p", "no:cacheprovider"]
    session = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # The server and three pool workers: the run is under way.
        assert _wait_for(lambda: len(_descendants(session.pid)) >= 4, 60)
        time.sleep(0.5)
        seen = _descendants(session.pid)
        os.killpg(session.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        session.wait(timeout=60)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert _wait_for(lambda: not any(_alive(p) for p in seen), 15), [
        p.pid for p in seen if _alive(p)]
    leftovers = [entry.name for entry in tmp_path.iterdir() if entry.name != "bench.json"]
    assert leftovers == []


def test_server_dies_with_its_parent() -> None:
    script = ("import sys, time\nfrom workloads.server import ServerProcess\n"
              "server = ServerProcess().__enter__()\nprint(server.pid, flush=True)\n"
              "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    parent.kill()  # no cleanup code runs: only the closed pipe tells the server
    parent.wait()
    parent.stdout.close()
    server = psutil.Process(server_pid)
    assert _wait_for(lambda: not _alive(server), 15)


def test_soft_open_file_limit_is_raised_up_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (300, hard))
        assert ensure_open_files(files_needed("http", "asyncio", 1000)) == 1256
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 1256
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _limit_files(soft: int, hard: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_hard_open_file_limit_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "http",
         "--runner", "asyncio", "--concurrency", "1000"],
        cwd=REPO, capture_output=True, text=True, timeout=120, preexec_fn=_limit_files(300, 300))
    assert result.returncode == 4
    # Limits are checked once the scenarios are collected, after pytest's header: the
    # error itself is one line, and no traceback is printed.
    assert result.stderr.strip().splitlines() == [
        "ERROR: this scenario needs about 1256 open files but the hard limit is 300; raise it "
        "(ulimit -Hn 1256, as root) or lower --concurrency"]
    assert "Traceback" not in result.stdout and "no tests ran" in result.stdout


def test_limits_are_not_checked_when_no_benchmark_is_collected() -> None:
    # A pytest session of the project's own tests never asks for 1000 worker processes.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/test_style.py",
         "--runner", "processes", "--concurrency", "100000"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_thread_check_counts_the_per_user_process_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (1000, hard))
        with pytest.raises(LimitError, match=r"ulimit -u"):
            check_workers("threads", 5000)
        check_workers("threads", 100)  # within the limit: no error
    finally:
        resource.setrlimit(resource.RLIMIT_NPROC, (soft, hard))


def test_low_soft_limit_still_runs_a_high_concurrency_scenario() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-disable", "-q", "--workload",
         "http", "--runner", "asyncio,threads", "--concurrency", "600", "--tasks", "600",
         "--http-delay-ms", "50"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        preexec_fn=_limit_files(256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout


def test_limit_error_names_the_fix() -> None:
    with pytest.raises(LimitError, match="drop processes from --runner or lower --concurrency"):
        check_workers("processes", 10**9)


def test_partial_files_vanish_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    target.write_text("earlier")
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "earlier"
    assert [entry.name for entry in tmp_path.iterdir()] == ["table.csv"]
