"""CPU-bound work: the sum of squares below n, in pure Python.

The generator keeps the interpreter busy and holds the GIL the whole time, so this
shows what each model does with work that never waits.  The answer has a closed
form, n(n-1)(2n-1)/6, which `check` compares against.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import Workload, WrongResult

DEFAULT_N = 300_000
CALIBRATION_CALLS = 5


def sum_of_squares(n: int) -> int:
    return sum(i * i for i in range(n))


@functools.cache
def measured_task_seconds(n: int) -> float:
    """Median time of one summation in this process, measured once per n."""
    samples = []
    for _ in range(CALIBRATION_CALLS):
        start = time.perf_counter()
        sum_of_squares(n)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass(frozen=True)
class CpuWorkload(Workload):
    name: ClassVar[str] = "cpu"
    n: int = DEFAULT_N

    def call(self) -> int:
        return sum_of_squares(self.n)

    async def acall(self, client: Any) -> int:
        # No await inside: this is what CPU work looks like on an event loop.
        return sum_of_squares(self.n)

    def check(self, result: object) -> None:
        expected = (self.n - 1) * self.n * (2 * self.n - 1) // 6
        if result != expected:
            raise WrongResult(f"sum was {result!r}, expected {expected}")

    def task_seconds(self) -> float:
        return measured_task_seconds(self.n)

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float:
        # Computation only overlaps on separate cores.
        return math.ceil(tasks / min(concurrency, cores)) * self.task_seconds()
