"""Does where a task runs change what it costs?  The same CPU job on the main thread and on a
worker thread, after different things ran in the process.

The controlled experiment behind the rule that every runner's tasks start from the same kind
of thread (bench.runners.base.HomeThread).  In one process holding what the suite holds
(pytest, SciPy, the runners), for each "what ran before" -- nothing, an asyncio round, a
thread pool round, a process pool round -- it times the cpu workload's task REPEATS times on
the main thread and on a worker thread, in turn, and prints each median and their ratio.
With `--pin CPU` the process is first pinned to that one CPU.

    python scripts/evidence/placement.py [--repeats 15] [--n 1000000] [--pin 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest  # noqa: F401 - the suite's heap, as a benchmark run has it
import scipy.stats  # noqa: F401

from bench.runners import make_runner
from workloads import CpuWorkload, SleepWorkload


def _timed(job: Callable[[], object]) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def _before(kind: str) -> None:
    """Run one round of something in this process first."""
    if kind == "nothing":
        return
    runner = {"an asyncio round": "asyncio", "a thread pool round": "threads",
              "a process pool round": "processes"}[kind]
    with make_runner(runner, SleepWorkload(seconds=0.001), 4) as opened:
        opened.run(16)
    with make_runner(runner, CpuWorkload(n=200_000), 2) as opened:
        opened.run(4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pin", type=int, help="pin the process to this one CPU first")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.n < 1:
        parser.error("--repeats and --n must be at least 1")
    if args.pin is not None:
        try:
            os.sched_setaffinity(0, {args.pin})
        except (OSError, ValueError) as exc:
            parser.error(f"--pin {args.pin}: {exc}")
    job = CpuWorkload(n=args.n).call
    print(f"cpu task n={args.n:,}, {args.repeats} times each, main and worker thread in turn"
          + (f", pinned to CPU {args.pin}" if args.pin is not None else "") + "\n")
    print("| ran before | main thread p50 (ms) | worker thread p50 (ms) | main / worker |")
    print("|---|---|---|---|")
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(lambda: None).result()
        for kind in ("nothing", "an asyncio round", "a thread pool round",
                     "a process pool round"):
            _before(kind)
            main_times, worker_times = [], []
            for _ in range(args.repeats):
                main_times.append(_timed(job))
                worker_times.append(worker.submit(_timed, job).result())
            on_main, on_worker = statistics.median(main_times), statistics.median(worker_times)
            print(f"| {kind} | {on_main * 1000:.1f} | {on_worker * 1000:.1f} | "
                  f"{on_main / on_worker:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
