"""CPU-bound work: the sum of squares below n, in pure Python.

The generator keeps the interpreter busy and holds the GIL the whole time, so this
shows what each model does with work that never waits.  The answer has a closed
form, n(n-1)(2n-1)/6, which `check` compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import CpuBoundWorkload, WrongResult, knob, register_workload


def sum_of_squares(n: int) -> int:
    return sum(i * i for i in range(n))


def expected_sum(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


@register_workload
@dataclass(frozen=True)
class CpuWorkload(CpuBoundWorkload):
    name: ClassVar[str] = "cpu"
    order: ClassVar[int] = 30
    default_tasks: ClassVar[int] = 16
    in_default_matrix: ClassVar[bool] = True
    n: int = knob(1_000_000, "sum of squares below n, per task", low=1, high=10**9)

    def call(self) -> int:
        return sum_of_squares(self.n)

    async def acall(self, client: Any) -> int:
        # No await inside: this is what CPU work looks like on an event loop.
        return sum_of_squares(self.n)

    def gil_cpu_seconds(self) -> float:
        return self.task_seconds()  # all of it: pure Python, holding the GIL

    def check(self, result: object) -> None:
        if result != expected_sum(self.n):
            raise WrongResult(f"sum was {result!r}, expected {expected_sum(self.n)}")
