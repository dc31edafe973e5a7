"""How far apart are two back-to-back runs of the same job when no suite is involved?

The suite's run-to-run pairs (results/reference/run-to-run/) disagree by more than 5 % on
some speedups.  Before blaming the suite, this runs the same jobs as plain scripts, each
run in a fresh process, one after the other, and shows how much their speedups move from
one run to the next:

- cpu: 16 sums of squares of n = 1,000,000 (the cpu workload's job), one after another on
  one worker thread, against 16 threads of a pre-started `ThreadPoolExecutor(16)`;
- http: 256 GETs of the test server (10 ms delay, 1 KiB body, as the http workload) through
  one `requests.Session` on one worker thread, against 16 pre-started threads with a
  session each.

Each run warms both sides with one uncounted round, then times ROUNDS rounds of each in
turn and prints the two medians and their ratio (the speedup).  The server is the
project's own (`python -m workloads.server`), started fresh by each http run in its own
process on 127.0.0.1, as the suite does.

    python scripts/evidence/plain_drift.py [--runs 6] [--rounds 8] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from scripts.evidence import emit
from workloads.cpu import sum_of_squares

REPO = Path(__file__).resolve().parents[2]
JOBS = ("cpu", "http")
N = 1_000_000
CPU_TASKS, HTTP_TASKS, THREADS = 16, 256, 16
AGREE = 0.05  # the issue's line: two runs' speedups within 5 %


def timed_pair(sequential: Callable[[], None], threads: Callable[[], None],
               rounds: int) -> dict[str, float]:
    """One warm-up of each, then `rounds` of each in turn; medians in seconds."""
    sequential()
    threads()
    seq: list[float] = []
    thr: list[float] = []
    for _ in range(rounds):
        for side, out in ((sequential, seq), (threads, thr)):
            start = time.perf_counter()
            side()
            out.append(time.perf_counter() - start)
    return {"sequential_s": statistics.median(seq), "threads_s": statistics.median(thr)}


def started_pool(size: int) -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(size)
    everyone = threading.Barrier(size)
    wait([pool.submit(everyone.wait, 30) for _ in range(size)])
    return pool


def cpu_run(rounds: int, repeat: int = 1) -> list[dict[str, float]]:
    with ThreadPoolExecutor(1) as home, started_pool(THREADS) as pool:
        def sequential() -> None:
            home.submit(lambda: [sum_of_squares(N) for _ in range(CPU_TASKS)]).result()

        def threads() -> None:
            wait([pool.submit(sum_of_squares, N) for _ in range(CPU_TASKS)])

        return [timed_pair(sequential, threads, rounds) for _ in range(repeat)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_run(rounds: int, repeat: int = 1) -> list[dict[str, float]]:
    import requests

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "workloads.server", "--port", str(port), "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("plain_drift: the test server did not start") from None
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/?delay_ms=10&size=1024&status=200"
        local = threading.local()

        def get() -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            reply = session.get(url, timeout=10)
            if reply.status_code != 200 or len(reply.content) != 1024:
                raise SystemExit(f"plain_drift: bad reply {reply.status_code}")

        with ThreadPoolExecutor(1) as home, started_pool(THREADS) as pool:
            def all_in_turn() -> None:
                for _ in range(HTTP_TASKS):
                    get()

            def sequential() -> None:
                home.submit(all_in_turn).result()

            def threads() -> None:
                for done in wait([pool.submit(get) for _ in range(HTTP_TASKS)]).done:
                    done.result()

            return [timed_pair(sequential, threads, rounds) for _ in range(repeat)]
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def one_run(job: str, rounds: int, repeat: int = 1) -> list[dict[str, float]]:
    """A fresh process's run of `job`, or `repeat` runs one after another in that process
    (one test server, one set of pools)."""
    done = subprocess.run([sys.executable, __file__, "--one", job, "--rounds", str(rounds),
                           "--repeat", str(repeat)],
                          capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"plain_drift: the {job} run failed: {done.stderr.strip()[-300:]}")
    return [dict(result) for result in json.loads(done.stdout)]


def report(found: dict[str, list[dict[str, float]]], runs: int, rounds: int,
           same_process: bool = False) -> str:
    where = ("one process a job (one test server, one set of pools), one run after another"
             if same_process else "fresh processes a job, in turn")
    flag = " --same-process" if same_process else ""
    lines = [f"# Back-to-back runs of plain scripts: {runs} runs in {where}", "",
             f"Command: `python scripts/evidence/plain_drift.py --runs {runs} "
             f"--rounds {rounds}{flag}`. "
             "Each run: one warm-up round a side, then rounds of sequential and 16 threads in "
             "turn; medians in ms.", "",
             "| job | run | sequential (ms) | 16 threads (ms) | speedup | change from the run "
             "before |", "|---|---|---|---|---|---|"]
    verdicts = []
    for job, results in found.items():
        speedups = [r["sequential_s"] / r["threads_s"] for r in results]
        for index, (result, speedup) in enumerate(zip(results, speedups, strict=True)):
            change = "" if index == 0 else f"{speedup / speedups[index - 1] - 1:+.1%}"
            lines.append(f"| {job} | {index + 1} | {result['sequential_s'] * 1e3:.0f} | "
                         f"{result['threads_s'] * 1e3:.1f} | {speedup:.3f} | {change} |")
        pairs = list(itertools.pairwise(speedups))
        apart = [max(a, b) / min(a, b) - 1 for a, b in pairs]
        within = sum(1 for gap in apart if gap <= AGREE)
        verdicts.append(
            f"- {job}: speedups from {min(speedups):.3f} to {max(speedups):.3f} "
            f"({max(speedups) / min(speedups) - 1:.1%} apart); {within} of {len(pairs)} "
            f"back-to-back pairs within {AGREE:.0%}, the widest {max(apart, default=0):.1%}.")
    return "\n".join([*lines, "", *verdicts, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--same-process", action="store_true",
                        help="all runs of a job in one process, to tell a process's own "
                        "speed from the machine's drift")
    parser.add_argument("--one", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.runs < 2 or args.rounds < 1:
        parser.error("--runs must be at least 2 and --rounds at least 1")
    if args.one:
        run = cpu_run if args.one == "cpu" else http_run
        print(json.dumps(run(args.rounds, args.repeat)))
        return 0
    found: dict[str, list[dict[str, float]]] = {job: [] for job in JOBS}
    if args.same_process:
        for job in JOBS:
            found[job] = one_run(job, args.rounds, repeat=args.runs)
    else:
        for _ in range(args.runs):
            for job in JOBS:
                found[job] += one_run(job, args.rounds)
    text = report(found, args.runs, args.rounds, args.same_process)
    return emit(text.rstrip("\n") + "\n", args.out)


if __name__ == "__main__":
    raise SystemExit(main())
