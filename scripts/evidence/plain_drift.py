"""Does the suite move more from run to run than a plain script doing the same job?

Like for like, in one session: the suite (`pytest bench --benchmark-only`) and a plain
script take turns, A B B A ..., each a fresh process, each measuring the same two jobs the
same way:

- cpu: 16 sums of squares of n = 1,000,000 (the cpu workload), sequential against 16
  threads;
- http: 256 GETs of the project's test server (10 ms delay, 1 KiB body, the http
  workload's defaults) through `requests`, sequential against 16 threads with a session
  each;

in passes of the suite's plan (`--max-rounds R` gives a first pass of 6 rounds and later
ones of 4, with `--precision` and `--max-seconds` set so that no scenario stops early),
job by job, pass by pass, side by side, each side built anew and warmed with one
uncounted round before every pass, every counted round kept.  A run's figure is the
median of all its rounds; its speedup, sequential's median over the threads'.

For each side, how much a run's medians and speedups move from run to run: the SD on the
log scale over the runs, and the ratio of the two sides' SDs with its 95 % interval
(F distribution).  Every round is saved beside the output (`--rows` re-renders from it).

    python scripts/evidence/plain_drift.py [--runs 4] [--max-rounds 10] [--out FILE.md]
    python scripts/evidence/plain_drift.py --rows FILE.json [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.evidence import emit
from workloads.cpu import sum_of_squares

REPO = Path(__file__).resolve().parents[2]
JOBS = ("cpu", "http")
SIDES = ("sequential", "threads")
N = 1_000_000
CPU_TASKS, HTTP_TASKS, THREADS = 16, 256, 16
FIRST_PASS, LATER_PASS = 6, 4  # the suite's plan (bench.precision)
Rounds = dict[str, dict[str, list[float]]]  # job -> side -> every counted round (s)


def plan(max_rounds: int) -> list[int]:
    """Rounds per pass, as the suite's plan gives them for --max-rounds."""
    passes: list[int] = []
    done = 0
    while done < max_rounds:
        passes.append(min(FIRST_PASS if not passes else LATER_PASS, max_rounds - done))
        done += passes[-1]
    return passes


def started_pool(size: int) -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(size)
    everyone = threading.Barrier(size)
    wait([pool.submit(everyone.wait, 30) for _ in range(size)])
    return pool


def timed(side: Callable[[], object], rounds: int) -> list[float]:
    side()  # the pass's warm-up round, not counted
    found = []
    for _ in range(rounds):
        start = time.perf_counter()
        side()
        found.append(time.perf_counter() - start)
    return found


def cpu_pass(rounds: int, found: dict[str, list[float]]) -> None:
    with ThreadPoolExecutor(1) as home:
        found["sequential"] += timed(lambda: home.submit(
            lambda: [sum_of_squares(N) for _ in range(CPU_TASKS)]).result(), rounds)
    with started_pool(THREADS) as pool:
        found["threads"] += timed(
            lambda: wait([pool.submit(sum_of_squares, N) for _ in range(CPU_TASKS)]), rounds)


def getter(url: str) -> Callable[[], None]:
    """A GET of `url` through a session of the calling thread's own, made on first use."""
    import requests

    local = threading.local()

    def get() -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        reply = session.get(url, timeout=10)
        if reply.status_code != 200 or len(reply.content) != 1024:
            raise SystemExit(f"plain_drift: bad reply {reply.status_code}")

    return get


