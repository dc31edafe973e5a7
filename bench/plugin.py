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

import dataclasses
import inspect
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bench import drift
from bench.databases import check_url
from bench.environment import library_versions, python_build, suite_commit, usable_cores
from bench.limits import LimitError, check_scenario
from bench.measure import in_flight
from bench.options import OptionError, option_table, parse_settings
from bench.precision import Tracker
from bench.progress import Progress
from bench.runinfo import SCHEMA_VERSION, Fairness, PythonBuild, RunInfo, RunnerStyle
from bench.runners import RUNNERS
from bench.scenario import Scenario, ScenarioSpec, scenarios_for, side_of
from bench.service import Saturation
from bench.sessions import (
    DATABASE_INFO,
    SERVER_IDENTITY,
    SETTINGS,
    TARGET_CHECK_TIMEOUT_S,
    LocalServers,
    bench_database,
    bench_servers,
    database_scenario,
)
from workloads import WORKLOADS
from workloads.clients import describe_clients, serves
from workloads.clients import unavailable as client_unavailable
from workloads.database import SETTINGS as DATABASE_SETTINGS
from workloads.database import DatabaseError
from workloads.server import DEFAULT_SERVER, is_our_server

EXIT_STATUS = pytest.StashKey[int]()
FAILED_SCENARIOS = pytest.StashKey[int]()
TRACKER = pytest.StashKey[Tracker]()
SATURATION = pytest.StashKey[Saturation]()
DRIFT_PROBES = pytest.StashKey[list[dict[str, Any]]]()
QUICK_ROUNDS = 2  # --quick
# pytest-benchmark options that `benchmark.pedantic` ignores: the suite runs exactly
# --rounds counted rounds after --warmup-rounds, so these would be silently without effect.
NOT_HONOURED = ("--benchmark-min-rounds", "--benchmark-max-time", "--benchmark-min-time",
                "--benchmark-warmup", "--benchmark-warmup-iterations",
                "--benchmark-calibration-precision")
# The session fixtures live in bench.sessions; named here so that pytest finds them.
__all__ = ["LocalServers", "bench_database", "bench_servers"]
RUN_STATUS: dict[int, str] = {pytest.ExitCode.OK: "complete",
                              pytest.ExitCode.TESTS_FAILED: "failed",
                              pytest.ExitCode.INTERRUPTED: "interrupted"}


def _dest(key: str) -> str:
    return "bench_" + key


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-bench", "concurrency-bench scenarios")
    for option in option_table():
        if option.action == "store_true":
            group.addoption(option.flag, dest=_dest(option.key), action="store_true",
                            help=option.help)
        else:
            group.addoption(option.flag, dest=_dest(option.key), default=None,
                            action=option.action, metavar=option.metavar, help=option.help)
    group.addoption("--quick", dest="bench_quick", action="store_true",
                    help="claims suite: tiny sizes, to check the wiring (numbers mean nothing)")


def _check_target(url: str) -> None:
    """The URL must answer, and be a copy of the suite's test server."""
    try:
        ours = is_our_server(url, TARGET_CHECK_TIMEOUT_S)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise pytest.UsageError(f"--target-url: {url} is unreachable ({reason})") from None
    if not ours:
        raise pytest.UsageError(f"--target-url: {url} answers but is not a concurrency-bench "
                                "test server (start one with python -m workloads.server)")


def _refuse_unhonoured(config: pytest.Config) -> None:
    for arg in config.invocation_params.args:
        flag = str(arg).split("=", 1)[0]
        if flag in NOT_HONOURED:
            raise pytest.UsageError(f"{flag}: not honoured by concurrency-bench, which runs "
                                    "exactly --rounds counted rounds after --warmup-rounds; "
                                    "use those instead")


