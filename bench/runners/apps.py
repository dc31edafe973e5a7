"""Real deployments: the twins served by uvicorn or gunicorn, loaded from other processes.

A runner here starts a deployment (workloads.serve) in a process group of its own and
loads it with the open-loop generator (bench.loadgen) in one or more processes of their
own, so that the generator, the deployment and the upstream test server never share a
process.  `serve` sends a schedule's requests at their times (service mode); `run` sends
N requests at once over C connections (a closed batch).  C is the generator's
connections: the most requests in flight from the load side.  The deployment's own
limits (workers, threads, backlog) are options with the servers' usual defaults,
recorded with every row.

    app-uvicorn           one uvicorn process: the async twin on one event loop
    app-uvicorn-workers   K uvicorn processes (default: one per usable core)
    app-gunicorn-sync     K sync workers, one request at a time each (default 2 x cores + 1)
    app-gunicorn-gthread  K workers x T threads (defaults 2 x cores + 1 and 2 x cores)

The gunicorn defaults are those its documentation recommends to start from: workers
2 x cores + 1, threads 2-4 x cores (the lower end taken).

With `--service-url URL` a runner starts nothing: it loads the deployment already running
there (`python -m workloads.serve`, on this machine or another), after checking that it is
this runner's server and serves the same workload with the same knobs.  Its workers and
threads are the deployment's own, as its /health tells; its CPU and memory are read only
when it runs on this machine.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from bench.environment import usable_cores
from bench.loadgen import MAX_PROCESSES, MAX_RATE_PER_PROCESS, GeneratorError, GeneratorProcess
from bench.outcome import Outcome, TaskResult
from bench.runners.base import Runner, RunnerOption, register_runner
from bench.service import DRAIN_TIMEOUT_S, ServiceOutcome
from workloads.base import Workload
from workloads.serve import (
    BACKLOG,
    HEALTH_PATH,
    Deployment,
    DeploymentError,
    DeploymentProcess,
    knob_values,
)
from workloads.server import SERVER_PYTHON

IDENTIFY_TIMEOUT_S = 10.0  # a deployment elsewhere answers its /health within this
LEAD_S = 0.05  # the schedule starts this long after the plans are sent: every generator ready
GENERATOR_MEMORY = 60 * 1024 * 1024  # a generator process: Python, aiohttp, uvloop


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected an integer, got {raw!r}") from None
    if not 1 <= value <= 1024:
        raise ValueError(f"must be between 1 and 1024, got {value}")
    return value


APP_WORKERS = RunnerOption(
    "app_workers", "--app-workers", "worker processes of a deployment (app-uvicorn-workers: "
    "default one per usable core; gunicorn: default 2 x cores + 1)", parse=_count,
    label=lambda count: f"{count}w")
APP_THREADS = RunnerOption(
    "app_threads", "--app-threads", "threads per gunicorn gthread worker (default 2 x cores)",
    parse=_count, label=lambda count: f"{count}t")
APP_BACKLOG = RunnerOption(
    "app_backlog", "--app-backlog", "a deployment's listen backlog (default 2048, both "
    "servers' own)", parse=_count, label=lambda count: f"{count}backlog")


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"expected http://HOST:PORT, got {raw!r}")
    return raw.rstrip("/")


SERVICE_URL = RunnerOption(
    "service_url", "--service-url", "load the deployment running at this URL (python -m "
    "workloads.serve, here or on another machine) instead of starting one", parse=_url,
    label=lambda url: f"at-{urlsplit(url).netloc}")


def _remote(found: dict[str, Any]) -> Deployment:
    described = found["deployment"]
    return Deployment(described["server"], described["workers"], described["threads"],
                      described["backlog"], described.get("limit_concurrency"))


def _plans(offsets: list[float], processes: int) -> list[list[tuple[int, float]]]:
    """Request i to generator i mod P: each keeps its share of every stretch of time."""
    return [[(index, offset) for index, offset in enumerate(offsets)
             if index % processes == part] for part in range(processes)]


def identify(url: str, timeout_s: float) -> dict[str, Any]:
    """The /health answer of the deployment at `url`, or a one-line DeploymentError."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise DeploymentError(f"expected http://HOST:PORT, got {url!r}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                            timeout=timeout_s)
    try:
        connection.request("GET", HEALTH_PATH)
        reply = connection.getresponse()
        body = reply.read()
    except OSError as exc:
        raise DeploymentError(f"{url} is unreachable ({type(exc).__name__}: {exc})") from None
    finally:
        connection.close()
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    if reply.status != 200 or not isinstance(found, dict) or \
            found.get("concurrency_bench") != "deployment" or not found.get("deployment"):
        raise DeploymentError(f"{url} answers but is not a concurrency-bench deployment "
                              "(start one with python -m workloads.serve)")
    return found