def http_pass(url: str, rounds: int, found: dict[str, list[float]]) -> None:
    with ThreadPoolExecutor(1) as home:
        get = getter(url)
        found["sequential"] += timed(
            lambda: home.submit(lambda: [get() for _ in range(HTTP_TASKS)]).result(), rounds)
    with started_pool(THREADS) as pool:
        each = getter(url)
        found["threads"] += timed(lambda: [done.result() for done in wait(
            [pool.submit(each) for _ in range(HTTP_TASKS)]).done], rounds)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plain_run(max_rounds: int) -> Rounds:
    """One run of the plain script, in this process: the test server in its own."""
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
        found: Rounds = {job: {side: [] for side in SIDES} for job in JOBS}
        for job in JOBS:
            for rounds in plan(max_rounds):
                if job == "cpu":
                    cpu_pass(rounds, found[job])
                else:
                    http_pass(url, rounds, found[job])
        return found
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def suite_run(max_rounds: int) -> Rounds:
    """One `pytest bench --benchmark-only` run of the same jobs; every counted round."""
    with tempfile.TemporaryDirectory(prefix="plain-drift-") as folder:
        out = Path(folder) / "run.json"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-q",
             "-p", "no:cacheprovider", "--workload", ",".join(JOBS),
             "--runner", ",".join(SIDES), "--concurrency", str(THREADS),
             "--http-client", "requests", "--max-rounds", str(max_rounds),
             "--precision", "0.001", "--max-seconds", "86400",
             f"--benchmark-json={out}"],
            capture_output=True, text=True, check=False, cwd=REPO)
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip())[-400:]
            raise SystemExit(f"plain_drift: the suite run failed: {said}")
        found: Rounds = {job: {side: [] for side in SIDES} for job in JOBS}
        for bench in json.loads(out.read_text())["benchmarks"]:
            info = bench["extra_info"]
            found[info["workload"]][info["runner"]] += list(bench["stats"]["data"])
        return found


def one_run(side: str, max_rounds: int) -> Rounds:
    if side == "suite":
        return suite_run(max_rounds)
    done = subprocess.run([sys.executable, __file__, "--one", "--max-rounds", str(max_rounds)],
                          capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"plain_drift: the plain run failed: {done.stderr.strip()[-300:]}")
    return dict(json.loads(done.stdout))


def log_sd(values: list[float]) -> float:
    return statistics.stdev([math.log(v) for v in values]) if len(values) > 1 else math.nan


def sd_ratio(suite: list[float], plain: list[float]) -> str:
    """The suite's SD over the plain script's, with its 95 % interval (F distribution)."""
    from scipy.stats import f

    a, b = log_sd(suite), log_sd(plain)
    if not (a > 0 and b > 0):
        return "-"
    dfa, dfb = len(suite) - 1, len(plain) - 1
    ratio = a / b
    low = ratio / math.sqrt(f.ppf(0.975, dfa, dfb))
    high = ratio / math.sqrt(f.ppf(0.025, dfa, dfb))
    return f"{ratio:.2f} ({low:.2f}-{high:.2f})"


def figures(run: Rounds, job: str) -> tuple[float, float, float]:
    seq = statistics.median(run[job]["sequential"])
    thr = statistics.median(run[job]["threads"])
    return seq, thr, seq / thr


