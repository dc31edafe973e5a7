"""Where does Dask lose to the process pool on 16 cpu tasks at C=2?  A probe over runs.

Reads pytest-benchmark JSON files of
`pytest bench --benchmark-only --workload cpu --runner sequential,processes,dask --tasks 16
--concurrency 2 --cpu-n 1000000` and prints, per run, Dask's speedup as a share of the process
pool's (with its 95 % interval), and beside it what each runner costs: one task's service
time in a full round and alone on the open runner, the client's processes' CPU and context
switches per round, and a no-op task's round trip.

    python scripts/evidence/dask_gap.py RUN.json [RUN.json ...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import pandas as pd

from bench.stats import ratio_interval
from scripts.evidence import emit

RUNNERS = ("sequential", "processes", "dask")


def rows_of(path: Path) -> list[dict[str, object]]:
    data = json.loads(path.read_text())
    rounds: dict[str, list[float]] = {}
    first: dict[str, dict[str, Any]] = {}
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        rounds.setdefault(info["runner"], []).extend(bench["stats"]["data"])
        if info.get("pass_index", 1) == 1:
            first[info["runner"]] = info
    missing = [runner for runner in RUNNERS if runner not in rounds]
    if missing:
        raise SystemExit(f"dask_gap: {path} has no {', '.join(missing)} rows")
    median = {runner: statistics.median(rounds[runner]) for runner in RUNNERS}
    interval = ratio_interval([rounds["processes"]], [rounds["dask"]])
    share = (interval.low, interval.high) if interval.known else None
    found = []
    for runner in RUNNERS:
        info = first[runner]
        overhead = info.get("task_overhead_s")
        found.append({
            "run": path.stem, "runner": runner, "median (ms)": median[runner] * 1e3,
            "speedup": median["sequential"] / median[runner],
            "dask / processes speedup": "" if runner != "dask" or share is None else
            f"{median['processes'] / median['dask']:.3f} ({share[0]:.3f}-{share[1]:.3f})",
            "task in a full round p50 (ms)": float(info["latency_p50_s"]) * 1e3,
            "task alone (ms)": float(info["solo_task_s"] or 0) * 1e3,
            "client CPU / round (s)": info["cpu_s"],
            "switches / round": info.get("ctx_switches"),
            "no-op round trip (ms)": None if overhead is None else float(overhead) * 1e3,
        })
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    for path in args.runs:
        if not path.is_file():
            parser.error(f"{path}: no such file")
    table = pd.DataFrame([row for path in args.runs for row in rows_of(path)])
    text = table.to_markdown(index=False, floatfmt=".3g") + "\n"
    return emit(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
