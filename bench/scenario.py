"""A scenario is one question: N tasks of workload W, at most C in flight, under runner R.

`scenarios_for` expands the settings into the matrix for one workload: each runner at
each concurrency level it runs at (the sequential baseline at 1 only), once per task
count, and for a workload that makes requests, once per HTTP client that serves the
runner's twin and once per local test server.  Which levels and options apply is asked
of the runner classes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from bench.runners import RUNNERS, runner_options
from bench.service import REFINE_STEPS
from workloads import WORKLOADS, Workload
from workloads.clients import ASYNC, DEFAULT_FOR, SYNC, serves
from workloads.server import DEFAULT_SERVER, ServerProcess

if TYPE_CHECKING:
    from bench.options import Settings


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything about a scenario except where the server is (known only at run time)."""

    workload: str
    runner: str
    tasks: int
    concurrency: int
    rounds: int
    warmup_rounds: int
    runner_options: tuple[tuple[str, Any], ...] = ()  # e.g. (("start_method", "spawn"),)
    overrides: tuple[tuple[str, Any], ...] = ()  # workload knobs that differ from the options
    timed_setup: bool = False  # "cold": build and tear down the runner inside every round
    claim: str = ""  # the claim this scenario is evidence for, if any
    pass_index: int = 1  # which pass of rounds this is (bench.precision)
    client: str = ""  # the HTTP library of a workload that makes requests (workloads.clients)
    server: str = ""  # which local test server answers, for a workload that needs one
    rate: float | None = None  # service mode: requests per second offered (bench.service)
    duration_s: float = 0.0  # service mode: seconds of arrivals counted
    arrivals: str = ""  # service mode: constant or poisson
    arrival_seed: int = 0  # service mode: the Poisson arrivals' seed (the run's, recorded)
    slo_s: float | None = None  # service mode: the latency target, if given
    service_warmup_s: float = 0.0  # service mode: seconds served uncounted first
    sweep: bool = False  # service mode, --rate auto: skipped above the model's saturation
    cores: int | None = None  # --cores: the client and its workers pinned to this many
    refine: int = 0  # --rate auto: the k-th bisection of the bracket (its rate set at run time)

    @property
    def model_key(self) -> str:
        """The scenario without its load: one model at one C (a rate sweep's unit)."""
        return replace(self, rate=None, tasks=0, refine=0).key

    @property
    def id(self) -> str:
        known = runner_options()
        options = "".join(f"-{known[name].id_part(value)}" if name in known else f"-{value}"
                          for name, value in self.runner_options)
        # The default libraries and server go unnamed, so that ids stay as they were.
        client = f"-{self.client}" if self.client and \
            self.client not in DEFAULT_FOR.values() else ""
        server = f"-{self.server}" if self.server and self.server != DEFAULT_SERVER else ""
        knobs = "".join(f"-{key}={value}" for key, value in self.overrides)
        cold = "-cold" if self.timed_setup else ""
        load = f"-n{self.tasks}" if self.rate is None else \
            f"-refine{self.refine}" if self.refine else f"-r{self.rate:g}"
        cores = "" if self.cores is None else f"-k{self.cores}"
        return (f"{self.runner}{options}{client}{server}-c{self.concurrency}{load}"
                f"{knobs}{cold}{cores}")

    @property
    def key(self) -> str:
        """Unique across workloads and claims; the passes of one scenario share it."""
        return "/".join(part for part in (self.claim, self.workload, self.id) if part)


class LocalProcess(Protocol):
    """A server the suite runs for a scenario: the HTTP test server or the database."""

    @property
    def pid(self) -> int: ...

    def exit_code(self) -> int | None: ...


@dataclass(frozen=True)
class Scenario:
    """A scenario ready to run: its spec, its workload built, and the local server if used."""

    spec: ScenarioSpec
    workload: Workload
    server: LocalProcess | None = None  # None: no server, or a --target-url or --db-url

    @property
    def server_pid(self) -> int | None:
        return None if self.server is None else self.server.pid

    def server_exit(self) -> str | None:
        """A line saying the local server has stopped, or None while it runs."""
        code = None if self.server is None else self.server.exit_code()
        what = "test server" if isinstance(self.server, ServerProcess) else "database"
        return None if code is None else f"the {what} exited (code {code})"


