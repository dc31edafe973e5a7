"""The baseline: one task after another, on one thread (a worker thread of its own, like
every other runner's tasks: see `HomeThread`)."""

from __future__ import annotations

from typing import ClassVar

from bench.outcome import Outcome, RoundClock, run_task
from bench.runners.base import HomeThread, Runner, register_runner
from bench.service import ServiceOutcome, serve_with
from workloads.base import Workload


@register_runner
class SequentialRunner(Runner):
    """Every other runner's speedup is measured against this one."""

    name: ClassVar[str] = "sequential"
    colour: ClassVar[str] = "#7f7f7f"
    order: ClassVar[int] = 0
    in_default_matrix: ClassVar[bool] = True
    baseline: ClassVar[bool] = True

    def __init__(self, workload: Workload, concurrency: int = 1) -> None:
        if concurrency != 1:
            raise ValueError("the sequential runner has concurrency 1 by definition")
        super().__init__(workload, concurrency)
        self._home: HomeThread | None = None

    @classmethod
    def levels(cls, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)

    def open(self) -> None:
        self._home = HomeThread()

    def run(self, tasks: int) -> Outcome:
        if self._home is None:
            raise RuntimeError("open the runner before running it")
        return self._home.call(self._one_after_another, tasks, RoundClock())

    def _one_after_another(self, tasks: int, clock: RoundClock) -> Outcome:
        return Outcome.from_results(
            (run_task(self.workload.for_task(i)) for i in range(tasks)), clock)

    def serve(self, offsets: list[float]) -> ServiceOutcome:
        """Requests to its one thread, in arrival order, each as soon as the one before is
        done: a queue in front of one worker."""
        if self._home is None:
            raise RuntimeError("open the runner before serving")
        return serve_with(self._home.executor, self.workload, offsets)

    def close(self) -> None:
        home, self._home = self._home, None
        if home is not None:
            home.close()
        super().close()
