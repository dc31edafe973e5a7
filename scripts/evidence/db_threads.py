"""Is "threads slower than one thread" on the db workload ours, or the model's?

The suite measured the sync ORM under 10 threads slower than the same tasks one after
another.  This probe does the same job with no harness: one process, the suite's
embedded PostgreSQL and schema, the same ORM code, and plain executors, rounds taken in
turn (sequential, threads, asyncio, sequential, ...) so that drift lands on all three:

- sequential: a for loop over the N tasks;
- threads: `ThreadPoolExecutor(C)` with its threads started first, N submits, wait for all;
- asyncio: `asyncio.gather` of N tasks under a semaphore of C on one `asyncio.run` loop.

Each side's engine holds C connections, opened before timing.  It prints each side's
median round with its 95 % interval and the ratios threads / sequential and threads /
asyncio (bench.stats.ratio_interval), and the CPU each side used per task.

    python scripts/evidence/db_threads.py [--tasks 200] [--concurrency 10] [--rounds 7]
                                          [--out FILE.md]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from bench.stats import median, median_interval, ratio_interval
from scripts.evidence import emit
from workloads.database import DatabaseProcess, Schema
from workloads.db import DbWorkload
from workloads.db_tasks import async_pool, close_sync_pools, run_async, run_sync

ROWS = 100_000


def _tasks(workload: DbWorkload, count: int) -> list[DbWorkload]:
    return [workload.for_task(index) for index in range(count)]


def _one(task: DbWorkload) -> None:
    task.check(run_sync(task, task.plan()))


def sequential(tasks: list[DbWorkload], concurrency: int) -> Callable[[], None]:
    def round_() -> None:
        for task in tasks:
            _one(task)
    return round_


def threads(tasks: list[DbWorkload], concurrency: int) -> Callable[[], None]:
    pool = ThreadPoolExecutor(concurrency)
    started = threading.Barrier(concurrency + 1)
    for _ in range(concurrency):  # every thread up before timing
        pool.submit(started.wait)
    started.wait()

    def round_() -> None:
        futures = [pool.submit(_one, task) for task in tasks]
        wait(futures)
        for future in futures:
            future.result()
    return round_


def asyncio_round(tasks: list[DbWorkload], concurrency: int) -> Callable[[], None]:
    async def go() -> None:
        async with async_pool(tasks[0]) as pool:
            await asyncio.gather(*(one(pool, task) for task in tasks[:concurrency]))  # warm
            gate = asyncio.Semaphore(concurrency)
            started = time.perf_counter()
            await asyncio.gather(*(gated(gate, pool, task) for task in tasks))
            times.append(time.perf_counter() - started)

    async def one(pool: object, task: DbWorkload) -> None:
        task.check(await run_async(task, pool, task.plan()))

    async def gated(gate: asyncio.Semaphore, pool: object, task: DbWorkload) -> None:
        async with gate:
            await one(pool, task)

    times: list[float] = []

    def round_() -> None:
        asyncio.run(go())
    round_.times = times  # type: ignore[attr-defined]
    return round_


def measure(args: argparse.Namespace) -> str:
    with DatabaseProcess() as server:
        schema = Schema(server.url)
        schema.prepare(ROWS)
        workload = DbWorkload(url=server.url, rows=ROWS, pool=args.concurrency)
        tasks = _tasks(workload, args.tasks)
        for task in tasks[:args.concurrency]:
            _one(task)  # the sync engine's connections open before timing
        sides = {"sequential": sequential(tasks, args.concurrency),
                 "threads": threads(tasks, args.concurrency),
                 "asyncio": asyncio_round(tasks, args.concurrency)}
        rounds: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, round_ in sides.items():
                schema.prepare(ROWS)
                wall, used = time.perf_counter(), time.process_time()
                round_()
                elapsed = time.perf_counter() - wall
                cpu[name].append((time.process_time() - used) / args.tasks)
                inner = getattr(round_, "times", None)
                rounds[name].append(inner[-1] if inner else elapsed)
        close_sync_pools()
    return _text(args, rounds, cpu)


def _text(args: argparse.Namespace, rounds: dict[str, list[float]],
          cpu: dict[str, list[float]]) -> str:
    lines = [f"# db workload without the harness: {args.tasks} tasks, C={args.concurrency}, "
             f"{args.rounds} rounds each, in turn\n",
             "| model | median round | 95 % interval | CPU per task |", "|---|---|---|---|"]
    for name, values in rounds.items():
        found = median_interval([values])
        lines.append(f"| {name} | {median(values) * 1000:.0f} ms | {found.low * 1000:.0f}-"
                     f"{found.high * 1000:.0f} ms ({found.label()}) | "
                     f"{median(cpu[name]) * 1000:.2f} ms |")
    lines.append("")
    for top, bottom in (("threads", "sequential"), ("threads", "asyncio")):
        found = ratio_interval([rounds[top]], [rounds[bottom]])
        lines.append(f"- {top} / {bottom}: {median(rounds[top]) / median(rounds[bottom]):.2f}x"
                     f" ({found.label()} interval {found.low:.2f}-{found.high:.2f})")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    return emit(measure(args), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
