"""pytest glue: options, the scenario matrix, the test server and the run record.

Loaded through the `pytest11` entry point, so the options exist wherever the
project is installed.  Logic lives in the other modules; this file only adapts
them to pytest's hooks and fixtures.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bench.environment import library_versions, python_build, usable_cores
from bench.limits import LimitError, check_scenario
from bench.options import OptionError, Settings, parse_settings
from bench.scenario import ScenarioSpec, scenarios_for
from workloads import Workload
from workloads.server import ServerProcess

SETTINGS = pytest.StashKey[Settings]()
TARGET_CHECK_TIMEOUT_S = 5.0

# (option, help, metavar); every value arrives as a string and is checked in bench.options.
OPTIONS = (
    ("--workload", "comma list of workloads (default: all)", "W[,W]"),
    ("--runner", "comma list of runners (default: all)", "R[,R]"),
    ("--tasks", "comma list of task counts (default: per workload)", "N[,N]"),
    ("--concurrency", "comma list of concurrency levels (default: 2,16,64)", "C[,C]"),
    ("--sleep-ms", "sleep workload: milliseconds per task (default: 20)", "MS"),
    ("--http-delay-ms", "http workload: server delay per request (default: 10)", "MS"),
    ("--http-size", "http workload: response body bytes (default: 1024)", "BYTES"),
    ("--http-timeout-s", "http workload: per-request timeout, both clients (default: 10)", "S"),
    ("--cpu-n", "cpu workload: sum of squares below n (default: 1000000)", "N"),
    ("--http-fail-rate", "http workload: share of tasks that ask for a fault (default: 0)",
     "RATE"),
    ("--http-fault", "what a faulty task gets: status, reset (mid-body) or slow (past the "
                     "timeout) (default: status)", "KIND"),
    ("--http-fail-status", "status code of the 'status' fault (default: 500)", "CODE"),
    ("--seed", "which tasks are faulty: the same seed fails the same tasks (default: 0)", "N"),
    ("--rounds", "counted rounds per scenario (default: 5)", "R"),
    ("--warmup-rounds", "uncounted warm-up rounds per scenario (default: 1)", "R"),
    ("--start-method", "process pool start method: fork, forkserver or spawn "
                       "(default: this Python's default)", "METHOD"),
    ("--target-url", "benchmark this running server instead of starting the local one", "URL"),
)


def _dest(option: str) -> str:
    return "bench_" + option.lstrip("-").replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-bench", "concurrency-bench scenarios")
    for option, help_text, metavar in OPTIONS:
        group.addoption(option, dest=_dest(option), default=None, metavar=metavar, help=help_text)
    group.addoption("--quick", dest="bench_quick", action="store_true",
                    help="claims suite: tiny sizes, to check the wiring (numbers mean nothing)")


def _check_reachable(url: str) -> None:
    try:
        requests.get(url, timeout=TARGET_CHECK_TIMEOUT_S).close()
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise pytest.UsageError(f"--target-url: {url} is unreachable ({reason})") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "workload(name): the workload a benchmark test measures")
    raw = {option.lstrip("-").replace("-", "_"): config.getoption(_dest(option))
           for option, _, _ in OPTIONS}
    try:
        settings = parse_settings(raw)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if settings.target_url and "http" in settings.workloads:
        _check_reachable(settings.target_url)
    try:
        for workload in settings.workloads:
            for runner in settings.runners:
                for concurrency in settings.concurrency:
                    check_scenario(workload, runner, concurrency)
    except LimitError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = settings


def _marked_workload(node: Any) -> str | None:
    marker = node.get_closest_marker("workload")
    return None if marker is None else str(marker.args[0])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    workload = _marked_workload(metafunc.definition)
    if workload is None or "scenario" not in metafunc.fixturenames:
        return
    settings = metafunc.config.stash[SETTINGS]
    specs = scenarios_for(workload, settings) if workload in settings.workloads else []
    metafunc.parametrize("scenario", specs, ids=[spec.id for spec in specs], indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = config.stash[SETTINGS].workloads
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        workload = _marked_workload(item)
        (drop if workload is not None and workload not in selected else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    # pytest-benchmark cannot time a coroutine: an async test would time only the
    # creation of a coroutine object and pass.  Refuse it instead.
    if "benchmark" in pyfuncitem.fixturenames and inspect.iscoroutinefunction(pyfuncitem.obj):
        pytest.fail(f"{pyfuncitem.name}: benchmarks must be sync functions that run the "
                    "coroutine on their own loop; pytest-benchmark cannot time `async def`",
                    pytrace=False)


@pytest.fixture(scope="session")
def bench_server(pytestconfig: pytest.Config) -> Iterator[tuple[str, int | None]]:
    """(URL, server pid): the local server, or --target-url with no pid."""
    target = pytestconfig.stash[SETTINGS].target_url
    if target:
        yield target, None
        return
    with ServerProcess() as server:
        yield server.url, server.pid


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> tuple[ScenarioSpec, Workload, int | None]:
    """The parametrized scenario with its workload built (and the server started if needed)."""
    spec: ScenarioSpec = request.param
    settings = request.config.stash[SETTINGS]
    url, server_pid = None, None
    if spec.workload == "http":
        url, server_pid = request.getfixturevalue("bench_server")
    return spec, settings.make_workload(spec.workload, url, **dict(spec.overrides)), server_pid


def pytest_benchmark_update_machine_info(config: pytest.Config,
                                         machine_info: dict[str, Any]) -> None:
    settings = config.stash[SETTINGS]
    machine_info["usable_cores"] = usable_cores()
    machine_info["python_build"] = python_build()
    machine_info["library_versions"] = library_versions()
    machine_info["fairness"] = {
        "timed_region": "warm: loop, pool, session and worker start-up happen before timing",
        "rounds": settings.rounds,
        "warmup_rounds": settings.warmup_rounds,
        "start_method": settings.start_method or python_build()["default_start_method"],
        "http_clients": "aiohttp: one ClientSession, connector limit = concurrency; requests: "
                        "one Session per worker thread or process; keep-alive on both",
        "http_timeout_s": settings.http_timeout_s,
        "server": settings.target_url or "local aiohttp server in its own process on 127.0.0.1",
    }
