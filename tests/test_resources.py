"""The resource meter sees CPU and memory of this process, its pool workers and the server."""

from __future__ import annotations

import time
from typing import Any

from bench.resources import ResourceMeter
from bench.runners import ProcessRunner
from workloads import CpuWorkload
from workloads.server import ServerProcess


def busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_counts_cpu_of_this_process() -> None:
    meter = ResourceMeter()
    meter.start()
    busy(0.2)
    usage = meter.stop()
    assert 0.18 <= usage.cpu_s <= 0.5
    assert usage.server_cpu_s is None


def test_counts_cpu_of_pool_workers() -> None:
    workload = CpuWorkload(n=300_000)
    # One summation's CPU time (not its wall time, which a busy machine stretches).
    before = time.process_time()
    workload.call()
    one_task_cpu = time.process_time() - before
    with ProcessRunner(workload, 2, "fork") as runner:
        meter = ResourceMeter()
        meter.start()
        parent_before = time.process_time()
        outcome = runner.run(8)
        usage = meter.stop()
        parent_cpu = time.process_time() - parent_before
    assert outcome.ok == 8
    # The workers did eight summations while the parent only waited: whatever the load,
    # the meter must see their CPU, far more than the parent's own.
    assert usage.cpu_s - parent_cpu >= 0.5 * 8 * one_task_cpu


def test_peak_rss_sees_a_large_allocation() -> None:
    meter = ResourceMeter()
    meter.start()
    baseline = meter.stop().peak_rss_mb
    meter.start()
    block = bytearray(200 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    peak = meter.stop().peak_rss_mb
    del block
    assert peak - baseline >= 150


def test_pss_does_not_count_forked_pages_twice() -> None:
    with ProcessRunner(CpuWorkload(n=10), 8, "fork") as runner:
        runner.run(8)
        meter = ResourceMeter()
        meter.start()
        usage = meter.stop()
    # Eight forks of this process: RSS counts the parent's pages nine times, PSS once.
    assert usage.pss_mb < usage.peak_rss_mb / 2


def test_server_cpu_is_reported_apart_from_the_client() -> None:
    import requests

    with ServerProcess() as server:
        meter = ResourceMeter(server.pid)
        meter.start()
        with requests.Session() as session:
            for _ in range(300):
                session.get(server.url, timeout=5)
        usage = meter.stop()
    assert usage.server_cpu_s is not None and usage.server_cpu_s > 0


def _bursts(count: int, done: Any) -> None:
    """CPU bursts far shorter than a clock tick, with idle gaps: a pool worker's life."""
    start = time.process_time()
    for _ in range(count):
        busy(0.0002)
        time.sleep(0.005)
    done.send(time.process_time() - start)


def test_short_bursts_of_many_children_are_counted_in_full() -> None:
    # Tick-sampled counters (/proc/PID/stat) saw 0.01-0.04 s of these 16 children's
    # 0.14 s, which showed 64 pool workers' CPU as a neighbour's; the meter reads the
    # scheduler's nanoseconds.
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children = []
    meter = ResourceMeter()
    for _ in range(16):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_bursts, args=(40, send))
        child.start()
        children.append((child, receive))
    meter.start()
    own = sum(receive.recv() for _, receive in children)
    usage = meter.stop()
    for child, _ in children:
        child.join()
    assert own >= 0.1
    assert usage.cpu_s >= 0.8 * own


def test_forkserver_workers_that_exit_within_the_rounds_count_as_the_clients() -> None:
    # A cold pool: started, used and shut down inside the metered rounds.  Its workers are
    # the forkserver's children, reaped by it: their CPU must still be the client's.
    workload = CpuWorkload(n=1_000_000)
    before = time.process_time()
    workload.call()
    one_task_cpu = time.process_time() - before
    meter = ResourceMeter()
    meter.start()
    parent_before = time.process_time()
    with ProcessRunner(workload, 2, "forkserver") as runner:
        outcome = runner.run(8)
    time.sleep(0.3)  # the forkserver has reaped its workers by now
    usage = meter.stop()
    parent_cpu = time.process_time() - parent_before
    assert outcome.ok == 8
    assert usage.cpu_s - parent_cpu >= 0.5 * 8 * one_task_cpu
