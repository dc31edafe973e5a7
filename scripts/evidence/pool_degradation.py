"""A process pool at high C in service mode: is a longer run's worse p99 the model's, or ours?

    python scripts/evidence/pool_degradation.py [--out FILE.md]

The suite in service mode, as a user runs it from a folder outside the repository: the
process pool at C=32 and C=64, 300 requests per second, runs of 3 s and of 5 s, on two
jobs: the built-in `mixed` (a wait, then pure Python, no server) and the service-calling
example of docs/own-workload.md (an HTTP call to the test server, then pure Python).  Per
row: the rate achieved, p99 from arrival, the runner's memory, CPU per request and the
cores the client and the server kept busy (bench.report.service).  Read beside
pool_heap.md (a plain ProcessPoolExecutor script: the parent's heap, gc.freeze()).
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


def rows(folder: Path) -> list[dict[str, object]]:
    found = []
    for job, args in JOBS.items():
        for seconds in (3, 5):
            out = folder / f"{job}-{seconds}.json"
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "bench",
                 "--benchmark-only", "-q", *args, "--runner", "processes", "--concurrency",
                 "32,64", "--rate", str(RATE), "--duration-s", str(seconds),
                 f"--benchmark-json={out}"], cwd=folder, capture_output=True, text=True,
                timeout=600, check=False)
            if done.returncode != 0:
                raise SystemExit(f"pool_degradation: the suite failed:\n{done.stdout[-2000:]}")
            for bench in json.loads(out.read_text())["benchmarks"]:
                info = bench["extra_info"]
                found.append({
                    "job": job, "C": info["concurrency"], "seconds": seconds,
                    "achieved (req/s)": round(info["achieved_rate"]),
                    "p99 (ms)": round(info["arrival_latency_p99_s"] * 1000),
                    "runner PSS (MB)": round(info["runner_pss_mb"]),
                    "CPU per request (ms)": round(info["cpu_per_request_s"] * 1000, 2),
                    "cores busy": round(cores_busy(pd.Series({**info,
                                                              "tasks_run": info["tasks"]})),
                                        2),
                    "late": info["late_requests"]})
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        _example(Path(folder))
        found = rows(Path(folder))
    text = ("# The process pool at high C: 3 s against 5 s runs\n\nCommand: `python "
            "scripts/evidence/pool_degradation.py`; "
            f"{RATE} requests per second, fork pools, from a folder outside the repository."
            "\n\n" + pd.DataFrame(found).to_markdown(index=False) + "\n")
    return emit(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
