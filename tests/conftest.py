"""Shared fixtures: a real test server, and a check that nothing is left behind."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.runners import RUNNERS
from workloads.server import ServerProcess

pytest_plugins = ["pytester"]

# `make test` spreads the tests over the cores (pytest-xdist).  Its worker marks leave
# this process for none of the suites the tests start: a benchmark session that saw them
# would switch pytest-benchmark off, as it does under xdist.
for _mark in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
    os.environ.pop(_mark, None)

REPO = Path(__file__).resolve().parent.parent
DURATIONS = REPO / "scripts" / "evidence" / "test_durations.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest first, as a recorded fresh-clone run timed them: files by their summed
    time, and in each file its slowest tests first, the rest in their own order.  Two
    workers that start with the long ones end together, instead of one finishing a
    two-minute test alone at the end; a file's tests stay together, so its module fixtures
    are made once.  The same order on every worker, as pytest-xdist requires."""
    try:
        recorded = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return
    slowest = {row["test"]: row["seconds"] for row in recorded.get("slowest", [])}
    files = recorded.get("files", {})

    def cost(item: pytest.Item) -> tuple[float, float]:
        path = item.nodeid.split("::", 1)[0]
        return (-files.get(path, 0.0), -slowest.get(item.nodeid, 0.0))

    items.sort(key=cost)  # stable: within a file, tests keep their order
# A matrix small enough to run in seconds: every workload and runner, one concurrency level.
SMALL = ["--tasks", "6", "--concurrency", "3", "--sleep-ms", "5", "--http-delay-ms", "2",
         "--cpu-n", "50000"]


def default_sigint() -> None:
    """Popen's preexec_fn for a Ctrl-C test: a terminal's Ctrl-C reaches a process whose
    SIGINT is at its default; a test runner started in the background (`make test &`) passes
    it on ignored, and a Python started so never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted(process: subprocess.Popen[Any], timeout_s: float = 60) -> None:
    """Ctrl-C to `process`, then wait for it; one that outlives the wait is killed with
    everything it started, so that no later test inherits it, and the test fails."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        for child in [*psutil.Process(process.pid).children(recursive=True)]:
            child.kill()
        process.kill()
        process.wait()
        raise


def runner_params() -> list[Any]:
    """Every registered runner as a test parameter; one this Python cannot run is skipped
    with the runner's own reason."""
    return [pytest.param(name, marks=[pytest.mark.skip(reason=f"{name}: {cls.unavailable()}")]
                         if cls.unavailable() else []) for name, cls in RUNNERS.items()]


def run_suite(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the benchmark suite in a subprocess, as a user would from the repo root."""
    return subprocess.run([sys.executable, "-m", "pytest", "bench", *SMALL, *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def suite_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """pytest-benchmark JSON from a real short run of the suite (4 rounds, 1 warm-up),
    made once for the whole test session: under `make test`'s two xdist workers the first
    to need it runs it and the other waits and reads it (a session folder both share)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    out = shared / "suite-run" / "benchmark.json"
    with open(shared / "suite-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            out.parent.mkdir(exist_ok=True)
            partial = out.with_suffix(".partial")
            result = run_suite("--benchmark-only", "--rounds", "4", "--warmup-rounds", "1",
                               f"--benchmark-json={partial}", "-q")
            assert result.returncode == 0, result.stdout + result.stderr
            partial.rename(out)
    return out


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as running:
        yield running


def client_connections(exclude_pid: int | None = None) -> list[object]:
    """This process's inet sockets (listening or connected), plus its children's."""
    me = psutil.Process()
    processes = [me, *(c for c in me.children(recursive=True) if c.pid != exclude_pid)]
    found: list[object] = []
    for process in processes:
        try:
            found.extend(process.net_connections(kind="inet"))
        except psutil.NoSuchProcess:
            continue
    return found


# multiprocessing's forkserver and resource tracker serve the whole interpreter and
# exit with it, by design; tests that run a whole session in a subprocess check that.
INTERPRETER_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")
# distributed's offload executor is a module-level pool of one thread, started on first
# use and kept for the interpreter's life: which test first opens a Dask client decides
# whether it is in a test's "before", so it is not counted as left behind.
INTERPRETER_HELPER_THREADS = ("Dask-Offload",)


def command_line(process: psutil.Process) -> str | None:
    """The process's command line, or None once it has exited (a zombie included)."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return None


def living_children(text: str = "", exclude: set[int] | None = None) -> set[int]:
    """This process's descendants whose command line holds `text` (all, by default), less
    `exclude`.  One that has exited -- a zombie not yet reaped included -- is on its way
    out, not left behind, and is not counted."""
    return {child.pid for child in psutil.Process().children(recursive=True)
            if child.pid not in (exclude or set())
            and text in (command_line(child) if command_line(child) is not None else "\0")}


def settled(look: Callable[[], set[int]], timeout_s: float = 10.0) -> set[int]:
    """What `look` still finds after waiting up to `timeout_s` for it to find nothing:
    a process being stopped or reaped gets that long to go."""
    deadline = time.monotonic() + timeout_s
    found = look()
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = look()
    return found


def is_interpreter_helper(process: psutil.Process) -> bool:
    command = command_line(process)
    return command is None or any(helper in command for helper in INTERPRETER_HELPERS)


def has_exited(pid: int) -> bool:
    """True once the process is gone or a zombie waiting to be reaped."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _named(process: psutil.Process) -> str | None:
    try:
        return f"child process {process.pid} ({process.name()})"
    except psutil.NoSuchProcess:
        return None  # it exited while we looked: not left behind


def leftovers(server_pid: int | None, threads_before: set[int]) -> list[str]:
    """Child processes, threads and sockets that a finished run should not have left."""
    found = []
    children = [c for c in psutil.Process().children(recursive=True)
                if c.pid != server_pid and not is_interpreter_helper(c)]
    found += [name for name in map(_named, children) if name is not None]
    found += [f"thread {t.name}" for t in threading.enumerate() if t.ident not in threads_before
              and not t.name.startswith(INTERPRETER_HELPER_THREADS)]
    found += [f"socket {c}" for c in client_connections(exclude_pid=server_pid)]
    return found


@pytest.fixture
def assert_no_leftovers(server: ServerProcess) -> Iterator[None]:
    """Fail the test if it leaves a child process, a thread or a socket behind."""
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    yield
    remaining = []
    for _ in range(50):  # pools reap their workers asynchronously; give them a moment
        remaining = leftovers(server.pid, before)
        if not remaining:
            break
        threading.Event().wait(0.1)
    assert remaining == []