def report(runs: list[dict[str, Any]], max_rounds: int) -> str:
    passes = plan(max_rounds)
    lines = ["# The suite and a plain script, like for like, in turns", "",
             f"Command: `python scripts/evidence/plain_drift.py --runs "
             f"{sum(r['side'] == 'suite' for r in runs)} --max-rounds {max_rounds}`. "
             f"Each run a fresh process; passes of {'+'.join(map(str, passes))} rounds, "
             "one warm-up round before each pass, every round kept; medians of all "
             "rounds, in ms. The rounds are in plain_drift.json.", "",
             "| turn | side | job | sequential (ms) | 16 threads (ms) | speedup | rounds |",
             "|---|---|---|---|---|---|---|"]
    for turn, run in enumerate(runs, 1):
        rounds: Rounds = run["rounds"]
        for job in JOBS:
            seq, thr, speedup = figures(rounds, job)
            lines.append(f"| {turn} | {run['side']} | {job} | {seq * 1e3:.1f} | "
                         f"{thr * 1e3:.1f} | {speedup:.3f} | "
                         f"{len(rounds[job]['sequential'])}+{len(rounds[job]['threads'])} |")
    lines += ["", "How much a run's figure moves from run to run (SD on the log scale over "
              "the runs of a side), and the suite's SD over the plain script's with its "
              "95 % interval:", "",
              "| job | figure | suite | plain | suite / plain (95 % CI) |", "|---|---|---|---|---|"]
    summary = []
    for job in JOBS:
        for index, figure in enumerate(("sequential median", "threads median", "speedup")):
            by_side = {side: [figures(r["rounds"], job)[index]
                              for r in runs if r["side"] == side] for side in ("suite", "plain")}
            lines.append(f"| {job} | {figure} | {log_sd(by_side['suite']):.1%} | "
                         f"{log_sd(by_side['plain']):.1%} | "
                         f"{sd_ratio(by_side['suite'], by_side['plain'])} |")
            if figure == "speedup":
                summary.append((job, by_side))
    lines.append("")
    for job, by_side in summary:
        a, b = log_sd(by_side["suite"]), log_sd(by_side["plain"])
        word = "more" if a > b else "less" if a < b else "as much"
        lines.append(f"- {job}: the suite's speedups moved {word} from run to run than the "
                     f"plain script's ({a:.1%} against {b:.1%}, SD on the log scale); "
                     f"{_told(by_side['suite'], by_side['plain'])}.")
    lines += [f"- {line}" for line in _farthest(runs)]
    return "\n".join(lines) + "\n"


def _told(suite: list[float], plain: list[float]) -> str:
    """Whether the F interval of the SD ratio tells the sides apart."""
    found = sd_ratio(suite, plain)
    if found == "-":
        return "one side did not move: not compared"
    low, high = (float(x) for x in found.split("(")[1].rstrip(")").split("-"))
    return ("the suite moved more (the ratio's interval is above 1)" if low > 1 else
            "the suite moved less (the ratio's interval is below 1)" if high < 1 else
            "with this many runs the two cannot be told apart (the interval holds 1)")


def _farthest(runs: list[dict[str, Any]]) -> list[str]:
    """Per job and side, the turn whose median lies farthest from all turns' median."""
    found = []
    for job in JOBS:
        for index, side in enumerate(SIDES):
            values = [figures(run["rounds"], job)[index] for run in runs]
            middle = statistics.median(values)
            turn = max(range(len(values)), key=lambda i: abs(math.log(values[i] / middle)))
            found.append(f"{job} {side}: the farthest turn from the median of all turns "
                         f"({middle * 1e3:.1f} ms) is turn {turn + 1} ({runs[turn]['side']}), "
                         f"{values[turn] * 1e3:.1f} ms ({values[turn] / middle - 1:+.0%}).")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs of each side")
    parser.add_argument("--max-rounds", type=int, default=10)
    parser.add_argument("--rows", type=Path, help="re-render from saved rounds")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.runs < 2 or not 6 <= args.max_rounds <= 30:
        parser.error("--runs must be at least 2 and --max-rounds 6 to 30")
    if args.one:
        print(json.dumps(plain_run(args.max_rounds)))
        return 0
    if args.rows:
        saved = json.loads(args.rows.read_text())
        return emit(report(saved["runs"], saved["max_rounds"]), args.out)
    order = [side for turn in range(args.runs)
             for side in (("suite", "plain") if turn % 2 == 0 else ("plain", "suite"))]
    runs: list[dict[str, Any]] = []
    for turn, side in enumerate(order, 1):
        print(f"turn {turn} of {len(order)}: {side}", file=sys.stderr, flush=True)
        runs.append({"side": side, "rounds": one_run(side, args.max_rounds)})
    if args.out:
        args.out.with_suffix(".json").write_text(
            json.dumps({"max_rounds": args.max_rounds, "runs": runs}) + "\n")
    return emit(report(runs, args.max_rounds), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
