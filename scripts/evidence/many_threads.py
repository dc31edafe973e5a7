"""What 10,000 GIL threads do when each task sleeps: a plain script, phase by phase.

The threads runner at C = N starts a pool of N threads before timing (every one started,
as `bench.runners.pools.started_thread_pool` does), then each round hands N tasks of
`time.sleep` to it and waits for all.  This probe does the same steps in a plain script and
times each with the CPU it cost (user and system, `os.times`), so that a scenario that takes
minutes where seconds are expected can be pinned to a step:

- `start`: the pool's threads started, either all released together (`barrier`: N tasks
  that wait at one `threading.Barrier(N)`, as the suite did before) or as the suite does
  it now (`gate`: `bench.runners.pools.started_thread_pool`, N tasks waiting at a closed
  gate, let go one at a time), the threads then alive counted;
- `round k`: N sleeping tasks submitted and waited for (`concurrent.futures.wait`);
- `shutdown`: the pool closed.

    python scripts/evidence/many_threads.py [--threads 10000] [--sleep-ms 100]
        [--rounds 3] [--start barrier|gate] [--switch-interval S] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.runners.pools import started_thread_pool
from scripts.evidence import emit

TIMEOUT_S = 600.0


@contextmanager
def phase(rows: list[dict[str, Any]], name: str) -> Iterator[None]:
    wall, times = time.perf_counter(), os.times()
    yield
    after = os.times()
    rows.append({"phase": name, "wall_s": time.perf_counter() - wall,
                 "user_s": after.user - times.user, "system_s": after.system - times.system})
    print(f"{name}: {rows[-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)


def start_barrier(count: int) -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(max_workers=count)
    barrier = threading.Barrier(count)
    for future in [pool.submit(barrier.wait, TIMEOUT_S) for _ in range(count)]:
        future.result()
    return pool


STARTS: dict[str, Callable[[int], ThreadPoolExecutor]] = {
    "barrier": start_barrier, "gate": started_thread_pool}


def measure(threads: int, sleep_s: float, rounds: int, start: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with phase(rows, f"start ({start})"):
        pool = STARTS[start](threads)
    rows[-1]["threads_alive"] = threading.active_count() - 1
    try:
        for index in range(1, rounds + 1):
            with phase(rows, f"round {index}"):
                futures = [pool.submit(time.sleep, sleep_s) for _ in range(threads)]
                _, late = wait(futures, timeout=TIMEOUT_S)
                if late:
                    raise SystemExit(f"{len(late)} tasks still running after {TIMEOUT_S:g} s")
    finally:
        with phase(rows, "shutdown"):
            pool.shutdown(wait=True, cancel_futures=True)
    return rows


def render(rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    lines = [f"# {settings['threads']:,} threads, tasks sleeping {settings['sleep_ms']:g} ms: "
             "a plain script, phase by phase", "",
             f"Python {settings['python']}, switch interval {settings['switch_s']:g} s; "
             f"one round's ideal is {settings['sleep_ms'] / 1000:g} s.", "",
             "| phase | wall (s) | user CPU (s) | system CPU (s) | threads alive |",
             "|---|---|---|---|---|"]
    lines += [f"| {row['phase']} | {row['wall_s']:.2f} | {row['user_s']:.2f} | "
              f"{row['system_s']:.2f} | {row.get('threads_alive', '')} |" for row in rows]
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--sleep-ms", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start", choices=sorted(STARTS), action="append",
                        help="how the pool's threads start (repeatable: one pool each)")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval first")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    rows = [row for start in args.start or ["barrier", "gate"]
            for row in measure(args.threads, args.sleep_ms / 1000, args.rounds, start)]
    settings = {"threads": args.threads, "sleep_ms": args.sleep_ms,
                "python": sys.version.split()[0], "switch_s": sys.getswitchinterval()}
    if args.out is not None:
        args.out.with_suffix(".json").write_text(
            json.dumps({"settings": settings, "rows": rows}, indent=1) + "\n")
    return emit(render(rows, settings), args.out)


if __name__ == "__main__":
    sys.exit(main())
