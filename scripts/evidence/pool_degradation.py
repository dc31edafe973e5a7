"""A process pool at high C in service mode: is a longer run's worse p99 the model's, or ours?

    python scripts/evidence/pool_degradation.py [--out FILE.md]

The suite in service mode, as a user runs it from a folder outside the repository: the
process pool at C=32 and C=64, 300 requests per second, runs of 3 s and of 5 s, on two
jobs: the built-in `mixed` (a wait, then pure Python, no server) and the service-calling
example of docs/own-workload.md (an HTTP call to the test server, then pure Python).  Beside
each pool, a real gunicorn sync deployment of the same size (`app-gunicorn-sync`, C workers,
C connections from the load generator in its own process): the same jobs served one
request at a time per worker process.  Per row: the rate achieved, p99 from arrival, the
model's memory (the pool's added PSS, the deployment's own), CPU per request and the cores
everything kept busy (bench.report.service).  Read beside pool_heap.md (a plain
ProcessPoolExecutor script: the parent's heap, gc.freeze()).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.report.service import cores_busy  # noqa: E402
from scripts.evidence import emit  # noqa: E402

RATE = 300
JOBS = {
    "mixed": ["--workload", "mixed", "--mixed-wait-ms", "30", "--mixed-n", "60000"],
    "fetch_page": ["--workload", "myservice.py:FetchPage", "--param", "delay_ms=30",
                   "--param", "n=60000"],
}


def _example(folder: Path) -> None:
    text = (REPO / "docs" / "own-workload.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    (folder / "myservice.py").write_text(next(b for b in blocks if "class FetchPage(" in b))


CONCURRENCY = (32, 64)
# Each pool and the deployment of its size: a process pool of C workers, gunicorn with C
# sync workers, each loaded with C requests in flight at most.
MODELS = {"processes": [["--runner", "processes"]],
          "app-gunicorn-sync": [["--runner", "app-gunicorn-sync", "--app-workers", str(c)]
                                for c in CONCURRENCY]}


def _run(folder: Path, out: Path, args: list[str]) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "bench",
         "--benchmark-only", "-q", *args, f"--benchmark-json={out}"], cwd=folder,
        capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pool_degradation: the suite failed:\n{done.stdout[-2000:]}")
    return [bench["extra_info"] for bench in json.loads(out.read_text())["benchmarks"]]


def _row(job: str, model: str, seconds: int, info: dict[str, object]) -> dict[str, object]:
    memory = info.get("deployment_pss_mb") or info["runner_pss_mb"]
    return {"job": job, "model": model, "C": info["concurrency"], "seconds": seconds,
            "achieved (req/s)": round(float(info["achieved_rate"])),  # type: ignore[arg-type]
            "p99 (ms)": round(float(info["arrival_latency_p99_s"]) * 1000),  # type: ignore[arg-type]
            "PSS (MB)": round(float(memory)),  # type: ignore[arg-type]
            "CPU per request (ms)": round(float(info["cpu_per_request_s"]) * 1000, 2),  # type: ignore[arg-type]
            "cores busy": round(cores_busy(pd.Series({**info, "tasks_run": info["tasks"]})), 2),
            "late": info["late_requests"]}


def rows(folder: Path) -> list[dict[str, object]]:
    found = []
    for job, args in JOBS.items():
        for model, variants in MODELS.items():
            for seconds in (3, 5):
                for number, variant in enumerate(variants):
                    sizes = CONCURRENCY if len(variants) == 1 else CONCURRENCY[number:number + 1]
                    out = folder / f"{job}-{model}-{seconds}-{number}.json"
                    found += [_row(job, model, seconds, info) for info in _run(
                        folder, out, [*args, *variant, "--concurrency",
                                      ",".join(map(str, sizes)), "--rate", str(RATE),
                                      "--duration-s", str(seconds)])]
    return found


def findings(table: pd.DataFrame) -> str:
    """What the rows say, sentence by sentence, from the rows themselves: per job and model,
    whether p99 grew from the 3 s to the 5 s run, and how busy the machine was."""
    lines = []
    for (job, model), group in table.groupby(["job", "model"], sort=False):
        short, long = (group[group["seconds"] == s] for s in (3, 5))
        growth = (long["p99 (ms)"].to_numpy() / short["p99 (ms)"].to_numpy()).round(2)
        kept = "every run kept" if (group["achieved (req/s)"] >= 0.97 * RATE).all() else (
            "not every run kept")
        lines.append(
            f"- {job}, {model}: p99 from the 3 s to the 5 s run x{', x'.join(map(str, growth))} "
            f"(C={', '.join(map(str, short['C']))}); {kept} {RATE} req/s "
            f"(achieved {group['achieved (req/s)'].min()}-"
            f"{group['achieved (req/s)'].max()}); cores busy "
            f"{group['cores busy'].min()}-{group['cores busy'].max()} of 2; CPU per request "
            f"{group['CPU per request (ms)'].min()}-{group['CPU per request (ms)'].max()} ms.")
    return "\n".join(lines) + "\n\n" + _compared(table) + _saturated(table)


def _compared(table: pd.DataFrame) -> str:
    """gunicorn's sync workers against the pool of the same size, run by run."""
    keys = ["job", "C", "seconds"]
    pool = table[table["model"] == "processes"]
    app = table[table["model"] == "app-gunicorn-sync"]
    both = pool.merge(app, on=keys, suffixes=(" pool", " app"))
    if both.empty:
        return ""
    achieved = both["achieved (req/s) app"] / both["achieved (req/s) pool"]
    p99 = both["p99 (ms) app"] / both["p99 (ms) pool"]
    memory = both["PSS (MB) app"] / both["PSS (MB) pool"]
    return (f"gunicorn with C sync workers against the pool of C workers, over the "
            f"{len(both)} runs of the same job, C and length: achieved "
            f"x{achieved.min():.2f} to x{achieved.max():.2f} the pool's, p99 x{p99.min():.2f} "
            f"to x{p99.max():.2f}, memory x{memory.min():.1f} to x{memory.max():.1f}.\n\n")


