"""HTTP clients and servers as dimensions: every client against both real servers reads the
same bodies and fails with the same kinds; the matrix pairs each runner with the clients
that serve its twin; both servers start, answer alike and stop."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.options import OptionError, parse_settings
from bench.scenario import scenarios_for
from tests.conftest import REPO, has_exited, living_children, settled
from tests.test_workloads import run_async_twin
from workloads import HttpWorkload, TaskFailed
from workloads.clients import ASYNC, CLIENTS, SYNC, serves
from workloads.server import SERVERS, ServerProcess, _listening_socket, identify_server

TWINS = [(client, side) for client, sides in CLIENTS.items() for side in sides]


@pytest.fixture(scope="module", params=SERVERS)
def any_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with ServerProcess(server=request.param) as running:
        yield running


def twin_result(workload: HttpWorkload, side: str) -> object:
    try:
        return workload.call() if side == SYNC else run_async_twin(workload)
    finally:
        workload.close_sync_clients()


def twin_failure(workload: HttpWorkload, side: str) -> str:
    with pytest.raises(TaskFailed) as error:
        twin_result(workload, side)
    return error.value.kind


@pytest.mark.parametrize("client, side", TWINS)
def test_every_client_reads_the_whole_body(any_server: ServerProcess, client: str,
                                           side: str) -> None:
    workload = HttpWorkload(base_url=any_server.url, delay_ms=0, size=70_000, client=client)
    assert twin_result(workload, side) == 70_000
    assert workload.client_for(side) == client


@pytest.mark.parametrize("client, side", TWINS)
@pytest.mark.parametrize("knobs, kind", [
    ({"status": 503}, "status"),
    ({"inject": "reset", "size": 10_000}, "reset"),
    ({"delay_ms": 2000, "timeout_s": 0.2}, "timeout"),
], ids=["status", "reset", "timeout"])
def test_every_client_fails_with_the_same_kinds(any_server: ServerProcess, client: str,
                                               side: str, knobs: dict[str, object],
                                               kind: str) -> None:
    values: dict[str, object] = {"delay_ms": 0, "size": 5, **knobs}
    workload = HttpWorkload(base_url=any_server.url, client=client, **values)  # type: ignore[arg-type]
    assert twin_failure(workload, side) == kind


@pytest.mark.parametrize("client, side", TWINS)
def test_a_refused_connection_is_a_connection_failure_for_every_client(client: str,
                                                                       side: str) -> None:
    with ServerProcess() as gone:
        url = gone.url
    workload = HttpWorkload(base_url=url, delay_ms=0, size=5, timeout_s=2, client=client)
    assert twin_failure(workload, side) == "connection"


def test_a_twin_uses_its_default_client_when_the_named_one_cannot_serve_it() -> None:
    workload = HttpWorkload(client="aiohttp")
    assert (workload.client_for(ASYNC), workload.client_for(SYNC)) == ("aiohttp", "requests")
    blocking = HttpWorkload(client="httpx", blocking=True)  # the async twin calls the sync one
    assert blocking.client_for(ASYNC) == "httpx"
    assert HttpWorkload(blocking=True).client_for(ASYNC) == "requests"


def test_both_servers_answer_the_same_knobs(any_server: ServerProcess) -> None:
    response = requests.get(any_server.url, params={"size": 12345, "status": 418}, timeout=5)
    assert (response.status_code, len(response.content)) == (418, 12345)
    bad = requests.get(any_server.url, params={"size": "big"}, timeout=5)
    assert bad.status_code == 400 and "size must be an integer" in bad.text
    found = identify_server(any_server.url, 5)
    assert found is not None and found["server"] in SERVERS


def test_the_uvicorn_server_names_itself() -> None:
    with ServerProcess(server="uvicorn") as running:
        found = identify_server(running.url, 5)
        pid = running.pid
    assert found is not None and found["server"] == "uvicorn"
    assert has_exited(pid)


def test_listening_socket_says_tcp_so_asyncio_turns_nagle_off() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; without it,
    # uvicorn's responses (headers and body in two writes) stall ~40 ms each.
    sock = _listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_each_runner_gets_the_clients_that_serve_its_twin() -> None:
    settings = parse_settings({"workload": "http", "runner": "sequential,asyncio,threads,to_thread",
                               "http_client": "aiohttp,httpx,requests", "concurrency": "4",
                               "server": "aiohttp,uvicorn", "rounds": "1"})
    pairs = {(spec.server, spec.runner, spec.client) for spec in scenarios_for("http", settings)}
    expected = {(server, runner, client) for server in SERVERS
                for runner, clients in (("sequential", ("httpx", "requests")),
                                        ("asyncio", ("aiohttp", "httpx")),
                                        ("threads", ("httpx", "requests")),
                                        ("to_thread", ("httpx", "requests")))
                for client in clients}
    assert pairs == expected
    for spec in scenarios_for("http", settings):
        assert serves(spec.client, SYNC if spec.runner != "asyncio" else ASYNC)


def test_default_clients_and_server_keep_the_scenario_ids() -> None:
    settings = parse_settings({"workload": "http", "runner": "asyncio,threads",
                               "concurrency": "4", "rounds": "1"})
    ids = {spec.id for spec in scenarios_for("http", settings)}
    assert ids == {"asyncio-c4-n256", "threads-c4-n256"}


@pytest.mark.parametrize("raw, message", [
    ({"http_client": "urllib3"}, "--http-client: unknown value 'urllib3'; choose from "
                                 "aiohttp, httpx, requests"),
    ({"server": "nginx"}, "--server: unknown value 'nginx'; choose from aiohttp, uvicorn"),
    ({"server": "uvicorn", "target_url": "http://127.0.0.1:9/"},
     "--server: the local servers are not used with --target-url"),
])
def test_bad_client_or_server_is_one_line(raw: dict[str, str], message: str) -> None:
    with pytest.raises(OptionError) as error:
        parse_settings(raw)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_runner_with_no_client_for_its_twin_is_skipped_with_the_reason(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "http",
         "--runner", "asyncio,threads", "--http-client", "aiohttp", "--tasks", "4",
         "--concurrency", "2", "--rounds", "1", "--http-delay-ms", "1", "-rs", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "threads runs the sync twin and no sync client was given (--http-client aiohttp)" \
        in result.stdout


def test_the_matrix_runs_every_client_against_both_servers(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    before = living_children()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--workload", "http",
         "--runner", "asyncio,to_thread,threads", "--http-client", "aiohttp,httpx,requests",
         "--server", "uvicorn,aiohttp", "--tasks", "6", "--concurrency", "3", "--rounds", "2",
         "--http-delay-ms", "2", f"--benchmark-json={out}", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    records = [bench["extra_info"] for bench in data["benchmarks"]]
    found = {(r["server"], r["runner"], r["client"]) for r in records}
    assert found == {(server, runner, client) for server in SERVERS
                     for runner, clients in (("asyncio", ("aiohttp", "httpx")),
                                             ("to_thread", ("httpx", "requests")),
                                             ("threads", ("httpx", "requests")))
                     for client in clients}
    assert all(r["ok"] == 6 * r["rounds"] and r["failed"] == 0 for r in records)
    assert set(data["machine_info"]["servers"]) == set(SERVERS)
    left = settled(lambda: living_children(exclude=before))
    assert not left, f"processes left behind: {left}"
    report = subprocess.run([sys.executable, "scripts/report.py", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "REPORT.md").read_text()
    assert "| HTTP client " in text and "| server " in text
    assert "- **Test servers**: uvicorn " in text and "aiohttp " in text
    assert (tmp_path / "http_clients.png").read_bytes().startswith(b"\x89PNG")