def pytest_configure(config: pytest.Config) -> None:
    raw = {option.key: config.getoption(_dest(option.key)) for option in option_table()}
    try:
        settings = parse_settings(raw)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("bench_quick", False) and settings.plan.forced is None:
        # A wiring check: one pass of QUICK_ROUNDS rounds, whose numbers mean nothing.
        settings = dataclasses.replace(settings, plan=dataclasses.replace(
            settings.plan, forced=QUICK_ROUNDS))
    if config.getoption("benchmark_disable", False) and settings.plan.forced is None:
        # Nothing is timed: one pass, one call of each scenario, is all there is to run.
        settings = dataclasses.replace(settings, plan=dataclasses.replace(
            settings.plan, forced=settings.plan.rounds_in(1)))
    _refuse_unhonoured(config)
    if settings.runner_options.get("service_url"):
        others = [name for name in settings.runners
                  if "service_url" not in {option.name for option in RUNNERS[name].options}]
        if others or len(settings.runners) != 1:
            raise pytest.UsageError(
                "--service-url: it loads one running deployment; give exactly the one app-* "
                "runner that models its server" + (f" (not {', '.join(others)})" if others
                                                   else ""))
    for name in settings.runners:
        runner = RUNNERS[name]
        problem = None if runner.unavailable() else runner.check_options(settings.runner_options)
        if problem:
            raise pytest.UsageError(problem)
    if settings.target_url and any(WORKLOADS[name].needs_server for name in settings.workloads):
        _check_target(settings.target_url)
    for name in settings.workloads:
        db_url = settings.knobs.get(name, {}).get("db_url")
        if getattr(WORKLOADS[name], "needs_database", False) and db_url:
            try:
                check_url(db_url)
            except DatabaseError as exc:
                raise pytest.UsageError(f"--db-url: {exc}") from None
    config.stash[SETTINGS] = settings
    config.stash[TRACKER] = Tracker(settings.plan)
    config.stash[SATURATION] = Saturation()


def not_applicable(runner: str, workload: str) -> str | None:
    """Why `runner` cannot run `workload` at all, or None."""
    missing = WORKLOADS[workload].unavailable()
    if missing:
        return f"the {workload} workload cannot run on this Python: {missing}"
    if RUNNERS[runner].uses_async_twin and not WORKLOADS[workload].has_async_twin():
        return f"{workload} has no async twin (acall), which {runner} runs"
    return None


def client_not_usable(spec: ScenarioSpec) -> str | None:
    """Why the scenario's HTTP client cannot serve it, or None."""
    if not spec.client:
        return None
    side = side_of(spec.runner)
    if not serves(spec.client, side):
        return (f"{spec.runner} runs the {side} twin and no {side} client was given "
                f"(--http-client {spec.client})")
    missing = client_unavailable(spec.client)
    return None if missing is None else f"{spec.client} is not available: {missing}"


