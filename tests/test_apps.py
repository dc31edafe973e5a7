"""Real deployments (bench.runners.apps, workloads.serve, bench.loadgen): real servers in
process groups of their own, loaded from generator processes of their own; a stall shows
in the tail, a deployment that dies or cannot start is one line, and nothing is left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.runners import RUNNERS
from bench.service import Schedule
from tests.conftest import REPO, default_sigint, interrupted, living_children, settled
from workloads.http import HttpWorkload
from workloads.serve import Deployment, DeploymentError, DeploymentProcess, free_port
from workloads.server import ServerProcess
from workloads.sleep import SleepWorkload

APPS = [name for name in RUNNERS if name.startswith("app-")]
TAG = "CONCURRENCY_BENCH_TEST_TAG"

# A user's workload, from a folder outside the repository: task STALL_AT of the counted
# run waits once for STALL_S, blocking the worker (or the event loop) that runs it; task
# KILL_AT, where asked, kills the deployment's process it runs in.
OWN_WORKLOAD = '''
import os, time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from workloads import Workload, WrongResult, knob

@dataclass(frozen=True)
class Stalling(Workload):
    name: ClassVar[str] = "stalling"
    marker: str = knob("", "a file made when the stall has happened")
    stall_at: int = knob(-1, "the task index that stalls once")
    kill_at: int = knob(-1, "the task index that kills its process")
    index: int = -1

    def for_task(self, index):
        return Stalling(self.marker, self.stall_at, self.kill_at, index)

    def _work(self):
        if self.index == self.kill_at:
            os.kill(os.getpid(), 9)
        if self.index == self.stall_at and not Path(self.marker).exists():
            Path(self.marker).touch()
            time.sleep(1.0)
        time.sleep(0.002)
        return self.index

    def call(self):
        return self._work()

    async def acall(self, client):
        return self._work()  # a blocking stall on the loop: every request waits behind it

    def check(self, result):
        if result != self.index:
            raise WrongResult(f"{result} != {self.index}")
'''


def suite(folder: Path, *args: str, tag: str = "") -> subprocess.CompletedProcess[str]:
    """The suite run by a user from `folder` (outside the repository)."""
    environment = {**os.environ, TAG: tag} if tag else None
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "bench",
                           "--benchmark-only", "-p", "no:cacheprovider", *args],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          env=environment)


def tagged(tag: str) -> list[int]:
    """Processes whose environment carries `tag` (a suite's and everything it started)."""
    found = []
    for pid in psutil.pids():
        try:
            if f"{TAG}={tag}".encode() in Path(f"/proc/{pid}/environ").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def infos(path: Path) -> list[dict[str, Any]]:
    return [bench["extra_info"] for bench in json.loads(path.read_text())["benchmarks"]]


@pytest.mark.parametrize("name", APPS)
def test_each_deployment_serves_the_http_twin_three_tiers_apart(name: str) -> None:
    """Generator, deployment and upstream test server: three processes apart from this
    one, each one's CPU recorded, every request ok."""
    with ServerProcess() as upstream:
        workload = HttpWorkload(base_url=upstream.url, delay_ms=2)
        runner = RUNNERS[name](workload, 8, app_workers=2) if name != "app-uvicorn" \
            else RUNNERS[name](workload, 8)
        with runner:
            outcome = runner.serve(Schedule(100, 1.0).offsets())
            assert runner._live is not None
            pids = {os.getpid(), upstream.pid, runner._live.pid,
                    *(generator.pid for generator in runner._generators)}
            assert len(pids) == 3 + len(runner._generators)
    assert outcome.ok == outcome.offered == 100 and outcome.failed == 0
    assert outcome.deployment_cpu_s and outcome.deployment_cpu_s > 0
    assert outcome.generator_cpu_s and outcome.generator_cpu_s > 0
    assert outcome.deployment_pss_mb and outcome.deployment_pss_mb > 5  # Python at least
    assert len(outcome.sent_latencies) == 100  # each ok request's from its actual send


def test_a_stall_in_a_real_server_shows_in_p99_and_a_kill_is_one_line(tmp_path: Path) -> None:
    """A user's workload, from outside the repository, served by uvicorn at 50 req/s: one
    blocking stall of 1 s holds every request behind it, so that the p99 of 150 requests
    (the second largest) is at least 0.9 s; a task that kills its deployment ends the
    scenario with one line and leaves no process."""
    (tmp_path / "stalling.py").write_text(OWN_WORKLOAD)
    out = tmp_path / "run.json"
    result = suite(tmp_path, "--workload", "stalling.py:Stalling", "--runner", "app-uvicorn",
                   "--param", f"marker={tmp_path / 'stalled'}", "--param", "stall_at=60",
                   "--concurrency", "64", "--rate", "50", "--duration-s", "3",
                   f"--benchmark-json={out}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (info,) = infos(out)
    assert info["ok"] == info["tasks_run"] == 150
    assert info["arrival_latency_p99_s"] >= 0.9
    # uvicorn's one process killed: the deployment is gone, and the scenario says so.
    tag = uuid.uuid4().hex
    killed = suite(tmp_path, "--workload", "stalling.py:Stalling", "--runner", "app-uvicorn",
                   "--param", "kill_at=40", "--rate", "50", "--duration-s", "2",
                   "--concurrency", "8", tag=tag)
    assert killed.returncode != 0
    lines = [line for line in killed.stdout.splitlines() if "deployment exited" in line]
    assert lines, killed.stdout[-3000:]
    assert "requests failed" in lines[0] and "Traceback" not in killed.stdout
    assert tagged(tag) == []
    # A gunicorn worker killed: its master starts another, and the request it held is
    # counted failed (its connection dropped), in one line.
    tag = uuid.uuid4().hex
    worker = suite(tmp_path, "--workload", "stalling.py:Stalling", "--runner",
                   "app-gunicorn-sync", "--app-workers", "1", "--param", "kill_at=40",
                   "--rate", "50", "--duration-s", "2", "--concurrency", "8", tag=tag)
    assert worker.returncode != 0
    assert "1 of 100 tasks failed (connection=1" in worker.stdout, worker.stdout[-3000:]
    assert tagged(tag) == []


class NoClient(SleepWorkload):
    """A workload whose async client cannot open: uvicorn's start-up fails."""

    @contextlib.asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[Any]:
        raise RuntimeError("no client today")
        yield None


def test_a_deployment_that_cannot_start_names_its_log_line() -> None:
    with pytest.raises(DeploymentError) as raised, \
            DeploymentProcess(Deployment("uvicorn"), NoClient(), 4):
        pass
    message = str(raised.value)
    assert message.startswith("uvicorn did not start") and "\n" not in message

    class Local(SleepWorkload):
        pass  # no server process can import it

    with pytest.raises(DeploymentError, match="cannot be handed to a server process"):
        DeploymentProcess(Deployment("uvicorn"), Local(), 4).__enter__()


def test_a_generator_that_does_not_start_leaves_no_deployment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The deployment is up before its generator: when the generator fails, the deployment,
    its workers and its log go too."""
    import tempfile

    from bench.loadgen import GeneratorError
    from workloads.server import SERVER_PYTHON

    monkeypatch.setenv(SERVER_PYTHON, "/bin/false")  # a generator that exits at once
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runner = RUNNERS["app-gunicorn-sync"](SleepWorkload(), 4, app_workers=1)
    with pytest.raises(GeneratorError, match="the load generator did not start"):
        runner.open()
    assert runner._live is None and list(tmp_path.iterdir()) == []
    assert settled(lambda: living_children("gunicorn")) == set()


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(DeploymentError, match=f"port {port} on 127.0.0.1 is in use"):
            DeploymentProcess(Deployment("gunicorn-sync"), SleepWorkload(), 4,
                              port=port).__enter__()
    standalone = subprocess.run([sys.executable, "-m", "workloads.serve", "uvicorn",
                                 "--workload", "sleep", "--port", str(port), "--set",
                                 "nonsense=1"], cwd=REPO, capture_output=True, text=True,
                                timeout=60)
    assert standalone.returncode == 2
    assert standalone.stderr.strip() == "serve: --set nonsense=1: sleep has no field 'nonsense'"


def test_a_rate_above_what_the_generators_send_is_one_line(tmp_path: Path) -> None:
    result = suite(tmp_path, "--workload", "sleep", "--runner", "app-uvicorn",
                   "--rate", "5000", "--duration-s", "0.1")
    assert result.returncode != 0
    assert "its load generators send at most" in result.stdout
    assert "Traceback" not in result.stdout


def test_ctrl_c_during_a_sweep_leaves_no_process(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--pyargs", "bench", "--benchmark-only",
         "-p", "no:cacheprovider", "--workload", "sleep",
         "--runner", "app-gunicorn-gthread,app-uvicorn-workers", "--rate", "auto",
         "--duration-s", "2"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, TAG: tag}, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until a deployment is up and loaded
        if any("gunicorn" in " ".join(psutil.Process(pid).cmdline())
               for pid in tagged(tag) if psutil.pid_exists(pid)):
            break
        time.sleep(0.2)
    time.sleep(2)
    interrupted(process)
    for _ in range(50):
        if not tagged(tag):
            break
        time.sleep(0.2)
    assert tagged(tag) == []


def _started_elsewhere(port: int) -> subprocess.Popen[str]:
    """`python -m workloads.serve`, as a user starts a deployment by hand, until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workloads.serve", "gunicorn-sync", "--workload", "sleep",
         "--set", "seconds=0.005", "--workers", "3", "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == f"serving sleep with gunicorn-sync on http://127.0.0.1:{port}", \
        process.stderr.read() if process.stderr else line
    return process


def test_service_url_loads_a_deployment_started_elsewhere(tmp_path: Path) -> None:
    port = free_port()
    served = _started_elsewhere(port)
    url = f"http://127.0.0.1:{port}"
    try:
        out = tmp_path / "remote.json"
        result = suite(tmp_path, "--workload", "sleep", "--sleep-ms", "5",
                       "--runner", "app-gunicorn-sync", "--service-url", url,
                       "--concurrency", "8", "--rate", "40", "--duration-s", "1",
                       f"--benchmark-json={out}")
        assert result.returncode == 0, result.stdout[-2000:]
        (info,) = infos(out)
        assert info["ok"] == info["tasks"] == 40 and info["failed"] == 0
        # Its workers are the deployment's own (3, not the runner's default); it runs on
        # this machine, so its CPU and memory are read; no local upstream was started.
        assert info["slots"] == 3 and info["runner_details"]["service_url"] == url
        assert info["deployment_cpu_s"] > 0 and info["deployment_pss_mb"] > 0
        assert info["server_cpu_s"] is None
        wrong = suite(tmp_path, "--workload", "sleep", "--runner", "app-gunicorn-sync",
                      "--service-url", url, "--rate", "20", "--duration-s", "0.5")
        assert wrong.returncode != 0 and "Traceback" not in wrong.stdout
        assert f"the deployment at {url} serves sleep {{'seconds': 0.005}}, this run sleep " \
            "{'seconds': 0.02}" in wrong.stdout
        other = suite(tmp_path, "--workload", "sleep", "--runner", "app-uvicorn",
                      "--service-url", url)
        assert other.returncode != 0
        assert f"--service-url: {url} runs gunicorn-sync, not uvicorn" in other.stderr
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(30)
    assert served.returncode == 143  # stopped through its with block: server and log gone
    assert psutil.net_connections(kind="tcp") and not any(
        conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN
        for conn in psutil.net_connections(kind="tcp"))
    gone = suite(tmp_path, "--workload", "sleep", "--runner", "app-gunicorn-sync",
                 "--service-url", url)
    assert gone.returncode != 0
    assert f"--service-url: {url} is unreachable" in gone.stderr
