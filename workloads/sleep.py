"""Simulated I/O: each task waits `seconds` and does nothing else.

The purest test of a concurrency model's overhead: with no CPU work and no real
I/O, anything above ceil(N / C) * seconds is the cost of the model itself.

`blocking=True` is the classic mistake, kept for measuring it: the async twin calls
`time.sleep` inside the coroutine and so holds the whole event loop while it waits.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import Workload, WrongResult, knob, register_workload

MAX_SECONDS = 600.0


@register_workload
@dataclass(frozen=True)
class SleepWorkload(Workload):
    name: ClassVar[str] = "sleep"
    order: ClassVar[int] = 10
    default_tasks: ClassVar[int] = 128
    in_default_matrix: ClassVar[bool] = True
    seconds: float = knob(0.02, "milliseconds each task waits", low=0, high=MAX_SECONDS * 1000,
                          option="--sleep-ms", scale=0.001)
    blocking: bool = False

    def call(self) -> float:
        time.sleep(self.seconds)
        return self.seconds

    async def acall(self, client: Any) -> float:
        if self.blocking:
            time.sleep(self.seconds)  # the pitfall, on purpose
        else:
            await asyncio.sleep(self.seconds)
        return self.seconds

    def check(self, result: object) -> None:
        if result != self.seconds:
            raise WrongResult(f"slept {result!r}, expected {self.seconds!r}")

    def task_seconds(self) -> float:
        return self.seconds
