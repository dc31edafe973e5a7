"""What every workload is: one job written twice, sized by its own knobs.

A workload is a small frozen dataclass.  Its sync twin (`call`) runs under the
sequential, thread and process runners; its async twin (`acall`) runs under asyncio.
Both do the same work and return the same result, which `check` verifies, so a wrong
answer is counted as a failed task instead of passing as a fast one.

The class declares everything the rest of the suite asks of it: its registry `name`,
its `default_tasks`, whether it `needs_server`, and its knobs.  A knob is a field made
with `knob(...)`: its type, default, range and help live there and nowhere else, and
the option parser and `--help` read them from the class.

Instances are pickled to process-pool workers, so every subclass must be a
module-level class whose fields are plain values.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import typing
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

# Runs a picklable function with its arguments in a process pool, from the event loop.
Offload = Callable[..., Awaitable[object]]


class TaskFailed(Exception):
    """A task failed in a way both twins name alike (status, timeout, connection)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class WrongResult(TaskFailed):
    """A task finished but returned something other than its twin's result."""

    def __init__(self, detail: str) -> None:
        super().__init__("wrong_result", detail)


@dataclass(frozen=True)
class Knob:
    """How a workload field is set from the command line (see `knob`)."""

    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    option: str = ""  # the flag; "" means --<workload>-<field>
    scale: float = 1.0  # field value = option value x scale (e.g. milliseconds to seconds)
    pattern: str = ""  # a string knob's accepted form (a regular expression), if any


@dataclass(frozen=True)
class KnobField:
    """A knob as the option parser sees it: the field, its type and default, and the Knob."""

    name: str
    type: type
    default: Any
    knob: Knob


def knob(default: Any, help: str, *, low: float | None = None, high: float | None = None,
         choices: tuple[str, ...] = (), option: str = "", scale: float = 1.0,
         pattern: str = "") -> Any:
    """A dataclass field that is also a command-line knob of its workload."""
    return dataclasses.field(default=default, metadata={
        "knob": Knob(help, low, high, choices, option, scale, pattern)})


CALIBRATION_CALLS = 5

# The fastest time one task of each CPU job (by value) took in this process: first from
# a few calls alone, then lowered by every faster task a run observes.  A busy moment
# can only make a task slower, so the minimum is the best estimate of its own cost.
_fastest: dict[Workload, float] = {}
_fastest_lock = threading.Lock()


def best_seconds(workload: Workload) -> float:
    """Fastest known time of one `workload.call` in this process.

    Calibrated once per workload value (a warm-up call, then the best of a few), outside
    every timing; `observe_seconds` lowers it when a run sees a faster task, so a
    calibration taken at a busy moment cannot inflate the ideal.
    """
    known = _fastest.get(workload)
    if known is not None:
        return known
    workload.call()
    samples = []
    for _ in range(CALIBRATION_CALLS):
        start = time.perf_counter()
        workload.call()
        samples.append(time.perf_counter() - start)
    return observe_seconds(workload, min(samples))


def observe_seconds(workload: Workload, seconds: float) -> float:
    """Record that one task of `workload` took `seconds`; return the fastest known."""
    with _fastest_lock:
        fastest = min(seconds, _fastest.get(workload, seconds))
        _fastest[workload] = fastest
    return fastest


