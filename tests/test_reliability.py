"""Faults, dead workers, Ctrl-C, file limits: every task is accounted for, nothing is left."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench import limits
from bench.limits import LimitError, check_workers, ensure_open_files, files_needed
from bench.measure import in_flight
from bench.report.load import atomic_path
from bench.runners import ProcessRunner, make_runner
from bench.scenario import ScenarioSpec
from tests.conftest import (
    REPO,
    command_line,
    default_sigint,
    is_interpreter_helper,
    runner_params,
)
from workloads import HttpWorkload, SleepWorkload
from workloads.server import ServerProcess

TASKS = 20


def expected_failures(workload: HttpWorkload, tasks: int) -> int:
    return sum(workload.faulty(index) for index in range(tasks))


@pytest.mark.usefixtures("assert_no_leftovers")
@pytest.mark.parametrize("fault, rate, kind", [
    ("status", 0.3, "status"), ("reset", 0.5, "reset"), ("slow", 0.2, "timeout")])
@pytest.mark.parametrize("runner_name", runner_params())
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
        # Not the server, nor multiprocessing's forkserver that earlier tests may have left.
        workers = [child for child in psutil.Process().children() if child.pid != server.pid
                   and not is_interpreter_helper(child)]
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
    session = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True, text=True,
                               preexec_fn=default_sigint)
    try:
        # The server and three pool workers: the run is under way.
        assert _wait_for(lambda: len(_descendants(session.pid)) >= 4, 60)
        time.sleep(0.5)
        seen = _descendants(session.pid)
        os.killpg(session.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, errors = session.communicate(timeout=60)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert _wait_for(lambda: not any(_alive(p) for p in seen), 15), [
        p.pid for p in seen if _alive(p)]
    leftovers = [entry.name for entry in tmp_path.iterdir() if entry.name != "bench.json"]
    assert leftovers == []
    assert "Traceback" not in output + errors and "KeyboardInterrupt" in output
    if out.exists():  # pytest-benchmark writes its JSON even when interrupted
        report = subprocess.run([sys.executable, "scripts/report.py", str(out), "--out",
                                 str(tmp_path / "report")], cwd=REPO, capture_output=True,
                                text=True, timeout=120)
        assert report.returncode == 2
        assert "was interrupted before it finished" in report.stderr


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
         "--runner", "asyncio", "--concurrency", "1000", "--tasks", "1000"],
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


@pytest.mark.parametrize("knob, value, named", [
    ("PID_MAX", "3000", "kernel.pid_max"), ("MAX_MAP_COUNT", "6000", "vm.max_map_count"),
    ("THREADS_MAX", "3000", "threads-max")])
def test_thread_check_counts_thread_ids_and_memory_mappings(
        knob: str, value: str, named: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / knob
    fake.write_text(value)
    monkeypatch.setattr(limits, knob, fake)
    with pytest.raises(LimitError, match=re.escape(named)):
        check_workers("threads", 5000)
    check_workers("threads", 100)  # within the limit: no error


def test_thirty_thousand_threads_are_refused_under_the_default_mapping_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vm.max_map_count's default (65530) holds about 21,000 Python threads (3 mappings
    each); 30,000 must be refused before any run, naming the limit."""
    fake = tmp_path / "max_map_count"
    fake.write_text("65530")
    monkeypatch.setattr(limits, "MAX_MAP_COUNT", fake)
    with pytest.raises(LimitError, match=r"30000 threads .*vm\.max_map_count"):
        check_workers("threads", 30000)


def test_a_pool_starts_no_more_workers_than_a_round_has_tasks() -> None:
    spec = ScenarioSpec("sleep", "threads", 64, 30000, rounds=1, warmup_rounds=0)
    assert in_flight(spec) == 64
    assert in_flight(dataclasses.replace(spec, tasks=100_000)) == 30000


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


def _suite(*args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only",
                           "-p", "no:cacheprovider", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, **popen)


def test_a_server_that_is_not_ours_is_refused_in_one_line() -> None:
    plain = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert plain.stdout is not None
        port = int(plain.stdout.readline().split(" port ")[1].split()[0])
        result = _suite("--workload", "http", "--target-url", f"http://127.0.0.1:{port}/")
    finally:
        plain.kill()
        plain.wait()
        assert plain.stdout is not None
        plain.stdout.close()
    assert result.returncode == 4
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"ERROR: --target-url: http://127.0.0.1:{port}/ answers but is not a concurrency-bench "
        "test server (start one with python -m workloads.server)"]


def test_failed_tasks_fail_the_scenario_and_leave_no_rate(tmp_path: Path) -> None:
    # Every request times out, and no fault was asked for: not a result.
    out = tmp_path / "run.json"
    result = _suite("--workload", "http,sleep", "--runner", "asyncio", "--tasks", "4",
                    "--concurrency", "2", "--http-delay-ms", "300", "--http-timeout-s", "0.05",
                    "--sleep-ms", "1", "--rounds", "1", f"--benchmark-json={out}")
    assert result.returncode == 1
    assert re.search(r"http asyncio-c2-n4: 4 of 4 tasks failed \(timeout=4: \w+.*\) with no "
                     "fault injected; this scenario is not a result", result.stdout)
    assert "Traceback" not in result.stdout
    saved = [b["extra_info"]["workload"] for b in json.loads(out.read_text())["benchmarks"]]
    assert saved == ["sleep"]  # the failed scenario is not in the JSON
    assert json.loads(out.read_text())["machine_info"]["run_status"] == "failed"


def test_the_run_stops_in_one_line_when_the_server_dies(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "http",
               "--runner", "sequential,asyncio", "--tasks", "400", "--concurrency", "2",
               "--http-delay-ms", "20", "--rounds", "3", f"--benchmark-json={out}",
               "-p", "no:cacheprovider"]
    session = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _wait_for(lambda: any("workloads.server" in (command_line(p) or "")
                                     for p in _descendants(session.pid)), 60)
        time.sleep(1.0)
        server = next(p for p in _descendants(session.pid)
                      if "workloads.server" in (command_line(p) or ""))
        server.kill()
        output, _ = session.communicate(timeout=120)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert session.returncode == 3
    assert "the test server exited (code -9) during http sequential-c1-n400; the run is " \
           "stopped" in output
    assert "Traceback" not in output
    report = subprocess.run([sys.executable, "scripts/report.py", str(out), "--out",
                             str(tmp_path / "report")], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert report.returncode == 2 and "was stopped before it finished" in report.stderr


def test_too_many_threads_for_the_user_is_one_line() -> None:
    def low_nproc() -> None:
        resource.setrlimit(resource.RLIMIT_NPROC, (2000, resource.getrlimit(
            resource.RLIMIT_NPROC)[1]))

    result = _suite("--runner", "threads", "--workload", "sleep", "--concurrency", "5000",
                    "--tasks", "5000", preexec_fn=low_nproc)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        "ERROR: --runner threads at --concurrency 5000 starts 5000 threads but the per-user "
        "process limit allows (ulimit -u) about 2000 in all; lower --concurrency"]


@pytest.mark.parametrize("flag", ["--benchmark-min-rounds=12", "--benchmark-max-time=2"])
def test_benchmark_options_the_suite_ignores_are_refused(flag: str) -> None:
    result = _suite("--workload", "sleep", flag)
    assert result.returncode == 4
    name = flag.split("=")[0]
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"ERROR: {name}: not honoured by concurrency-bench, which runs exactly --rounds "
        "counted rounds after --warmup-rounds; use those instead"]
