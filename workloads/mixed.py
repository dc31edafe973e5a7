"""Mixed I/O and CPU: wait (a simulated call), then compute on what came back.

The shape of many real handlers.  The hybrid twin awaits the wait on the event loop
and sends only the summation to a process pool, which is what `run_in_executor` with
a process pool is for.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import Offload, Workload, WrongResult, knob, register_workload
from workloads.cpu import CpuWorkload, expected_sum, sum_of_squares


@register_workload
@dataclass(frozen=True)
class MixedWorkload(Workload):
    name: ClassVar[str] = "mixed"
    order: ClassVar[int] = 50
    default_tasks: ClassVar[int] = 32
    wait_s: float = knob(0.02, "milliseconds each task waits before computing", low=0,
                         high=600_000, option="--mixed-wait-ms", scale=0.001)
    n: int = knob(300_000, "sum of squares below n, computed after the wait", low=1,
                  high=10**9)

    def call(self) -> int:
        time.sleep(self.wait_s)
        return sum_of_squares(self.n)

    async def acall(self, client: Any) -> int:
        await asyncio.sleep(self.wait_s)
        return sum_of_squares(self.n)

    async def ahybrid(self, client: Any, offload: Offload) -> object:
        await asyncio.sleep(self.wait_s)
        return await offload(sum_of_squares, self.n)

    def check(self, result: object) -> None:
        if result != expected_sum(self.n):
            raise WrongResult(f"sum was {result!r}, expected {expected_sum(self.n)}")

    ideal_basis: ClassVar[str] = ("the wait plus the fastest sum seen in this process "
                                  "(calibration and counted tasks)")

    def cpu_seconds(self) -> float:
        return CpuWorkload(self.n).task_seconds()

    def gil_cpu_seconds(self) -> float:
        return self.cpu_seconds()  # the summation after the wait

    def observe(self, fastest_task_s: float) -> None:
        # A task is a wait and then the sum: what is left after the wait is the sum's time.
        if fastest_task_s > self.wait_s:
            CpuWorkload(self.n).observe(fastest_task_s - self.wait_s)

    def task_seconds(self) -> float:
        return self.wait_s + self.cpu_seconds()

    def ideal_seconds(self, tasks: int, concurrency: int, cores: int) -> float:
        # Each slot needs wait + compute per task; the computing also needs a core.
        slots = math.ceil(tasks / concurrency) * self.task_seconds()
        return max(slots, math.ceil(tasks / min(concurrency, cores)) * self.cpu_seconds())