class AppRunner(Runner):
    """One deployment and its generators; what the four deployments share."""

    server: ClassVar[str]
    options: ClassVar[tuple[RunnerOption, ...]] = (APP_WORKERS, APP_BACKLOG, SERVICE_URL)
    workers_set_by: ClassVar[str] = "--app-workers"
    parallel: ClassVar[bool] = False

    def __init__(self, workload: Workload, concurrency: int, app_workers: int | None = None,
                 app_threads: int | None = None, app_backlog: int | None = None,
                 service_url: str | None = None) -> None:
        super().__init__(workload, concurrency)
        self.deployment = self.make_deployment(app_workers, app_threads, app_backlog)
        self.service_url = service_url
        self._live: DeploymentProcess | None = None
        self._remote_pid: int | None = None
        self._generators: list[GeneratorProcess] = []

    @classmethod
    def default_workers(cls) -> int:
        return 2 * usable_cores() + 1

    @classmethod
    def make_deployment(cls, workers: int | None, threads: int | None,
                        backlog: int | None) -> Deployment:
        return Deployment(cls.server, workers or cls.default_workers(), threads or 1,
                          backlog or BACKLOG)

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        given = options or {}
        return (given.get("app_workers") or cls.default_workers()) + 1 + MAX_PROCESSES

    @classmethod
    def unavailable(cls) -> str | None:
        package = "uvicorn" if cls.server == "uvicorn" else "gunicorn"
        if importlib.util.find_spec(package) is None:
            return f"{package} is not installed (pip install '.[servers]')"
        return None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> str | None:
        url = options.get("service_url")
        if not url:
            return None
        own = [option.option for option in cls.options
               if option is not SERVICE_URL and options.get(option.name) is not None]
        if own:
            return (f"--service-url: the deployment at {url} has its own settings; drop "
                    f"{', '.join(own)}")
        try:
            found = _remote(identify(url, IDENTIFY_TIMEOUT_S))
        except DeploymentError as exc:
            return f"--service-url: {exc}"
        if found.server != cls.server:
            return (f"--service-url: {url} runs {found.server}, not {cls.server}; "
                    f"load it with the runner that models {found.server}")
        return None

    @classmethod
    def max_rate(cls) -> float | None:
        return MAX_RATE_PER_PROCESS * MAX_PROCESSES

    def open(self) -> None:
        if self.uses_async_twin and not self.workload.has_async_twin():
            raise DeploymentError(f"the {self.workload.name} workload has no async twin "
                                  f"for {self.name}")
        if self.service_url:
            self._adopt(self.service_url)
        else:
            self._live = DeploymentProcess(self.deployment, self.workload, self.concurrency)
            self._live.__enter__()
        try:
            self._more_generators(1)
        except BaseException:  # a generator that does not start leaves no deployment behind
            self.close()
            raise

    def _adopt(self, url: str) -> None:
        """The deployment running at `url`, if it serves this run's workload as sized."""
        found = identify(url, IDENTIFY_TIMEOUT_S)
        ours = {"workload": self.workload.name, "knobs": knob_values(self.workload)}
        theirs = {"workload": found.get("workload"), "knobs": found.get("knobs")}
        if json.loads(json.dumps(ours, default=str)) != theirs:
            raise DeploymentError(f"the deployment at {url} serves {theirs['workload']} "
                                  f"{theirs['knobs']}, this run {ours['workload']} "
                                  f"{ours['knobs']}; start it with the same --set values")
        self.deployment = _remote(found)
        host = urlsplit(url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            from bench.resources import listening_pid
            self._remote_pid = listening_pid(urlsplit(url).port or 80)

    @property
    def url(self) -> str:
        if self._live is not None:
            return self._live.url
        if self.service_url:
            return self.service_url
        raise RuntimeError("open the runner before serving")

    @property
    def _pid(self) -> int | None:
        return self._live.pid if self._live is not None else self._remote_pid

    def _more_generators(self, wanted: int) -> None:
        while len(self._generators) < wanted:
            share = math.ceil(self.concurrency / wanted)
            generator = GeneratorProcess(share, os.environ.get(SERVER_PYTHON))
            self._generators.append(generator.__enter__())

    def close(self) -> None:
        generators, self._generators = self._generators, []
        for generator in generators:
            generator.stop()
        live, self._live = self._live, None
        if live is not None:
            live.stop()
        super().close()

    def describe(self) -> dict[str, Any]:
        return {"runner": self.name, "concurrency": self.concurrency, "start_method": None}

    def details(self) -> dict[str, Any]:
        return {"deployment": self.deployment.describe(), "slots": self.deployment.slots(),
                "slots_text": self.deployment.slots_text(),
                "generator_processes": len(self._generators),
                "generator_connections": self.concurrency, "service_url": self.service_url}

    def deployment_cpu(self) -> float | None:
        """The deployment's CPU so far (None: it runs where this machine cannot read it)."""
        # psutil is imported here, not with the runner registry: subinterpreters import
        # the registry, and cannot import single-phase extension modules.
        from bench.resources import tree_cpu_seconds
        return None if self._pid is None else tree_cpu_seconds(self._pid)

    def _send(self, offsets: list[float]) -> tuple[list[list[Any]], float, float | None]:
        """Every request at its offset; each request's result row, the generators' CPU
        and the deployment's CPU over the run (None where it cannot be read)."""
        url = self.url
        span = offsets[-1] - offsets[0] if len(offsets) > 1 else 0.0
        rate = (len(offsets) - 1) / span if span > 0 else 0.0
        needed = max(1, math.ceil(rate / MAX_RATE_PER_PROCESS))
        if needed > MAX_PROCESSES:
            raise GeneratorError(f"{rate:.0f} requests per second needs {needed} generator "
                               f"processes; at most {MAX_PROCESSES} run here "
                               f"({MAX_RATE_PER_PROCESS:g} each); lower --rate")
        self._more_generators(needed)
        used = self._generators[:needed] if rate > 0 else self._generators[:1]
        cpu_before = self.deployment_cpu()
        start = time.monotonic() + LEAD_S
        for generator, plan in zip(used, _plans(offsets, len(used)), strict=True):
            generator.send({"url": f"{url}/task", "start": start,
                            "requests": plan, "timeout_s": DRAIN_TIMEOUT_S})
        wait_s = LEAD_S + (offsets[-1] if offsets else 0.0) + DRAIN_TIMEOUT_S + 30
        replies = [generator.receive(wait_s) for generator in used]
        cpu_after = self.deployment_cpu()
        deployment_cpu = None if cpu_before is None or cpu_after is None else \
            cpu_after - cpu_before
        rows = sorted((row for reply in replies for row in reply["results"]),
                      key=lambda row: row[0])
        if len(rows) != len(offsets):
            raise RuntimeError(f"{len(offsets)} requests sent but {len(rows)} came back "
                               "from the generators")
        code = None if self._live is None else self._live.exit_code()
        if self._live is not None and code is not None:
            failed = sum(1 for row in rows if row[6])
            raise DeploymentError(f"the {self.deployment.server} deployment exited (code "
                                  f"{code}) during the run; {failed} of {len(rows)} requests "
                                  f"failed; its last log line: {self._live.last_log_line()}")
        return rows, sum(float(reply["cpu_s"]) for reply in replies), deployment_cpu

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        rows, generator_cpu, deployment_cpu = self._send(offsets)
        outcome = ServiceOutcome(offered=len(offsets))
        last = 0.0
        for _index, arrived, late, latency, on_wire, service, kind, detail in rows:
            outcome.lateness.append(late)
            if kind:
                outcome.arrived.append(arrived)
                outcome.returned.append(arrived + latency)
                outcome.fail(kind, detail)
                continue
            outcome.add(TaskResult(service), latency, arrived)
            outcome.sent_latencies.append(on_wire)
            last = max(last, arrived + latency)
        outcome.span_s = last
        outcome.generator_cpu_s = generator_cpu
        outcome.deployment_cpu_s = deployment_cpu
        from bench.resources import tree_pss_mb
        outcome.deployment_pss_mb = None if self._pid is None else tree_pss_mb(self._pid)
        return outcome

    def run(self, tasks: int) -> Outcome:
        rows, _, _ = self._send([0.0] * tasks)
        outcome = Outcome()
        for _index, _arrived, _late, latency, _wire, service, kind, detail in rows:
            if kind:
                outcome.fail(kind, 1, detail)
            else:
                outcome.add(TaskResult(service), latency)
        return outcome

    def outside_processes(self) -> list[int]:
        return []


@register_runner
class UvicornRunner(AppRunner):
    """One uvicorn process: the async twin on its event loop."""

    name: ClassVar[str] = "app-uvicorn"
    server: ClassVar[str] = "uvicorn"
    colour: ClassVar[str] = "#393b79"
    order: ClassVar[int] = 60
    uses_async_twin: ClassVar[bool] = True
    options: ClassVar[tuple[RunnerOption, ...]] = (APP_BACKLOG, SERVICE_URL)

    @classmethod
    def default_workers(cls) -> int:
        return 1

    @classmethod
    def make_deployment(cls, workers: int | None, threads: int | None,
                        backlog: int | None) -> Deployment:
        return Deployment(cls.server, 1, 1, backlog or BACKLOG)


@register_runner
class UvicornWorkersRunner(AppRunner):
    """K uvicorn worker processes behind one socket, an event loop each."""

    name: ClassVar[str] = "app-uvicorn-workers"
    server: ClassVar[str] = "uvicorn"
    colour: ClassVar[str] = "#6b6ecf"
    order: ClassVar[int] = 61
    uses_async_twin: ClassVar[bool] = True
    parallel: ClassVar[bool] = True

    @classmethod
    def default_workers(cls) -> int:
        return usable_cores()


@register_runner
class GunicornSyncRunner(AppRunner):
    """gunicorn's sync workers: each answers one request at a time."""

    name: ClassVar[str] = "app-gunicorn-sync"
    server: ClassVar[str] = "gunicorn-sync"
    colour: ClassVar[str] = "#8c6d31"
    order: ClassVar[int] = 62
    parallel: ClassVar[bool] = True


@register_runner
class GunicornThreadsRunner(AppRunner):
    """gunicorn's gthread workers: K processes of T threads."""

    name: ClassVar[str] = "app-gunicorn-gthread"
    server: ClassVar[str] = "gunicorn-gthread"
    colour: ClassVar[str] = "#e7ba52"
    order: ClassVar[int] = 63
    parallel: ClassVar[bool] = True
    options: ClassVar[tuple[RunnerOption, ...]] = (APP_WORKERS, APP_THREADS, APP_BACKLOG,
                                                   SERVICE_URL)

    @classmethod
    def make_deployment(cls, workers: int | None, threads: int | None,
                        backlog: int | None) -> Deployment:
        return Deployment(cls.server, workers or cls.default_workers(),
                          threads or 2 * usable_cores(), backlog or BACKLOG)
