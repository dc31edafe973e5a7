"""What every runner is, and the registry that knows them by name.

A runner is a context manager.  Entering it builds what the model needs (event loop
and client session, thread pool, or process pool with every worker started);
`run(tasks)` then runs N tasks, at most `concurrency` at a time, and returns an
Outcome; leaving it tears everything down.  Only `run` is meant to be timed, so that
the default ("warm") measurement leaves set-up and teardown out.

The class also declares what the rest of the suite asks of it, so that no other
module compares runner names: its options, the concurrency levels it runs at, the
threads and worker processes it starts (for the limit checks), whether it can run on
this Python, and its colour and place in tables and charts.
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar

from bench.outcome import Outcome
from workloads.base import Workload

if TYPE_CHECKING:
    from bench.service import ServiceOutcome

START_METHODS = ("fork", "forkserver", "spawn")
WARM_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RunnerOption:
    """A command-line option that some runners take as a keyword argument of the same name.

    Its value is one of `choices`, or whatever `parse` makes of the string (raising
    ValueError with a one-line reason for a bad one)."""

    name: str
    option: str
    help: str
    choices: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = None
    label: Callable[[Any], str] = str  # how a value shows in a scenario's id

    def id_part(self, value: Any) -> str:
        return self.label(value)


START_METHOD = RunnerOption(
    "start_method", "--start-method",
    "process pool start method (default: this Python's default)", START_METHODS)


class Runner(ABC):
    """Runs N tasks of one workload at a fixed concurrency."""

    name: ClassVar[str]
    colour: ClassVar[str]  # the same in every chart
    order: ClassVar[int] = 100  # where it stands in tables, charts and lists
    in_default_matrix: ClassVar[bool] = False  # run when --runner is not given
    # The runner every other's speedup is read against (one task at a time, C=1); the run
    # records which, so the report never compares against a name.
    baseline: ClassVar[bool] = False
    options: ClassVar[tuple[RunnerOption, ...]] = ()
    uses_async_twin: ClassVar[bool] = False  # event-loop runners await the workload's `acall`
    # What one worker process costs, checked against memory and open files: a spawned
    # worker with aiohttp and requests imported, and its call queue, result pipe,
    # sentinel and wake-up pipe in the parent.
    worker_memory: ClassVar[int] = 40 * 1024 * 1024
    worker_files: ClassVar[int] = 4
    workers_set_by: ClassVar[str] = "--concurrency"  # the option that lowers the count
    # Whether its start-up is worth sampling (opened and closed a few times before timing,
    # first pass only): runners whose start-up and memory a comparison decides on.
    samples_startup: ClassVar[bool] = False

    def __init__(self, workload: Workload, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.workload = workload
        self.concurrency = concurrency

    @classmethod
    def levels(cls, requested: tuple[int, ...]) -> tuple[int, ...]:
        """The concurrency levels this runner runs at, given the ones asked for."""
        return requested

    @classmethod
    def threads_started(cls, concurrency: int) -> int:
        """OS threads it starts at this concurrency (checked against the machine's limits)."""
        return 0

    @classmethod
    def worker_processes(cls, concurrency: int,
                         options: Mapping[str, Any] | None = None) -> int:
        """Worker processes it starts at this concurrency with these runner options
        (checked against memory and files)."""
        return 0

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this runner cannot run on this Python, or None if it can."""
        return None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> str | None:
        """A one-line reason the options given cannot work (checked before any scenario
        runs, within seconds), or None."""
        return None

    def __enter__(self) -> Runner:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:  # noqa: B027 - runners without set-up need nothing here
        """Build and warm whatever the model needs before the first timed round."""

    @abstractmethod
    def run(self, tasks: int) -> Outcome:
        """Run `tasks` tasks and account for every one of them."""

    def close(self) -> None:
        self.workload.close_sync_clients()

    def describe(self) -> dict[str, Any]:
        return {"runner": self.name, "concurrency": self.concurrency, "start_method": None}

    def details(self) -> dict[str, Any]:
        """What else a record should say about this runner's set-up (e.g. a cluster's
        address, workers and versions); empty for most."""
        return {}

    def outside_processes(self) -> list[int]:
        """PIDs on this machine that work for this runner without being this process's
        children (their CPU is the client's, not a neighbour's)."""
        return []

    def task_overhead(self) -> float | None:
        """Median round trip of a task that does nothing, measured on the open runner
        before timing; None where a task is not sent anywhere."""
        return None

    # Whether it runs Python on several cores at once, GIL or not (worker processes, or
    # interpreters with a GIL each); a single GIL process is bound to one core's worth.
    parallel: ClassVar[bool] = False
    # Whether it takes requests as they arrive (service mode, bench.service).
    serves: ClassVar[bool] = True

    @classmethod
    def max_rate(cls) -> float | None:
        """The most requests per second its load generator sends on time, where the
        runner has a generator of its own (None: the suite's in-process one)."""
        return None

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        """One request at each offset (seconds from now), handed over at its time; every
        request's latency counts from its scheduled arrival (bench.service)."""
        raise NotImplementedError(f"the {self.name} runner has no service mode")


P = ParamSpec("P")
T = TypeVar("T")


class HomeThread:
    """The one worker thread on which a runner without workers of its own runs its tasks
    (the sequential baseline; an event loop).

    The same job does not cost the same on the main thread as on a worker thread: it
    depends on the thread and on what that thread ran before (measured on the suite's main
    thread: 41.9 to 47.3 ms per task for sequential, by the order the runners ran in, while
    a worker thread gave 43.4 to 44.4 ms).  Pool runners' tasks always run on threads the
    pool started or in worker processes, so the others run on a thread of their own, started
    before timing: every runner's job starts from the same kind of thread, and the main
    thread only hands work over and waits, as it does for a pool.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-home")
        self._executor.submit(lambda: None).result(WARM_TIMEOUT_S)  # started before timing

    def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `function` on the home thread and wait for its result."""
        return self._executor.submit(function, *args, **kwargs).result()

    @property
    def executor(self) -> Executor:
        """The home thread as an executor of one (service mode hands requests to it)."""
        return self._executor

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def checked_start_method(start_method: str | None) -> str:
    method = start_method or multiprocessing.get_start_method()
    if method not in START_METHODS:
        raise ValueError(f"start method must be one of {', '.join(START_METHODS)}")
    return method


R = TypeVar("R", bound=type[Runner])
RUNNERS: dict[str, type[Runner]] = {}


def register_runner(cls: R) -> R:
    """Make a runner class known to the options, the suite, `--help` and the charts."""
    if cls.name in RUNNERS and RUNNERS[cls.name] is not cls:
        raise ValueError(f"a runner named {cls.name!r} is registered already")
    RUNNERS[cls.name] = cls
    ordered = sorted(RUNNERS.values(), key=lambda known: known.order)
    RUNNERS.clear()
    RUNNERS.update((known.name, known) for known in ordered)
    return cls


def default_runners() -> tuple[str, ...]:
    return tuple(name for name, cls in RUNNERS.items() if cls.in_default_matrix)


def runner_options() -> dict[str, RunnerOption]:
    """Every option any registered runner takes, once each, by name."""
    return {option.name: option for cls in RUNNERS.values() for option in cls.options}


def make_runner(name: str, workload: Workload, concurrency: int,
                options: Mapping[str, Any] | None = None) -> Runner:
    """Build a runner by its registry name, passing it the options it declares."""
    if name not in RUNNERS:
        raise ValueError(f"unknown runner {name!r}; choose from {', '.join(RUNNERS)}")
    cls = RUNNERS[name]
    given = options or {}
    mine = {option.name: given[option.name] for option in cls.options
            if given.get(option.name) is not None}
    return cls(workload, concurrency, **mine)
