"""Do GIL threads on CPU work cost more under the suite than in a plain script?

The same job both ways, taking turns (A B B A ...), each a fresh process: eight sums of
squares of n = 1,000,000 (the cpu workload), in a loop against a warmed pool of C threads,
one warm-up and three counted rounds each.  A turn's figures are threads / sequential of
the median round, in wall time and in CPU time:

- plain: a script of its own (`ThreadPoolExecutor(C).map`, `time.perf_counter` and
  `time.process_time`);
- suite: `pytest --pyargs bench --benchmark-only --workload cpu --runner
  sequential,threads --concurrency C --tasks 8 --rounds 3`, from a folder outside the
  repository, its medians and `cpu_s`.

With the GIL the pool cannot beat the loop, and it should not cost more either: both sides
should give about 1.0.  `--suite-env NAME=VALUE` sets a variable for the suite's side
only (to switch a suspect off), `--python` measures another interpreter (the project's
packages must import there).  Every turn is saved beside the output (`--rows` re-renders).

    python scripts/evidence/gil_threads.py [--runs 20] [--concurrency 2] [--python PATH]
        [--suite-env NAME=VALUE ...] [--out FILE.md]
    python scripts/evidence/gil_threads.py --rows FILE.json [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.evidence import emit

REPO = Path(__file__).resolve().parents[2]
TASKS, N, ROUNDS = 8, 1_000_000, 3
TOLERANCE = 0.10  # a suite turn within 10 % of the plain turns' median counts as matched
PLAIN = f"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, {str(REPO)!r})
from workloads.cpu import sum_of_squares
C = int(sys.argv[1])
pool = ThreadPoolExecutor(C)
list(pool.map(lambda _: None, range(C)))
def sequential():
    for _ in range({TASKS}):
        sum_of_squares({N})
def threads():
    list(pool.map(sum_of_squares, [{N}] * {TASKS}))
found = {{}}
for name, job in (("sequential", sequential), ("threads", threads)):
    job()
    walls, cpus = [], []
    for _ in range({ROUNDS}):
        wall, cpu = time.perf_counter(), time.process_time()
        job()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    found[name] = {{"wall": sorted(walls)[len(walls) // 2], "cpu": sorted(cpus)[len(cpus) // 2]}}
print(json.dumps(found))
"""


def plain_turn(python: str, concurrency: int) -> dict[str, Any]:
    done = subprocess.run([python, "-c", PLAIN, str(concurrency)], capture_output=True,
                          text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout))


def suite_turn(python: str, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gil-threads-") as folder:
        out = Path(folder) / "run.json"
        done = subprocess.run(
            [python, "-m", "pytest", "--pyargs", "bench", "--benchmark-only", "-q",
             "-p", "no:cacheprovider", "--workload", "cpu", "--runner", "sequential,threads",
             "--concurrency", str(concurrency), "--tasks", str(TASKS), "--cpu-n", str(N),
             "--rounds", str(ROUNDS), f"--benchmark-json={out}"],
            cwd=folder, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": str(REPO), **env})
        if done.returncode != 0:
            raise SystemExit(f"the suite failed: {(done.stdout + done.stderr)[-2000:]}")
        rows = {b["extra_info"]["runner"]: b for b in json.loads(out.read_text())["benchmarks"]}
    return {name: {"wall": row["stats"]["median"],
                   "cpu": row["extra_info"]["cpu_s"]}  # per round (bench.record)
            for name, row in rows.items()}


def ratios(turn: dict[str, Any]) -> tuple[float, float]:
    """threads / sequential, wall and CPU."""
    seq, thr = turn["sequential"], turn["threads"]
    return thr["wall"] / seq["wall"], thr["cpu"] / seq["cpu"]


def _shown(python: str) -> str:
    """The interpreter as the page names it: relative to the repository where it is in it
    (the project's .venv), so the page names no machine's folders."""
    path = Path(python).absolute()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else python


def render(rows: list[dict[str, Any]]) -> str:
    lines = [f"# GIL threads on CPU work: the suite against a plain script ({len(rows)} turns)",
             "", "| turn | side | C | threads / sequential, wall | CPU |", "|---|---|---|---|---|"]
    for index, row in enumerate(rows, 1):
        wall, cpu = ratios(row)
        lines.append(f"| {index} | {row['side']} | {row['concurrency']} | {wall:.3f} | "
                     f"{cpu:.3f} |")
    lines += ["", "| C | side | turns | wall: median (range) | CPU: median (range) | "
              "within ±10 % of plain's median |", "|---|---|---|---|---|---|"]
    for concurrency in sorted({row["concurrency"] for row in rows}):
        mine = [row for row in rows if row["concurrency"] == concurrency]
        plain = [ratios(row) for row in mine if row["side"] == "plain"]
        middle = (statistics.median(r[0] for r in plain), statistics.median(r[1] for r in plain)) \
            if plain else (float("nan"), float("nan"))
        for side in ("plain", "suite"):
            found = [ratios(row) for row in mine if row["side"] == side]
            if not found:
                continue
            walls, cpus = [r[0] for r in found], [r[1] for r in found]
            within = sum(abs(w / middle[0] - 1) <= TOLERANCE and abs(c / middle[1] - 1)
                         <= TOLERANCE for w, c in found)
            lines.append(f"| {concurrency} | {side} | {len(found)} | {statistics.median(walls):.3f}"
                         f" ({min(walls):.3f}-{max(walls):.3f}) | {statistics.median(cpus):.3f} "
                         f"({min(cpus):.3f}-{max(cpus):.3f}) | {within} of {len(found)} |")
    settings = sorted({json.dumps(row.get("suite_env", {})) for row in rows})
    lines += ["", f"Suite side's extra environment: {', '.join(settings)}; Python: "
              f"{', '.join(sorted({row['python'] for row in rows}))}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="turns of each side")
    parser.add_argument("--concurrency", type=int, action="append",
                        help="C (repeatable; default 2)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--suite-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rows", type=Path, help="re-render saved turns")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.rows is not None:
        return emit(render(json.loads(args.rows.read_text())), args.out)
    env = dict(item.split("=", 1) for item in args.suite_env)
    rows: list[dict[str, Any]] = []
    for turn in range(args.runs):
        for concurrency in args.concurrency or [2]:
            order = ("suite", "plain") if turn % 2 == 0 else ("plain", "suite")
            for side in order:
                found = suite_turn(args.python, concurrency, env) if side == "suite" \
                    else plain_turn(args.python, concurrency)
                rows.append({"side": side, "concurrency": concurrency, "at": time.time(),
                             "python": _shown(args.python), "suite_env": env if side == "suite"
                             else {}, **found})
                wall, cpu = ratios(rows[-1])
                print(f"turn {turn + 1} C={concurrency} {side}: wall {wall:.3f} cpu {cpu:.3f}",
                      file=sys.stderr, flush=True)
    if args.out is not None:
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    return emit(render(rows), args.out)


if __name__ == "__main__":
    sys.exit(main())
