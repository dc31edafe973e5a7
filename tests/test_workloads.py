"""Each workload's twins do the same job, return the same result and fail alike."""

from __future__ import annotations

import asyncio
import math

import pytest

from workloads import CpuWorkload, HttpWorkload, SleepWorkload, TaskFailed, Workload, WrongResult
from workloads.server import ServerProcess


def run_async_twin(workload: Workload) -> object:
    async def run() -> object:
        async with workload.async_client(4) as client:
            return await workload.acall(client)

    return asyncio.run(run())


def both_twins(workload: Workload) -> tuple[object, object]:
    try:
        return workload.call(), run_async_twin(workload)
    finally:
        workload.close_sync_clients()


def failure_kinds(workload: Workload) -> tuple[str, str]:
    """The failure kind each twin reports, sync first."""
    kinds = []
    try:
        for twin in (workload.call, lambda: run_async_twin(workload)):
            with pytest.raises(TaskFailed) as error:
                twin()
            kinds.append(error.value.kind)
    finally:
        workload.close_sync_clients()
    return kinds[0], kinds[1]


def test_sleep_twins_agree_and_take_their_time() -> None:
    workload = SleepWorkload(seconds=0.01)
    sync_result, async_result = both_twins(workload)
    assert sync_result == async_result == 0.01
    workload.check(sync_result)


def test_cpu_twins_match_closed_form() -> None:
    workload = CpuWorkload(n=1000)
    sync_result, async_result = both_twins(workload)
    assert sync_result == async_result == sum(i * i for i in range(1000))
    workload.check(sync_result)


def test_http_twins_read_whole_body(server: ServerProcess) -> None:
    workload = HttpWorkload(base_url=server.url, delay_ms=0, size=70_000)
    sync_result, async_result = both_twins(workload)
    assert sync_result == async_result == 70_000
    workload.check(sync_result)


@pytest.mark.parametrize("workload, wrong", [
    (SleepWorkload(seconds=0.01), 0.02),
    (CpuWorkload(n=10), 284),
    (HttpWorkload(size=10), 9),
])
def test_check_rejects_a_wrong_result(workload: Workload, wrong: object) -> None:
    with pytest.raises(WrongResult):
        workload.check(wrong)


@pytest.mark.parametrize("status", [404, 503])
def test_http_bad_status_is_a_status_failure_on_both_sides(server: ServerProcess,
                                                          status: int) -> None:
    workload = HttpWorkload(base_url=server.url, delay_ms=0, size=5, status=status)
    assert failure_kinds(workload) == ("status", "status")


def test_http_slow_response_is_a_timeout_on_both_sides(server: ServerProcess) -> None:
    workload = HttpWorkload(base_url=server.url, delay_ms=2000, size=5, timeout_s=0.2)
    assert failure_kinds(workload) == ("timeout", "timeout")


def test_http_dropped_connection_is_a_reset_on_both_sides(server: ServerProcess) -> None:
    workload = HttpWorkload(base_url=server.url, delay_ms=0, size=10_000, inject="reset")
    assert failure_kinds(workload) == ("reset", "reset")


def test_http_refused_connection_is_a_connection_failure() -> None:
    with ServerProcess() as gone:
        url = gone.url
    workload = HttpWorkload(base_url=url, delay_ms=0, size=5, timeout_s=2)
    assert failure_kinds(workload) == ("connection", "connection")


@pytest.mark.parametrize("tasks, concurrency, expected_waits", [
    (10, 1, 10), (10, 4, 3), (10, 10, 1), (10, 64, 1), (1, 1, 1),
])
def test_io_ideal_is_ceil_tasks_over_concurrency(tasks: int, concurrency: int,
                                                 expected_waits: int) -> None:
    workload = SleepWorkload(seconds=0.5)
    assert workload.ideal_seconds(tasks, concurrency, cores=2) == expected_waits * 0.5
    http = HttpWorkload(delay_ms=20)
    assert http.ideal_seconds(tasks, concurrency, cores=2) == pytest.approx(expected_waits * 0.02)


@pytest.mark.parametrize("tasks, concurrency, cores", [(8, 1, 2), (8, 2, 2), (8, 16, 2),
                                                        (9, 16, 4), (8, 3, 8)])
def test_cpu_ideal_overlaps_only_on_cores(tasks: int, concurrency: int, cores: int) -> None:
    workload = CpuWorkload(n=20_000)
    one = workload.task_seconds()
    assert one > 0
    expected = math.ceil(tasks / min(concurrency, cores)) * one
    assert workload.ideal_seconds(tasks, concurrency, cores) == pytest.approx(expected)


def test_describe_lists_the_sizing_knobs() -> None:
    assert SleepWorkload(seconds=0.25).describe() == {"seconds": 0.25, "blocking": False}
    assert CpuWorkload(n=7).describe() == {"n": 7}
    described = HttpWorkload(base_url="http://127.0.0.1:1/", delay_ms=3, size=4).describe()
    assert described["delay_ms"] == 3 and described["size"] == 4


def test_blocking_twins_still_return_the_right_result(server: ServerProcess) -> None:
    sleep = SleepWorkload(seconds=0.01, blocking=True)
    http = HttpWorkload(base_url=server.url, delay_ms=0, size=10, blocking=True)
    assert both_twins(sleep) == (0.01, 0.01)
    assert both_twins(http) == (10, 10)


def test_mixed_and_hash_twins_agree() -> None:
    from workloads import HashWorkload, MixedWorkload

    mixed = MixedWorkload(wait_s=0.001, n=1000)
    assert both_twins(mixed) == (sum(i * i for i in range(1000)),) * 2
    hashing = HashWorkload(size=100_000)
    sync_digest, async_digest = both_twins(hashing)
    assert sync_digest == async_digest and len(str(sync_digest)) == 64
    assert mixed.ideal_seconds(8, 8, 2) >= 0.001 and hashing.task_seconds() > 0


def test_equal_cpu_jobs_share_one_calibrated_ideal() -> None:
    # Scenarios build their own workload objects; they must still share one ideal.
    assert CpuWorkload(n=30_000).task_seconds() == CpuWorkload(n=30_000).task_seconds()