def _param(spec: ScenarioSpec, label: str) -> Any:
    unavailable = RUNNERS[spec.runner].unavailable()
    reason = f"{spec.runner} is not available: {unavailable}" if unavailable else \
        not_applicable(spec.runner, spec.workload) or client_not_usable(spec)
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    return pytest.param(spec, id=label, marks=marks)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" not in metafunc.fixturenames:
        return
    own = getattr(metafunc.module, "scenario_specs", None)
    if own is not None:
        specs = own(metafunc.config)
        labels = [f"{spec.claim}-{spec.workload}-{spec.id}"
                  + (f"-pass{spec.pass_index}" if spec.pass_index > 1 else "") for spec in specs]
    else:
        settings = metafunc.config.stash[SETTINGS]
        specs = [spec for name in settings.workloads for spec in scenarios_for(name, settings)]
        passes = settings.plan.passes > 1 and settings.service is None
        labels = [f"{spec.workload}-{spec.id}" + (f"-pass{spec.pass_index}" if passes else "")
                  for spec in specs]
    metafunc.parametrize("scenario", [_param(s, label) for s, label in zip(specs, labels,
                                                                           strict=True)],
                         indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every collected scenario against the machine's limits before any runs."""
    seen = set()
    for item in items:
        spec = getattr(getattr(item, "callspec", None), "params", {}).get("scenario")
        if isinstance(spec, ScenarioSpec):
            seen.add((spec.workload, spec.runner, in_flight(spec), spec.runner_options))
    try:
        for workload, runner, concurrency, options in sorted(seen, key=repr):
            check_scenario(workload, runner, concurrency, dict(options))
    except LimitError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(wrapper=True)
def pytest_report_header(config: pytest.Config) -> Any:
    """pytest-benchmark's banner lists its calibration defaults (min_rounds, max_time...),
    which `benchmark.pedantic` never uses here: say what decides the rounds instead."""
    found = yield
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return found
    plan = settings.plan
    rounds = (f"exactly {plan.forced} counted rounds" if plan.forced is not None else
              f"rounds until the median's 95 % interval is within ±{plan.target:.0%}, at most "
              f"{plan.max_rounds} rounds or {plan.max_seconds:g} s per scenario")
    ours = (f"concurrency-bench: {rounds}, after {settings.warmup_rounds} warm-up round(s) "
            "every pass; pytest-benchmark times them (its own calibration defaults are "
            "not used)")
    if settings.service is not None:  # no rounds to count: one schedule per model and rate
        ours = ("concurrency-bench: service mode: each model at each offered rate serves one "
                f"schedule of {settings.service.duration_s:g} s of arrivals after a warm-up "
                "at the same rate; latency counts from each request's scheduled arrival")
    kept: list[Any] = []
    for lines in found:
        if isinstance(lines, str) and lines.startswith("benchmark:"):
            kept.append(lines.split(" (defaults:")[0] + " (timer only)")
        else:
            kept.append(lines)
    return [*kept, ours]


PROGRESS = pytest.StashKey[Progress]()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    scenarios = [item for item in session.items if "benchmark" in getattr(item, "fixturenames", ())]
    if scenarios:
        plan = []
        for item in scenarios:
            spec = getattr(getattr(item, "callspec", None), "params", {}).get("scenario")
            plan.append((spec.workload, spec.key, spec.pass_index)
                        if isinstance(spec, ScenarioSpec) else ("", item.nodeid, 1))
        session.config.stash[PROGRESS] = Progress(session.config, len(scenarios), plan)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    start = time.monotonic()
    yield
    progress = item.config.stash.get(PROGRESS, None)
    if progress is not None and "benchmark" in getattr(item, "fixturenames", ()):
        progress.finished(time.monotonic() - start)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    # pytest-benchmark cannot time a coroutine: an async test would time only the
    # creation of a coroutine object and pass.  Refuse it instead.
    if "benchmark" in pyfuncitem.fixturenames and inspect.iscoroutinefunction(pyfuncitem.obj):
        pytest.fail(f"{pyfuncitem.name}: benchmarks must be sync functions that run the "
                    "coroutine on their own loop; pytest-benchmark cannot time `async def`",
                    pytrace=False)


@pytest.fixture
def round_tracker(pytestconfig: pytest.Config) -> Tracker:
    """The rounds every scenario has had so far in this session (bench.precision)."""
    return pytestconfig.stash[TRACKER]


@pytest.fixture
def saturation(pytestconfig: pytest.Config) -> Saturation:
    """Service mode: the rates each model did not keep so far (bench.service)."""
    return pytestconfig.stash[SATURATION]


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> Scenario:
    """The parametrized scenario with its workload built (and the server started if needed)."""
    spec: ScenarioSpec = request.param
    settings = request.config.stash[SETTINGS]
    # The machine's drift probe at the start of the run and whenever the workload changes.
    probes = request.config.stash.setdefault(DRIFT_PROBES, [])
    if not probes or probes[-1]["when"] != f"before {spec.workload}":
        probes.append(drift.probe(f"before {spec.workload}"))
    url, server = None, None
    if WORKLOADS[spec.workload].needs_server:
        servers: LocalServers = request.getfixturevalue("bench_servers")
        # A deployment loaded with --service-url calls its own upstream: no local server.
        remote = settings.target_url or settings.runner_options.get("service_url")
        if remote:
            url = remote
        else:
            server = servers.get(spec.server or DEFAULT_SERVER)
            url = server.url
    overrides = dict(spec.overrides)
    if spec.client:
        overrides["client"] = spec.client
    if getattr(WORKLOADS[spec.workload], "needs_database", False):
        return database_scenario(request, spec, overrides)
    workload = settings.make_workload(spec.workload, url, **overrides)
    return Scenario(spec, workload, server)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    # Before pytest-benchmark writes its JSON (in its own wrapper of this hook), so that
    # the file says whether the run it holds finished.
    session.config.stash[EXIT_STATUS] = exitstatus
    session.config.stash[FAILED_SCENARIOS] = session.testsfailed
    probes = session.config.stash.get(DRIFT_PROBES, None)
    if probes:
        probes.append(drift.probe("end"))
    yield


@pytest.hookimpl(wrapper=True)
def pytest_benchmark_group_stats(config: pytest.Config, benchmarks: list[Any],
                                 group_by: str) -> Any:
    """A scenario that is not a result (its test marked its benchmark as an error) keeps no
    timings anywhere: pytest-benchmark leaves it out of the JSON, and this leaves it out of
    the terminal table, which it would otherwise still draw."""
    groups = yield
    settings = config.stash.get(SETTINGS, None)
    if settings is not None and settings.service is not None:
        # A rate's one timed round lasts as long as its schedule: pytest-benchmark's timing
        # table would say nothing; the report reads each rate's latency instead.
        return []
    session = getattr(config, "_benchmarksession", None)  # pytest-benchmark's own session
    errored = {bench.fullname for bench in getattr(session, "benchmarks", [])
               if bench.has_error}
    kept = [(name, [bench for bench in group if bench.get("fullname") not in errored])
            for name, group in groups]
    return [(name, group) for name, group in kept if group]


def fairness_rules(warmup_rounds: int) -> dict[str, str]:
    """What makes two rows comparable, as this suite keeps it."""
    return {
        "Warm-ups": f"{warmup_rounds} uncounted round(s) before every pass, "
        "which rebuilds its runner; a later pass warms on (at most 3 more) while a "
        "warm-up round is above 1.3x the earlier passes' median",
        "Same kind of thread": "every runner's tasks run on a worker thread or in a "
        "worker process: the sequential baseline and the event loops on a thread of "
        "their own started before timing; the main thread only hands work over",
        "Work in flight": "C is the most tasks running at once, held by the runner's "
        "own workers (a pool's C workers, an event loop's semaphore of C, a Dask "
        "cluster's C worker threads); every task of a round is handed over at its start",
        "Two clocks": "service time (a task's first instruction to its checked result) "
        "and the caller's wait (hand-over to the checked result back in the client)",
        "Heap": "each round starts from gc.collect() then gc.freeze(), outside timing, "
        "so its collections walk only what the round made",
        "Start-up samples": "process and subinterpreter pools are opened and closed "
        "twice more before timing in a scenario's first pass, each open timed with the "
        "memory it adds, so that start-up and memory compare with an interval",
        "Drift probe": "a 4 ms pure-Python summation, a 1 ms sleep's overshoot and a "
        "loopback round trip at the start, before each workload and at the end "
        "(machine_info.drift_probes; --compare weighs changes against them)",

    }


def pytest_benchmark_update_commit_info(config: pytest.Config,
                                        commit_info: dict[str, Any]) -> None:
    """The suite's own commit, not the working directory's (bench.environment)."""
    commit_info.clear()
    commit_info.update(suite_commit())


def pytest_benchmark_update_machine_info(config: pytest.Config,
                                         machine_info: dict[str, Any]) -> None:
    settings = config.stash[SETTINGS]
    status = config.stash.get(EXIT_STATUS, None)
    build = python_build()
    fairness = Fairness(
        timed_region="warm: loop, pool, session and worker start-up happen before timing",
        rounds=settings.plan.forced,  # None: as many as the precision target needs
        precision_target=settings.plan.target,
        max_rounds=settings.plan.max_rounds,
        max_seconds=settings.plan.max_seconds,
        warmup_rounds=settings.warmup_rounds,
        start_method=str(settings.runner_options.get("start_method")
                         or build["default_start_method"]),
        http_clients=describe_clients(),
        http_client_choice=list(settings.http_clients),
        http_timeout_s=settings.knobs["http"]["timeout_s"],
        server=settings.target_url or
        f"local {' and '.join(settings.servers)} server in its own process on 127.0.0.1",
        # What makes two rows comparable, as this run kept it (the report quotes these, so
        # an older run, made without them, is not described with rules it did not follow).
        rules=fairness_rules(settings.warmup_rounds))
    info = RunInfo(
        schema_version=SCHEMA_VERSION,
        run_status="unknown" if status is None else RUN_STATUS.get(status, "stopped"),
        failed_tests=config.stash.get(FAILED_SCENARIOS, 0),
        usable_cores=usable_cores(),
        # Runners asked for that cannot run here: the report says so instead of a gap.
        unavailable_runners={name: reason for name in settings.runners
                             if (reason := RUNNERS[name].unavailable()) is not None},
        not_applicable=[f"{runner} on {workload}: {reason}" for workload in settings.workloads
                        for runner in settings.runners
                        if (reason := not_applicable(runner, workload))],
        python_build=PythonBuild.from_dict(build),
        library_versions=library_versions(),
        drift_probes=config.stash.get(DRIFT_PROBES, []),
        fairness=fairness,
        # How this run shows every runner: a later registry never relabels it.
        runners={name: RunnerStyle(cls.colour, cls.order, cls.baseline,
                                   (cls.__doc__ or "").strip().split("\n")[0], cls.parallel)
                 for name, cls in RUNNERS.items()})
    machine_info.update(info.as_dict())
    if DATABASE_INFO in config.stash:
        machine_info["database"] = config.stash[DATABASE_INFO] | {
            "settings": dict(DATABASE_SETTINGS)}
    identities = config.stash.get(SERVER_IDENTITY, None) or {}
    if identities:  # which Python served: the same for every interpreter of a run
        identity = next(iter(identities.values()))
        machine_info["server_python"] = f"{identity.get('python')} ({identity.get('python_build')})"
        machine_info["servers"] = {
            kind: {key: found.get(key) for key in ("server", "server_version", "http_parser")
                   if found.get(key) is not None} for kind, found in identities.items()}