SPARE = 1.8  # cores busy below this (of 2): the machine had CPU to spare


def _saturated(table: pd.DataFrame) -> str:
    """Whether p99 grew with the run's length where the machine had CPU to spare."""
    pairs = table.pivot_table(index=["job", "model", "C"], columns="seconds",
                              values=["p99 (ms)", "cores busy"])
    has_spare = (pairs[("cores busy", 3)] < SPARE) & (pairs[("cores busy", 5)] < SPARE)

    def grew(some: pd.DataFrame) -> str:
        growth = some[("p99 (ms)", 5)] / some[("p99 (ms)", 3)]
        return f"x{growth.min():.2f} to x{growth.max():.2f}" if len(some) else "-"
    return (f"Where both runs had CPU to spare (cores busy under {SPARE} of 2; "
            f"{int(has_spare.sum())} of {len(pairs)} pairs), the 5 s run's p99 was "
            f"{grew(pairs[has_spare])} the 3 s run's. In the other {int((~has_spare).sum())} "
            f"pairs at least one run had the machine full, the state in which a queue and "
            f"the p99 grow for as long as the run lasts; there the 5 s p99 was "
            f"{grew(pairs[~has_spare])} the 3 s run's.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=Path,
                        help="the rows a run saved beside its output (JSON); written when "
                             "measuring, read (nothing measured) when it exists")
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows.exists():
        found = json.loads(args.rows.read_text())
    else:
        with tempfile.TemporaryDirectory() as folder:
            _example(Path(folder))
            found = rows(Path(folder))
        if args.rows is not None:
            args.rows.write_text(json.dumps(found, indent=1) + "\n")
    table = pd.DataFrame(found)
    text = ("# The process pool at high C: 3 s against 5 s runs, and gunicorn of the same size"
            "\n\nCommand: `python scripts/evidence/pool_degradation.py --rows "
            "scripts/evidence/pool_degradation.json`; "
            f"{RATE} requests per second, fork pools of C workers and gunicorn with C sync "
            "workers, from a folder outside the repository.\n\n"
            + table.to_markdown(index=False) + "\n\n## What the rows say\n\n"
            + findings(table))
    return emit(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
