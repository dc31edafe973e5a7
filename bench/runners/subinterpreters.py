"""Subinterpreters: a pool of C threads, each running its own interpreter with its own GIL.

`InterpreterPoolExecutor` is in the standard library from 3.14; on 3.12 and 3.13 it comes
from the PEP 734 backport on PyPI (`interpreters-pep-734`, module
`interpreters_backport`).  Tasks and results cross between interpreters pickled, as they
do to a process pool, so the same module-level `run_task` serves.  Where neither exists,
the runner says why and its scenarios are skipped with that reason.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Executor
from typing import Any, ClassVar, cast

from bench.runners.base import WARM_TIMEOUT_S, register_runner
from bench.runners.pools import PoolRunner
from workloads.base import Workload

WARM_HOLD_S = 0.05  # each warm-up job holds its worker this long, so that all C start


STANDARD = "concurrent.futures.InterpreterPoolExecutor (standard library)"
BACKPORT = "interpreters_backport.concurrent.futures.InterpreterPoolExecutor (PEP 734 backport)"


def executor_class() -> type[Executor] | None:
    """The InterpreterPoolExecutor of this Python, or None."""
    found = _executor()
    return None if found is None else found[0]


def _executor() -> tuple[type[Executor], str] | None:
    """The standard library's executor where there is one (3.14+), else the backport's,
    with which it is."""
    try:
        from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined]
    except ImportError:
        try:
            from interpreters_backport.concurrent.futures import (  # type: ignore[import-not-found]
                InterpreterPoolExecutor,
            )
        except ImportError:
            return None
        return InterpreterPoolExecutor, BACKPORT
    return InterpreterPoolExecutor, STANDARD


def _warm(workload: Workload) -> None:
    """Warm-up job: unpickling the workload imports its module in the subinterpreter; the
    hold keeps this worker busy so that the next submit starts another."""
    time.sleep(WARM_HOLD_S)


@register_runner
class InterpreterRunner(PoolRunner):
    """`InterpreterPoolExecutor(max_workers=C)`: threads with an interpreter (and GIL) each."""

    samples_startup: ClassVar[bool] = True  # claim 12 compares their start-up and memory

    parallel: ClassVar[bool] = True
    name: ClassVar[str] = "interpreters"
    colour: ClassVar[str] = "#e377c2"
    order: ClassVar[int] = 35

    @classmethod
    def unavailable(cls) -> str | None:
        if sys.version_info < (3, 12):
            return (f"subinterpreters need Python 3.12 or newer, this is "
                    f"{sys.version_info.major}.{sys.version_info.minor}")
        if executor_class() is None:
            return ("no InterpreterPoolExecutor on this Python: 3.14 has one, 3.12 and 3.13 "
                    "need the interpreters-pep-734 package")
        return None

    @classmethod
    def threads_started(cls, concurrency: int) -> int:
        return concurrency

    def details(self) -> dict[str, Any]:
        """Which executor ran the tasks: the record says so (3.14's own or the backport)."""
        found = _executor()
        return {**super().details(), "executor": None if found is None else found[1]}

    def _started_pool(self) -> Executor:
        executor = executor_class()
        if executor is None:
            raise RuntimeError(self.unavailable() or "no InterpreterPoolExecutor")
        pool: Any = cast(Any, executor)(max_workers=self.concurrency)
        try:
            futures = [pool.submit(_warm, self.workload) for _ in range(self.concurrency)]
            for future in futures:
                future.result(WARM_TIMEOUT_S)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        started: Executor = pool
        return started
