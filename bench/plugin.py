"""pytest glue: options, the scenario matrix, the test server and the run record.

Loaded through the `pytest11` entry point, so the options exist wherever the
project is installed.  Logic lives in the other modules; this file only adapts
them to pytest's hooks and fixtures.

A test module that takes a `scenario` fixture is parametrized with the default matrix
built from the options, unless it defines `scenario_specs(config)` to give its own
(the claims suite does).  Limits are checked once the scenarios are collected, so a
pytest session that collects no benchmark never checks them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bench.environment import library_versions, python_build, usable_cores
from bench.limits import LimitError, check_scenario
from bench.options import OptionError, Settings, option_table, parse_settings
from bench.runners import RUNNERS
from bench.scenario import ScenarioSpec, scenarios_for
from workloads import WORKLOADS, Workload
from workloads.server import ServerProcess

SETTINGS = pytest.StashKey[Settings]()
TARGET_CHECK_TIMEOUT_S = 5.0


def _dest(key: str) -> str:
    return "bench_" + key


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-bench", "concurrency-bench scenarios")
    for option in option_table():
        group.addoption(option.flag, dest=_dest(option.key), default=None,
                        metavar=option.metavar, help=option.help)
    group.addoption("--quick", dest="bench_quick", action="store_true",
                    help="claims suite: tiny sizes, to check the wiring (numbers mean nothing)")


def _check_reachable(url: str) -> None:
    try:
        requests.get(url, timeout=TARGET_CHECK_TIMEOUT_S).close()
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise pytest.UsageError(f"--target-url: {url} is unreachable ({reason})") from None


def pytest_configure(config: pytest.Config) -> None:
    raw = {option.key: config.getoption(_dest(option.key)) for option in option_table()}
    try:
        settings = parse_settings(raw)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if settings.target_url and any(WORKLOADS[name].needs_server for name in settings.workloads):
        _check_reachable(settings.target_url)
    config.stash[SETTINGS] = settings


def _param(spec: ScenarioSpec, label: str) -> Any:
    reason = RUNNERS[spec.runner].unavailable()
    marks = [pytest.mark.skip(reason=f"{spec.runner} is not available: {reason}")] \
        if reason else []
    return pytest.param(spec, id=label, marks=marks)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" not in metafunc.fixturenames:
        return
    own = getattr(metafunc.module, "scenario_specs", None)
    if own is not None:
        specs = own(metafunc.config)
        labels = [f"{spec.claim}-{spec.workload}-{spec.id}" for spec in specs]
    else:
        settings = metafunc.config.stash[SETTINGS]
        specs = [spec for name in settings.workloads for spec in scenarios_for(name, settings)]
        labels = [f"{spec.workload}-{spec.id}" for spec in specs]
    metafunc.parametrize("scenario", [_param(s, label) for s, label in zip(specs, labels,
                                                                           strict=True)],
                         indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every collected scenario against the machine's limits before any runs."""
    seen = set()
    for item in items:
        spec = getattr(getattr(item, "callspec", None), "params", {}).get("scenario")
        if isinstance(spec, ScenarioSpec):
            seen.add((spec.workload, spec.runner, spec.concurrency))
    try:
        for workload, runner, concurrency in sorted(seen):
            check_scenario(workload, runner, concurrency)
    except LimitError as exc:
        raise pytest.UsageError(str(exc)) from None


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
    if WORKLOADS[spec.workload].needs_server:
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
        "start_method": settings.runner_options.get("start_method")
        or python_build()["default_start_method"],
        "http_clients": "aiohttp: one ClientSession, connector limit = concurrency; requests: "
                        "one Session per worker thread or process; keep-alive on both",
        "http_timeout_s": settings.knobs["http"]["timeout_s"],
        "server": settings.target_url or "local aiohttp server in its own process on 127.0.0.1",
    }
