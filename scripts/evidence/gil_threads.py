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
should give about 1.0.  The page then gives the suite's median over the plain script's with
a 95 % bootstrap interval over the turns (above 1 by more than its interval: the suite adds
a cost), and what each side's process had set while its threads ran (switch interval, trace
and profile hooks, the collector, native threads, CPU affinity, -X options, the allocator,
modules imported): a suspect both sides share cannot make a difference between them.
`--suite-env NAME=VALUE` sets a variable for the suite's side only (to switch a suspect
off), `--python` measures another interpreter (the project's packages must import there).
Every turn is saved beside the output (`--rows` re-renders).

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
STATE
before_pool = state()
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
found["state"] = before_pool
print(json.dumps(found))
"""
# What a process can set that changes how GIL threads run, read just before the threads
# scenario on both sides: the suspects the suite's process could differ in.
STATE = """
def state():
    import gc, os, sys, threading
    tasks = os.listdir("/proc/self/task")
    return {"switch interval (s)": sys.getswitchinterval(),
            "trace or profile hook": any(hook is not None for hook in (
                sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile())),
            "collector enabled, thresholds": [gc.isenabled(), *gc.get_threshold()],
            "native threads (besides the pool)": len(tasks),
            "CPU affinity": sorted(os.sched_getaffinity(0)),
            "-X options, PYTHONMALLOC": [sorted(sys._xoptions), os.environ.get("PYTHONMALLOC")],
            "modules imported": len(sys.modules)}
"""
PLUGIN = STATE + """
import json, os, pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if "-threads-" in item.name:
        with open(os.environ["GIL_THREADS_STATE"], "w") as out:
            json.dump(state(), out)
    yield
"""


def plain_turn(python: str, concurrency: int) -> dict[str, Any]:
    done = subprocess.run([python, "-c", PLAIN.replace("STATE", STATE), str(concurrency)],
                          capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout))


def suite_turn(python: str, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gil-threads-") as folder:
        out, seen = Path(folder) / "run.json", Path(folder) / "state.json"
        (Path(folder) / "gil_threads_state.py").write_text(PLUGIN)
        done = subprocess.run(
            [python, "-m", "pytest", "--pyargs", "bench", "--benchmark-only", "-q",
             "-p", "no:cacheprovider", "-p", "gil_threads_state", "--workload", "cpu",
             "--runner", "sequential,threads",
             "--concurrency", str(concurrency), "--tasks", str(TASKS), "--cpu-n", str(N),
             "--rounds", str(ROUNDS), f"--benchmark-json={out}"],
            cwd=folder, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), folder]),
                 "GIL_THREADS_STATE": str(seen), **env})
        if done.returncode != 0:
            raise SystemExit(f"the suite failed: {(done.stdout + done.stderr)[-2000:]}")
        rows = {b["extra_info"]["runner"]: b for b in json.loads(out.read_text())["benchmarks"]}
        state = json.loads(seen.read_text())
    return {**{name: {"wall": row["stats"]["median"],
                      "cpu": row["extra_info"]["cpu_s"]}  # per round (bench.record)
               for name, row in rows.items()}, "state": state}


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
    lines += state_table(rows)
    lines += contrast(rows)
    settings = sorted({json.dumps(row.get("suite_env", {})) for row in rows})
    lines += ["", f"Suite side's extra environment: {', '.join(settings)}; Python: "
              f"{', '.join(sorted({row['python'] for row in rows}))}.", ""]
    return "\n".join(lines)


def _ratio_of_medians(suite: Any, plain: Any, axis: int = -1) -> Any:
    import numpy as np
    return np.median(suite, axis=axis) / np.median(plain, axis=axis)


def contrast(rows: list[dict[str, Any]]) -> list[str]:
    """The suite's median threads / sequential over the plain script's, with a 95 %
    bootstrap interval over the turns: above 1 by more than its interval, the suite adds
    cost the plain script does not have."""
    from scipy.stats import bootstrap
    lines = ["", "| C | measure | suite / plain (median of turns) | 95 % interval |",
             "|---|---|---|---|"]
    for concurrency in sorted({row["concurrency"] for row in rows}):
        mine = [row for row in rows if row["concurrency"] == concurrency]
        for index, measure in enumerate(("wall", "CPU")):
            sides = [[ratios(row)[index] for row in mine if row["side"] == side]
                     for side in ("suite", "plain")]
            if min(map(len, sides)) < 3:
                continue
            found = bootstrap(sides, _ratio_of_medians, n_resamples=4000, vectorized=True,
                              random_state=0, method="percentile")
            low, high = found.confidence_interval
            point = _ratio_of_medians(sides[0], sides[1])
            lines.append(f"| {concurrency} | {measure} | {point:.3f} | {low:.3f}-{high:.3f} |")
    return lines


def state_table(rows: list[dict[str, Any]]) -> list[str]:
    """Each suspect as each side had it while its threads ran (every value seen, over the
    turns): where the two sides agree, that suspect cannot make a difference between them."""
    sides = {side: [row["state"] for row in rows if row["side"] == side and "state" in row]
             for side in ("plain", "suite")}
    if not all(sides.values()):
        return []
    lines = ["", "What each side's process had set while its threads ran (every value seen):",
             "", "| suspect | plain script | suite | same |", "|---|---|---|---|"]
    for key in sides["plain"][0]:
        seen = {side: sorted({json.dumps(state.get(key)) for state in states})
                for side, states in sides.items()}
        same = "yes" if seen["plain"] == seen["suite"] else "no"
        lines.append(f"| {key} | {', '.join(seen['plain'])} | {', '.join(seen['suite'])} | "
                     f"{same} |")
    return lines


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
    python = os.path.abspath(args.python)  # the turns run from a folder of their own
    rows: list[dict[str, Any]] = []
    for turn in range(args.runs):
        for concurrency in args.concurrency or [2]:
            order = ("suite", "plain") if turn % 2 == 0 else ("plain", "suite")
            for side in order:
                found = suite_turn(python, concurrency, env) if side == "suite" \
                    else plain_turn(python, concurrency)
                rows.append({"side": side, "concurrency": concurrency, "at": time.time(),
                             "python": _shown(python), "suite_env": env if side == "suite"
                             else {}, **found})
                wall, cpu = ratios(rows[-1])
                print(f"turn {turn + 1} C={concurrency} {side}: wall {wall:.3f} cpu {cpu:.3f}",
                      file=sys.stderr, flush=True)
    if args.out is not None:
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    return emit(render(rows), args.out)


if __name__ == "__main__":
    sys.exit(main())