class Workload(ABC):
    """One job with a sync and an async twin; subclasses are frozen dataclasses."""

    name: ClassVar[str]
    order: ClassVar[int] = 100  # where it stands in tables, charts and lists
    default_tasks: ClassVar[int] = 32
    needs_server: ClassVar[bool] = False  # True: the suite passes the test server as base_url
    needs_database: ClassVar[bool] = False  # True: the suite passes its database as url
    takes_http_client: ClassVar[bool] = False  # True: its scenarios name an HTTP library
    in_default_matrix: ClassVar[bool] = False  # run when --workload is not given
    ideal_basis: ClassVar[str] = "the task's own wait"  # how `task_seconds` is known

    @classmethod
    def knobs(cls) -> list[KnobField]:
        """The fields made with `knob`, in declaration order, with their resolved types."""
        hints = typing.get_type_hints(cls)
        return [KnobField(f.name, hints[f.name], f.default, f.metadata["knob"])
                for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                if "knob" in f.metadata]

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this workload cannot run on this Python (a package without a wheel), or None."""
        return None

    @classmethod
    def connections(cls, concurrency: int) -> int:
        """Sockets the client holds at this concurrency (for the open-file check)."""
        return 0

    def observe(self, fastest_task_s: float) -> None:  # noqa: B027 - only CPU jobs learn
        """Learn from the fastest task a run saw (CPU jobs lower their ideal with it)."""

    def faults_injected(self) -> bool:
        """Whether some tasks are made to fail on purpose (their failures are expected)."""
        return False

    @abstractmethod
    def call(self) -> object:
        """Run one task synchronously and return its result."""

    async def acall(self, client: Any) -> object:
        """Run one task on the event loop with the client from `async_client`.  Optional:
        a workload without it runs under the sync runners only."""
        raise NotImplementedError(f"the {self.name} workload has no async twin")

    def for_task(self, index: int) -> Workload:
        """The workload as task `index` of a round runs it (the same, unless it injects faults)."""
        return self

    async def ahybrid(self, client: Any, offload: Offload) -> object:
        """The hybrid twin: the loop awaits, a process pool computes.

        By default the whole sync twin goes to the pool; a workload that mixes I/O and
        CPU overrides this to await its I/O on the loop and offload only the CPU part.
        """
        return await offload(self.call)

    @abstractmethod
    def check(self, result: object) -> None:
        """Raise WrongResult unless `result` is what one task must return."""

    def task_seconds(self) -> float | None:
        """How long one task must take at the least, on an otherwise idle machine; None
        where it is not known (then there is no ideal, and no efficiency)."""
        return None

    def gil_cpu_seconds(self) -> float | None:
        """The pure-Python CPU one task holds the GIL for, where known (None: unknown, or
        a job that waits or releases the GIL)."""
        return None

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float | None:
        """The best wall time N tasks can take at concurrency C on K cores.

        Waiting overlaps freely, so I/O jobs need ceil(N / C) task times; CPU jobs
        override this to use min(C, K) instead of C.
        """
        task = self.task_seconds()
        return None if task is None else math.ceil(tasks / concurrency) * task

    @classmethod
    def has_async_twin(cls) -> bool:
        """Whether the class writes its own `acall` (runners on an event loop need one)."""
        return cls.acall is not Workload.acall

    @classmethod  # noqa: B027 - optional hook, nothing to check by default
    def validate(cls, values: dict[str, Any], allow_remote: bool) -> None:
        """Check knob values together before any run; raise ValueError with one line."""

    @asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[Any]:
        """Whatever the async twin shares across tasks (none by default)."""
        yield None

    def close_sync_clients(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release clients that sync twins opened in this process."""

    def describe(self) -> dict[str, object]:
        """The sizing knobs, for the record of a run."""
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}


class CpuBoundWorkload(Workload):
    """A job that computes and never waits: it overlaps only on separate cores."""

    ideal_basis: ClassVar[str] = ("fastest single task seen in this process: a calibration "
                                  "before timing and every counted task so far")

    def task_seconds(self) -> float:
        return best_seconds(self)

    def observe(self, fastest_task_s: float) -> None:
        observe_seconds(self, fastest_task_s)

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float | None:
        return math.ceil(tasks / min(concurrency, cores)) * self.task_seconds()


W = TypeVar("W", bound=type[Workload])
WORKLOADS: dict[str, type[Workload]] = {}


def register_workload(cls: W) -> W:
    """Make a workload class known to the options, the suite and `--help` by its name."""
    if cls.name in WORKLOADS and WORKLOADS[cls.name] is not cls:
        raise ValueError(f"a workload named {cls.name!r} is registered already")
    WORKLOADS[cls.name] = cls
    ordered = sorted(WORKLOADS.values(), key=lambda known: known.order)
    WORKLOADS.clear()
    WORKLOADS.update((known.name, known) for known in ordered)
    return cls


def default_workloads() -> tuple[str, ...]:
    return tuple(name for name, cls in WORKLOADS.items() if cls.in_default_matrix)
