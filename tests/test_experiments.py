"""The two behavioural experiments of the claims run account for every task."""

from __future__ import annotations

import pytest

from bench.experiments import (
    ISOLATION_MODES,
    PROBES,
    FailureIsolation,
    memory_in_fresh_interpreter,
)
from workloads.server import ServerProcess

TASKS = 6
EXPECTED = {
    "gather_return_exceptions": {"delivered_ok": TASKS - 1, "delivered_failed": 1},
    "gather": {"delivered_failed": 1, "finished_unseen": TASKS - 1},
    "taskgroup": {"delivered_failed": 1, "cancelled": TASKS - 1},
}


@pytest.mark.usefixtures("assert_no_leftovers")
@pytest.mark.parametrize("mode", ISOLATION_MODES)
def test_failure_isolation_puts_every_task_in_one_bucket(mode: str,
                                                         server: ServerProcess) -> None:
    buckets = FailureIsolation(mode, server.url, TASKS, delay_ms=100).run()
    assert dict(buckets) == EXPECTED[mode]


def test_unknown_isolation_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        FailureIsolation("shield", "http://127.0.0.1:1/", 2, 0)


@pytest.mark.usefixtures("assert_no_leftovers")
@pytest.mark.parametrize("runner", list(PROBES))
def test_probes_start_every_task_and_release_them(runner: str) -> None:
    probe = PROBES[runner]()
    count = 2 if runner == "processes" else 50
    probe.start(count)
    probe.release()


def test_threads_hold_more_memory_than_coroutines() -> None:
    # Fresh-interpreter numbers, as the claims run takes them (500 of each).
    assert memory_in_fresh_interpreter("threads", 500) > memory_in_fresh_interpreter(
        "asyncio", 500) >= 0
