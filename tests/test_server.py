"""The test server's knobs work over real sockets, and the server never outlives its run."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import REPO, has_exited
from workloads.server import READY_PREFIX, ServerProcess


def test_size_and_status_knobs(server: ServerProcess) -> None:
    response = requests.get(server.url, params={"size": 12345, "status": 418}, timeout=5)
    assert response.status_code == 418
    assert len(response.content) == 12345


def test_delay_knob_delays_the_answer(server: ServerProcess) -> None:
    start = time.perf_counter()
    requests.get(server.url, params={"delay_ms": 300}, timeout=5)
    assert time.perf_counter() - start >= 0.3


def test_defaults_are_an_empty_200(server: ServerProcess) -> None:
    response = requests.get(server.url, timeout=5)
    assert (response.status_code, response.content) == (200, b"")


@pytest.mark.parametrize("query, message", [
    ({"size": "big"}, "size must be an integer"),
    ({"delay_ms": -1}, "delay_ms must be between"),
    ({"status": 99}, "status must be between"),
])
def test_bad_knob_is_a_400_with_a_reason(server: ServerProcess, query: dict[str, object],
                                        message: str) -> None:
    response = requests.get(server.url, params=query, timeout=5)
    assert response.status_code == 400
    assert message in response.text


def test_server_runs_in_its_own_process_on_loopback(server: ServerProcess) -> None:
    import os

    assert server.pid != os.getpid()
    assert server.url.startswith("http://127.0.0.1:")


def _port_is_open(url: str) -> bool:
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_server_stops_and_frees_its_port() -> None:
    with ServerProcess() as running:
        pid, url = running.pid, running.url
        assert _port_is_open(url)
    assert has_exited(pid)
    assert not _port_is_open(url)


def test_server_exits_when_its_parent_goes_away() -> None:
    # Closing stdin is what the parent's death does to the pipe.
    command = [sys.executable, "-m", "workloads.server", "--port", "0", "--exit-on-stdin-eof"]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline().decode().startswith(READY_PREFIX)
    process.stdin.close()
    assert process.wait(timeout=10) == 0
    process.stdout.close()


def test_runs_alone_from_the_command_line() -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    command = [sys.executable, "-m", "workloads.server", "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        line = process.stdout.readline().decode()
        assert line.strip() == f"{READY_PREFIX}http://127.0.0.1:{port}/"
        response = requests.get(f"http://127.0.0.1:{port}/", params={"size": 3}, timeout=5)
        assert response.content == b"xxx"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        process.stdout.close()
    assert code == 0


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "workloads.server", "--port", str(port)],
                                cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"server: cannot listen on 127.0.0.1:{port}: Address already in use"]