def side_of(runner: str) -> str:
    """Which twin a runner runs, as the HTTP clients see it: async or sync."""
    return ASYNC if RUNNERS[runner].uses_async_twin else SYNC


def clients_for(workload: str, runner: str, clients: tuple[str, ...]) -> tuple[str, ...]:
    """The HTTP clients `runner` runs `workload` with: the given ones that serve its twin.
    If none does, the first one, whose scenario is then skipped with the reason."""
    if not getattr(WORKLOADS[workload], "takes_http_client", False):
        return ("",)
    fitting = tuple(client for client in clients if serves(client, side_of(runner)))
    return fitting or clients[:1]


@dataclass(frozen=True)
class Model:
    """One model as the settings ask for it: runner, its options, server, client, C, K."""

    runner: str
    options: tuple[tuple[str, Any], ...]
    server: str
    client: str
    concurrency: int
    cores: int | None


def models_for(workload: str, settings: Settings) -> list[Model]:
    """Each runner at each concurrency level it runs at (the sequential baseline at 1 only),
    with each HTTP client that serves its twin and each local server, on each --cores K."""
    found = []
    for name in settings.runners:
        runner = RUNNERS[name]
        options = tuple((option.name, settings.runner_options[option.name])
                        for option in runner.options
                        if settings.runner_options.get(option.name) is not None)
        local = WORKLOADS[workload].needs_server and not settings.target_url and \
            not settings.runner_options.get("service_url")
        for server in settings.servers if local else ("",):
            for client in clients_for(workload, name, settings.http_clients):
                for concurrency, cores in itertools.product(
                        runner.levels(settings.concurrency), settings.cores or (None,)):
                    found.append(Model(name, options, server, client, concurrency, cores))
    return found


def scenarios_for(workload: str, settings: Settings) -> list[ScenarioSpec]:
    """Every pass of every scenario of one workload, pass by pass within each task count, so
    that the runners being compared take their rounds in alternation."""
    if settings.service is not None:
        return _service_specs(workload, settings)
    specs = []
    plan = settings.plan
    for tasks in settings.tasks_for(workload):
        for pass_index in range(1, plan.passes + 1):
            # Every pass builds its runner anew (new pools, loops, sessions), so every pass
            # warms its own before it counts: a cold first round is never counted.
            specs += [ScenarioSpec(workload, m.runner, tasks, m.concurrency,
                                   plan.rounds_in(pass_index), settings.warmup_rounds,
                                   m.options, pass_index=pass_index, client=m.client,
                                   server=m.server, cores=m.cores)
                      for m in models_for(workload, settings)]
    return specs


def _service_specs(workload: str, settings: Settings) -> list[ScenarioSpec]:
    """Service mode: every model at each offered rate, rate by rate (so that a sweep learns
    each model's saturation before offering it more); one measured run each (its requests
    are the samples)."""
    service = settings.service
    assert service is not None
    # --rate auto: after the sweep, each model's bracket bisected REFINE_STEPS times (the
    # rate of each is known only when it runs: bench.test_benchmarks).
    steps = [(rate, 0) for rate in service.rates] + \
        [(service.rates[-1], step) for step in range(1, REFINE_STEPS + 1) if service.auto]
    return [ScenarioSpec(workload, m.runner, max(1, round(rate * service.duration_s)),
                         m.concurrency, 1, 0, m.options, client=m.client, server=m.server,
                         rate=rate, duration_s=service.duration_s, arrivals=service.arrivals,
                         arrival_seed=service.seed,
                         slo_s=service.slo_s, service_warmup_s=service.warmup_s,
                         sweep=service.auto, cores=m.cores, refine=step)
            for rate, step in steps for m in models_for(workload, settings)]
