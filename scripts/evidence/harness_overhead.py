"""Is the harness what is measured?  The suite against a plain script, at a large concurrency.

For asyncio and threads, N sleeps of D seconds at C in flight (C = N unless `--concurrency`
says otherwise), measured in pairs in turn
(suite, plain, suite, plain, ...) so that the machine's drift lands on both:

- the suite: `pytest bench --benchmark-only --workload sleep ...` in its own process, its
  median round read from its JSON;
- the plain script: the same job written as anyone would, in its own process, timed over the
  same number of rounds after one warm-up round: `asyncio.gather` under a semaphore of C on
  one loop; `ThreadPoolExecutor(C)` with its C threads started first, then N submits of
  `time.sleep` and a wait for all.

The verdict pools each side's rounds over the pairs and puts the ratio of the two medians
in a 95 % interval (`bench.stats.ratio_interval`, a bootstrap): within LIMIT if the
whole interval is at or below it, above if the whole interval is past it, inconclusive if it
straddles the line.  Thread rounds at 10,000 are chaotic on 2 cores (every thread waiting
for the GIL wakes on its own timer), so a single pair's ratio decides nothing; more pairs
narrow the interval.

The plain thread pool is started in full because a `ThreadPoolExecutor(C)` left to start
threads as it goes reuses the first ones that finish: `pool.map(time.sleep, ...)` at C=10,000
started only a few thousand threads, so it measured a lower concurrency.  The script prints
how many a lazily started pool ran, to show it.

    python scripts/evidence/harness_overhead.py [--tasks 10000] [--concurrency C] [--sleep-ms 100]
                                       [--rounds 5]
                                       [--pairs 2] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from bench.stats import ratio_interval
from scripts.evidence import emit

REPO = Path(__file__).resolve().parents[2]
RUNNERS = ("asyncio", "threads")
LIMIT = 1.3  # the suite's median may be at most this many times the plain script's


def plain_asyncio(tasks: int, concurrency: int, seconds: float, rounds: int) -> list[float]:
    async def one(slots: asyncio.Semaphore) -> None:
        async with slots:
            await asyncio.sleep(seconds)

    async def round_() -> None:
        slots = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(one(slots) for _ in range(tasks)))

    times = []
    with asyncio.Runner() as runner:
        for _ in range(rounds + 1):
            start = time.perf_counter()
            runner.run(round_())
            times.append(time.perf_counter() - start)
    return times[1:]


def plain_threads(tasks: int, concurrency: int, seconds: float, rounds: int) -> list[float]:
    times = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        everyone = threading.Barrier(concurrency)
        wait([pool.submit(everyone.wait, 60) for _ in range(concurrency)])  # all C started
        for _ in range(rounds + 1):
            start = time.perf_counter()
            wait([pool.submit(time.sleep, seconds) for _ in range(tasks)])
            times.append(time.perf_counter() - start)
    return times[1:]


def lazy_pool_threads(tasks: int, seconds: float) -> int:
    """How many threads `ThreadPoolExecutor(tasks).map(time.sleep, ...)` really starts."""
    with ThreadPoolExecutor(max_workers=tasks) as pool:
        list(pool.map(time.sleep, [seconds] * tasks))
        return len(pool._threads)  # the count is the point


def suite_median(runner: str, tasks: int, concurrency: int, sleep_ms: float,
                 rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run.json"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-q",
             "--workload", "sleep", "--sleep-ms", f"{sleep_ms:g}", "--runner", runner,
             "--concurrency", str(concurrency), "--tasks", str(tasks), "--rounds", str(rounds),
             f"--benchmark-json={out}", "-p", "no:cacheprovider"],
            cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"harness_overhead: the suite failed: {done.stdout[-500:]}")
        data = json.loads(out.read_text())
    return list(data["benchmarks"][0]["stats"]["data"])


def plain_median(runner: str, tasks: int, concurrency: int, sleep_ms: float,
                 rounds: int) -> list[float]:
    done = subprocess.run([sys.executable, __file__, "--plain", runner, "--tasks", str(tasks),
                           "--concurrency", str(concurrency),
                           "--sleep-ms", f"{sleep_ms:g}", "--rounds", str(rounds)],
                          capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))


def verdict(runner: str, suite: list[float], plain: list[float]) -> str:
    """One line: the pooled suite/plain ratio of medians, its 95 % interval, and whether
    that interval lies within LIMIT, past it, or across it."""
    ratio = statistics.median(suite) / statistics.median(plain)
    spread = max(max(suite) / min(suite), max(plain) / min(plain))
    interval = ratio_interval([suite], [plain])
    found = (interval.low, interval.high) if interval.known else None
    head = (f"- {runner}: suite/plain {ratio:.2f} over {len(suite)} rounds a side "
            f"(slowest round {spread:.1f}x the fastest)")
    if found is None:
        return f"{head}: no interval (too few rounds, or no SciPy): inconclusive."
    low, high = found
    if high <= LIMIT:
        word = f"within {LIMIT}x"
    elif low > LIMIT:
        word = f"above {LIMIT}x"
    else:
        word = f"inconclusive: the interval straddles {LIMIT}x"
    return f"{head}, 95 % interval {low:.2f}-{high:.2f}: {word}."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int,
                        help="tasks in flight (default: --tasks, every task at once)")
    parser.add_argument("--sleep-ms", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--plain", choices=RUNNERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    concurrency = args.tasks if args.concurrency is None else args.concurrency
    if min(args.tasks, concurrency, args.rounds, args.pairs) < 1 or args.sleep_ms < 0:
        parser.error("--tasks, --concurrency, --rounds and --pairs must be at least 1, "
                     "--sleep-ms at least 0")
    seconds = args.sleep_ms / 1000
    if args.plain:
        job = plain_asyncio if args.plain == "asyncio" else plain_threads
        print(json.dumps(job(args.tasks, concurrency, seconds, args.rounds)))
        return 0
    lines = [f"# The harness at {args.tasks:,} tasks", "",
             f"{args.tasks:,} sleeps of {args.sleep_ms:g} ms at C={concurrency:,}, "
             f"{args.rounds} rounds a side after a warm-up, {args.pairs} pairs in turn. "
             f"Command: `python scripts/evidence/harness_overhead.py --tasks {args.tasks} "
             f"--concurrency {concurrency} "
             f"--sleep-ms {args.sleep_ms:g} --rounds {args.rounds} --pairs {args.pairs}`.", "",
             "| runner | pair | suite median (s) | plain median (s) | suite / plain | "
             "suite rounds (s) | plain rounds (s) |", "|---|---|---|---|---|---|---|"]
    verdicts = []
    for runner in RUNNERS:
        suite_all: list[float] = []
        plain_all: list[float] = []
        for pair in range(1, args.pairs + 1):
            suite = suite_median(runner, args.tasks, concurrency, args.sleep_ms, args.rounds)
            plain = plain_median(runner, args.tasks, concurrency, args.sleep_ms, args.rounds)
            suite_all += suite
            plain_all += plain
            lines.append(f"| {runner} | {pair} | {statistics.median(suite):.3f} | "
                         f"{statistics.median(plain):.3f} | "
                         f"{statistics.median(suite) / statistics.median(plain):.2f} | "
                         f"{', '.join(f'{t:.2f}' for t in suite)} | "
                         f"{', '.join(f'{t:.2f}' for t in plain)} |")
        verdicts.append(verdict(runner, suite_all, plain_all))
    lines += ["", *verdicts, ""]
    if concurrency == args.tasks:
        lazy = lazy_pool_threads(args.tasks, seconds)
        lines += [f"A lazily started `ThreadPoolExecutor({args.tasks}).map(time.sleep, ...)` "
                  f"ran its first round on {lazy:,} threads, not {args.tasks:,}: it reuses "
                  "threads that finish while it is still starting others, so it is not a plain "
                  "script at this concurrency, and the plain pool above starts all of them "
                  "first.", ""]
    text = "\n".join(lines)
    return emit(text.rstrip("\n") + "\n", args.out)


if __name__ == "__main__":
    raise SystemExit(main())
