"""Why a big process pool degrades on longer service runs: a plain-script probe.

    python scripts/evidence/pool_heap.py [--workers 64] [--rate 300] [--out FILE.md]

A user's trial (300 requests per second, each a 30 ms wait then about 2 ms of pure
Python, a fork process pool of 32 or 64 workers on 2 cores) found p99, memory and CPU per
request far worse in 5 s runs than in 3 s runs.  Suspect: the workers are forked from a
parent with a large heap; each worker's garbage collector walks the heap it inherited and
writes to every object it visits, so copy-on-write copies the parent's pages into every
worker, a little more each second, and the machine spends its cores on page copies.
`gc.freeze()` before the fork moves the parent's objects out of the collector's reach.

This script needs no suite: a plain `ProcessPoolExecutor` (fork), fed open-loop at a
fixed rate from the parent, latency from each request's scheduled arrival.  It runs the
same load with a small and a large parent heap, with and without `gc.freeze()` before
the pool starts, for 3 s and 5 s, and prints p50/p99, the workers' memory (PSS, summed)
at the end, and CPU per request of parent and workers.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.stats import percentile
from scripts.evidence import emit

WAIT_S = 0.030  # the call to the upstream
CPU_N = 60_000  # then about 2 ms of pure Python on this machine
HEAP_OBJECTS = 2_000_000  # the "large parent": dicts held by the parent before the fork


def request(scheduled: float) -> float:
    """One request: wait, compute, and say when it finished (the parent's clock)."""
    time.sleep(WAIT_S)
    sum(i * i for i in range(CPU_N))
    return scheduled


def _pss_mb(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            continue
    return total / 2**20


def _cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def one_run(workers: int, rate: float, seconds: float, big_heap: bool, freeze: bool
            ) -> dict[str, float | str]:
    heap = [{"i": i, "s": str(i)} for i in range(HEAP_OBJECTS)] if big_heap else []
    gc.collect()
    if freeze:
        gc.freeze()
    context = multiprocessing.get_context("fork")
    latencies: list[float] = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(time.sleep, [0.0] * workers * 2))  # every worker started
        children = psutil.Process().children()
        me = psutil.Process()
        cpu_before = _cpu_s([me, *children])
        start = time.perf_counter() + 0.05
        count = math.floor(rate * seconds)
        futures: list[Future[float]] = []

        def done(future: Future[float]) -> None:
            latencies.append(time.perf_counter() - future.result())

        for index in range(count):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            future = pool.submit(request, due)
            future.add_done_callback(done)
            futures.append(future)
        for future in futures:
            future.result()
        pss = _pss_mb(children)
        cpu = _cpu_s([me, *children]) - cpu_before
    gc.unfreeze()
    del heap
    gc.collect()
    return {"heap": "large" if big_heap else "small", "freeze": "yes" if freeze else "no",
            "seconds": seconds, "requests": count,
            "p50_ms": (percentile(latencies, 50) or 0) * 1000,
            "p99_ms": (percentile(latencies, 99) or 0) * 1000,
            "workers_pss_mb": pss, "cpu_ms_per_request": cpu / count * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.workers < 1 or args.rate <= 0:
        print("error: --workers must be at least 1 and --rate above 0", file=sys.stderr)
        return 2
    rows = [one_run(args.workers, args.rate, seconds, big, freeze)
            for big in (False, True) for freeze in (False, True) for seconds in (3.0, 5.0)]
    lines = [f"# A fork pool of {args.workers} workers at {args.rate:g} requests per second",
             "", f"Command: `python scripts/evidence/pool_heap.py --workers {args.workers} "
             f"--rate {args.rate:g}`.  Each request: a {WAIT_S * 1000:g} ms wait, then "
             f"sum of squares below {CPU_N}; latency from its scheduled arrival (nearest "
             f"rank); the large heap is {HEAP_OBJECTS:,} small dicts held by the parent.", "",
             "| parent heap | gc.freeze() before fork | seconds | requests | p50 (ms) | "
             "p99 (ms) | workers' PSS (MB) | CPU per request (ms) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['heap']} | {r['freeze']} | {r['seconds']:g} | {r['requests']} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['workers_pss_mb']:.0f} | "
              f"{r['cpu_ms_per_request']:.2f} |" for r in rows]
    text = "\n".join(lines) + "\n"
    return emit(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
