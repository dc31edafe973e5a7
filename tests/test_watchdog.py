"""A round that makes no end is stopped after its bound, and the runner closes after it."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from bench import watchdog
from bench.measure import RoundLoop
from bench.runners import make_runner
from bench.watchdog import Stalled, bounded, round_bound
from workloads import Workload

HANG_S = 1.5


@dataclass(frozen=True)
class UnderstatedWorkload(Workload):
    """Says a task takes 10 ms; each really waits HANG_S: a round of it looks stuck."""

    name: ClassVar[str] = "understated"

    def call(self) -> object:
        time.sleep(HANG_S)
        return None

    async def acall(self, client: Any) -> object:
        await asyncio.sleep(HANG_S)
        return None

    def check(self, result: object) -> None:
        pass

    def task_seconds(self) -> float:
        return 0.01


def test_the_bound_is_the_tasks_in_a_row_times_the_factor_and_never_below_the_floor() -> None:
    seconds, what = round_bound(1.0, 10, None)
    assert seconds == pytest.approx(watchdog.STALL_FACTOR * 10 * (1.0 + watchdog.PER_TASK_S))
    assert "times its tasks run one after another" in what
    assert round_bound(0.0001, 2, None)[0] == watchdog.STALL_FLOOR_S
    seconds, what = round_bound(None, 10, 30.0)
    assert seconds == watchdog.STALL_FACTOR * 30.0 and "times its first round" in what
    assert round_bound(None, 10, None)[0] is None  # unknown until a round has run


def test_a_block_within_its_bound_is_left_alone() -> None:
    with bounded(5.0, "quick"):
        time.sleep(0.01)


@pytest.mark.usefixtures("assert_no_leftovers")
@pytest.mark.parametrize("runner_name", ["sequential", "threads", "asyncio"])
def test_a_round_past_its_bound_is_stopped_in_one_line_and_its_runner_still_closes(
        monkeypatch: pytest.MonkeyPatch, runner_name: str) -> None:
    monkeypatch.setattr(watchdog, "STALL_FLOOR_S", 0.3)
    concurrency = 1 if runner_name == "sequential" else 2
    runner = make_runner(runner_name, UnderstatedWorkload(), concurrency)
    loop = RoundLoop(benchmark=None, spec=SimpleNamespace(timed_setup=False, tasks=2),
                     runner=runner, meter=None)  # type: ignore[arg-type]
    runner.open()
    try:
        loop.before_round()  # sets the bound, as before every timed round
        start = time.perf_counter()
        with pytest.raises(Stalled, match=r"a round of 2 tasks \(bound: .*\) made no end in "
                                          r"0\.3 s"):
            loop.one_round()
        assert time.perf_counter() - start < HANG_S  # stopped, not waited for
    finally:
        gc.unfreeze()  # as run_rounds does after its rounds
        runner.close()
