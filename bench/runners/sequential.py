"""The baseline: one task after another in the calling thread."""

from __future__ import annotations

from typing import ClassVar

from bench.outcome import Outcome, run_task
from bench.runners.base import Runner, register_runner
from workloads.base import Workload


@register_runner
class SequentialRunner(Runner):
    """Every other runner's speedup is measured against this one."""

    name: ClassVar[str] = "sequential"
    colour: ClassVar[str] = "#7f7f7f"
    order: ClassVar[int] = 0
    in_default_matrix: ClassVar[bool] = True

    def __init__(self, workload: Workload, concurrency: int = 1) -> None:
        if concurrency != 1:
            raise ValueError("the sequential runner has concurrency 1 by definition")
        super().__init__(workload, concurrency)

    @classmethod
    def levels(cls, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)

    def run(self, tasks: int) -> Outcome:
        return Outcome.from_results(run_task(self.workload.for_task(i)) for i in range(tasks))
