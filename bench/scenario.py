"""A scenario is one question: N tasks of workload W, at most C in flight, under runner R.

`scenarios_for` expands the settings into the matrix for one workload: the
sequential baseline once per task count (its concurrency is 1 by definition), then
every other runner at every concurrency level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.options import Settings
from bench.runners import HybridRunner, ProcessRunner, SequentialRunner


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything about a scenario except where the server is (known only at run time)."""

    workload: str
    runner: str
    tasks: int
    concurrency: int
    start_method: str | None
    rounds: int
    warmup_rounds: int
    overrides: tuple[tuple[str, Any], ...] = ()  # workload knobs that differ from the options
    timed_setup: bool = False  # "cold": build and tear down the runner inside every round
    claim: str = ""  # the claim this scenario is evidence for, if any

    @property
    def id(self) -> str:
        method = f"-{self.start_method}" if self.start_method else ""
        knobs = "".join(f"-{key}={value}" for key, value in self.overrides)
        cold = "-cold" if self.timed_setup else ""
        return f"{self.runner}{method}-c{self.concurrency}-n{self.tasks}{knobs}{cold}"


def scenarios_for(workload: str, settings: Settings) -> list[ScenarioSpec]:
    specs = []
    for tasks in settings.tasks_for(workload):
        for runner in settings.runners:
            levels = (1,) if runner == SequentialRunner.name else settings.concurrency
            for concurrency in levels:
                uses_processes = runner in (ProcessRunner.name, HybridRunner.name)
                start_method = settings.start_method if uses_processes else None
                specs.append(ScenarioSpec(workload, runner, tasks, concurrency, start_method,
                                          settings.rounds, settings.warmup_rounds))
    return specs
